"""What scoring a cost event came to (``scorer.score_cost_events`` returns one per event)."""

from __future__ import annotations

from dataclasses import dataclass

from dd0c_cost.scoring.models import Anomaly, ScoreComponent


@dataclass(slots=True)
class ScoreResult:
    """Built once per event and not changed afterwards. Not frozen: a frozen dataclass sets each of its
    eleven fields through ``object.__setattr__``, four times the cost of building it (decision 103)."""

    anomaly: Anomaly | None
    revision: int = 1
    needs_notify: bool = False
    already_scored: bool = False
    # "scored" | "anomaly" (raised one) | "grouped" (grew one) | "ignored" | "already_scored" | "error"
    outcome: str = "scored"
    reason: str | None = None  # reason code for "ignored", e.g. "non_finite_price"
    detail: str | None = None
    score: float | None = None
    values: dict[str, float] | None = None  # every component's value (also stored on the cost event)
    components: tuple[ScoreComponent, ...] = ()  # with reasons: for events that raised or grew an anomaly
    error: BaseException | None = None


def failed(results: list, indexes: list[int], exc: BaseException) -> list:
    """The events at ``indexes`` failed with ``exc`` (none of their state changed)."""
    for i in indexes:
        results[i] = ScoreResult(None, outcome="error", reason=type(exc).__name__, detail=str(exc), error=exc)
    return results
