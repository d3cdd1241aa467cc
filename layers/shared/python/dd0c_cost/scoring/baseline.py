"""Per-series running statistics (Welford) and the slice's z-score decision with a cold-start rule."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dd0c_cost.scoring.models import ScoreComponent, Severity


@dataclass
class SpendBaseline:
    """Welford running mean/variance of the spend-rate increases one series has seen."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def update(self, x: float) -> None:
        if not math.isfinite(x):
            return  # never let a bad value poison the baseline
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 = max(0.0, self.m2 + delta * (x - self.mean))

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0


@dataclass(frozen=True)
class Thresholds:
    min_samples: int
    z_threshold: float
    alert_floor_usd_per_hour: float
    cold_start_floor_usd_per_hour: float


@dataclass(frozen=True)
class Decision:
    is_anomaly: bool
    score: float
    components: tuple[ScoreComponent, ...]


def severity_for(usd_per_hour: float) -> Severity:
    if usd_per_hour >= 50:
        return Severity.CRITICAL
    if usd_per_hour >= 10:
        return Severity.HIGH
    if usd_per_hour >= 2:
        return Severity.MEDIUM
    return Severity.LOW


def decide(baseline: SpendBaseline, x: float, t: Thresholds) -> Decision:
    """Score an increase of ``x`` $/h against the series' history (before updating it)."""
    if not math.isfinite(x) or x <= 0:
        reason = "spend went down or did not change: decreases are never anomalies"
        return Decision(False, 0.0, (ScoreComponent(name="zscore", value=0.0, reason=reason),))
    if baseline.n < t.min_samples:
        score = x / (x + t.cold_start_floor_usd_per_hour)
        reason = (
            f"cold start: {baseline.n} earlier events in this series (< {t.min_samples}); "
            f"${x:,.2f}/h against a ${t.cold_start_floor_usd_per_hour:,.2f}/h floor"
        )
        return Decision(x >= t.cold_start_floor_usd_per_hour, score, (ScoreComponent(name="cold_start", value=score, reason=reason),))
    # A series of identical launches has zero variance; a floor keeps z finite and meaningful.
    std = max(baseline.std, 0.1 * abs(baseline.mean), 0.01)
    z = (x - baseline.mean) / std
    score = max(0.0, z) / (max(0.0, z) + t.z_threshold)
    reason = f"${x:,.2f}/h is {z:,.1f} standard deviations above this series' usual ${baseline.mean:,.2f}/h (n={baseline.n})"
    is_anomaly = z >= t.z_threshold and x >= t.alert_floor_usd_per_hour
    return Decision(is_anomaly, score, (ScoreComponent(name="zscore", value=score, reason=reason),))
