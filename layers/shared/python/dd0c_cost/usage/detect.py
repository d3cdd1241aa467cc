"""The usage path's detector: ``scoring.streaming.StreamingDetector`` with the parameters
``bench nab`` measures (``USAGE_PARAMS`` is ``NAB_PARAMS``, and ``bench nab`` builds its detector
with :func:`new_detector`), one per spend series, its state persisted between polls.

A point alerts when all of these hold:
- the detector's score is at least the tenant's ``alert_score`` (0.5 = a 1-in-10^5 event for
  this series; a rate beyond the range seen so far scores 1);
- the rate rose at least ``alert_floor_usd_per_hour`` above the detector's baseline (its
  decayed, winsorised mean before the point): usage anomalies are about paying more;
- the point is recent (not older than the poll's alert window): history read on the first
  poll of a series trains the detector and raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dd0c_cost.scoring.models import ScoreComponent, Severity
from dd0c_cost.scoring.streaming import NAB_PARAMS, DetectorParams, StreamingDetector
from dd0c_cost.usage.billing import RatePoint

USAGE_PARAMS: DetectorParams = NAB_PARAMS
HOURS_PER_MONTH = 730.0


def new_detector(value_range: tuple[float, float] | None = None) -> StreamingDetector:
    """The detector of one usage series (``bench nab`` builds its detector here too, passing
    each NAB file's range, which NAB allows; a billing series has none to give)."""
    return StreamingDetector(USAGE_PARAMS, value_range=value_range, allow_negative=False)


def restore(state: dict | None) -> StreamingDetector:
    if not state:
        return new_detector()
    detector = StreamingDetector.from_state(state)
    if detector.p != USAGE_PARAMS:  # parameters changed since the state was saved: start again
        return new_detector()
    return detector


def baseline_of(detector: StreamingDetector) -> float | None:
    """The detector's decayed baseline rate (before the next point), or None before any point."""
    if detector.n == 0 or detector.origin is None:
        return None
    return detector.origin + detector.b_mean


@dataclass(frozen=True)
class UsageThresholds:
    alert_score: float = 0.5
    alert_floor_usd_per_hour: float = 1.0


@dataclass(frozen=True)
class Judged:
    point: RatePoint
    score: float
    reason: str
    baseline: float | None
    components: dict[str, float]
    alert: bool

    @property
    def increase(self) -> float:
        return (self.point.rate_per_hour or 0.0) - (self.baseline or 0.0)


def judge(
    detector: StreamingDetector, point: RatePoint, thresholds: UsageThresholds, alert_after: datetime | None
) -> Judged:
    """Score one rate point (scored kinds only go to the detector) and decide whether it alerts."""
    baseline = baseline_of(detector)
    if not point.scored:
        return Judged(point, 0.0, point.note or point.kind, baseline, {}, False)
    result = detector.update(point.at.timestamp(), float(point.rate_per_hour))
    rise = float(point.rate_per_hour) - (baseline if baseline is not None else float(point.rate_per_hour))
    alert = (
        result.score >= thresholds.alert_score
        and baseline is not None
        and rise >= thresholds.alert_floor_usd_per_hour
        and (alert_after is None or point.at >= alert_after)
    )
    return Judged(point, result.score, result.reason, baseline, dict(result.components), alert)


def severity_for(monthly_increase: float) -> Severity:
    """By the projected monthly impact of the rise."""
    if monthly_increase >= 10_000:
        return Severity.CRITICAL
    if monthly_increase >= 2_000:
        return Severity.HIGH
    if monthly_increase >= 500:
        return Severity.MEDIUM
    return Severity.LOW


def components(judged: Judged, currency: str) -> list[ScoreComponent]:
    """The detector's parts, each with a reason a person can read."""
    c = judged.components
    rate, base = judged.point.rate_per_hour or 0.0, judged.baseline or 0.0
    out = [
        ScoreComponent(
            name="usage",
            value=round(min(max(judged.score, 0.0), 1.0), 4),
            reason=f"spend rate {rate:,.2f} {currency}/h against a baseline of {base:,.2f} {currency}/h: {judged.reason}",
        )
    ]
    for name, label in (
        ("spatial", "rate beyond the range seen so far"),
        ("novelty", "rate moved where this series has not gone before"),
        ("level", "rate far from its recent baseline"),
        ("seasonal", "rate unusual for this hour of the day"),
    ):
        value = c.get(name)
        if value:
            out.append(ScoreComponent(name=name, value=round(min(max(value, 0.0), 1.0), 4), reason=label))
    return out
