"""How the components combine into one score, and the evaluation ``engine.step`` returns.

p = pattern, f = feedback
score = (1 - (1 - z(1-p)) (1 - r(1-p)) (1 - c(1-p)) (1 - n)) * (1 - f)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dd0c_cost.scoring.components import Part
from dd0c_cost.scoring.models import ScoreComponent, Severity


@dataclass(slots=True)
class Evaluation:
    score: float
    parts: tuple[Part, ...]
    action: str = "none"  # "none" | "create" | "grow"
    anomaly_id: str | None = None
    bump: bool = False  # the anomaly changed enough to be re-posted
    severity: Severity = Severity.LOW
    burst: dict[str, Any] | None = None  # the burst (live state) for the anomaly row
    new_event_ids: list[str] = field(default_factory=list)
    new_resource_ids: list[str] = field(default_factory=list)
    _components: tuple[ScoreComponent, ...] | None = None

    @property
    def values(self) -> dict[str, float]:
        return {name: value for name, value, _ in self.parts}

    @property
    def components(self) -> tuple[ScoreComponent, ...]:
        if self._components is None:
            self._components = as_components(self.rendered())
        return self._components

    def rendered(self) -> tuple[tuple[str, float, str], ...]:
        return render(self.parts)


def render(parts: tuple[Part, ...]) -> tuple[tuple[str, float, str], ...]:
    """(name, value, reason) of each part, its reason rendered (from the numbers it captured when scored)."""
    return tuple((n, v, r()) for n, v, r in parts)


def as_components(rendered: tuple[tuple[str, float, str], ...]) -> tuple[ScoreComponent, ...]:
    return tuple(ScoreComponent.model_construct(name=n, value=v, reason=r) for n, v, r in rendered)


def _noisy_or(values: Iterable[float]) -> float:
    keep = 1.0
    for v in values:
        keep *= 1.0 - min(1.0, max(0.0, v))
    return 1.0 - keep


def score_of(parts: tuple[Part, ...]) -> float:
    """The documented combination of the six parts, in ``COMPONENT_ORDER``, to 4 decimals."""
    z, r, p, nv, c, f = parts[0][1], parts[1][1], parts[2][1], parts[3][1], parts[4][1], parts[5][1]
    keep = 1.0 - p
    score = (1.0 - (1.0 - z * keep) * (1.0 - r * keep) * (1.0 - c * keep) * (1.0 - nv)) * (1.0 - f)
    return round(score, 4) if score else score  # (a zero needs no rounding, the usual score)


def combine(values: dict[str, float]) -> float:
    """The documented combination (module docstring)."""
    p = values.get("pattern", 0.0)
    keep = 1.0 - p
    evidence = _noisy_or(
        (
            values.get("zscore", 0.0) * keep,
            values.get("rate", 0.0) * keep,
            values.get("cold_start", 0.0) * keep,
            values.get("novelty", 0.0),
        )
    )
    return min(1.0, max(0.0, evidence * (1.0 - values.get("feedback", 0.0))))


SEVERITIES = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
