"""The running spend-rate level of a series and its time-weighted running statistics.

A series' *level* is the $/h its cost events imply: a create/start adds its rate, a stop/delete
removes it (never below 0, e.g. a stop of something launched before we were watching). The
statistics describe the level over EVENT time: when the next event arrives at ``t``, the level
held since the previous event is folded in with weight ``dt`` (hours), so a level held for a
week counts a week, not one sample. The update is West's weighted form of Welford's algorithm
with exponential forgetting (half-life ``halflife_h``):

    W  <- W * g + dt            g = 2^(-dt / halflife_h)   (m2 is scaled by g too)
    d  =  level - mean
    mean <- mean + d * dt / W
    m2 <- m2 * g + dt * d * (level - mean)     (= dt * d^2 * (1 - dt/W) >= 0, clamped at 0)

so ``var = m2 / W`` can never go negative. Non-finite input is refused by the caller
(``observation.sanitize``) and ignored here as a second line of defence.
"""

from __future__ import annotations

import math

from dd0c_cost.scoring.models import Severity

SECONDS_PER_HOUR = 3600.0


class LevelBaseline:
    """Running level ($/h) and its time-weighted, forgetting Welford statistics."""

    __slots__ = ("first_t", "level", "m2", "mean", "n", "t_last", "w")

    def __init__(
        self,
        n: int = 0,
        mean: float = 0.0,
        m2: float = 0.0,
        w: float = 0.0,
        level: float = 0.0,
        t_last: float | None = None,
        first_t: float | None = None,
    ) -> None:
        self.n = int(n)
        self.mean = float(mean)
        self.m2 = max(0.0, float(m2))
        self.w = max(0.0, float(w))
        self.level = max(0.0, float(level))
        self.t_last = t_last
        self.first_t = first_t
        if not all(map(math.isfinite, (self.mean, self.m2, self.w, self.level))):
            # A corrupt row must not poison scoring: start this baseline again.
            self.n, self.mean, self.m2, self.w, self.level = 0, 0.0, 0.0, 0.0, 0.0

    def fold_to(self, t: float, halflife_h: float) -> None:
        """Fold the level held since the last event (up to event time ``t``) into the statistics.

        An event older than the last one folds nothing (its change still applies to the level)."""
        if self.first_t is None or t < self.first_t:
            self.first_t = t
        last = self.t_last
        if last is None:
            self.t_last = t
            return
        if t <= last:
            return
        dt = (t - last) / SECONDS_PER_HOUR
        self.t_last = t
        g = 2.0 ** (-dt / halflife_h) if halflife_h > 0 else 1.0
        w = self.w * g + dt
        d = self.level - self.mean
        mean = self.mean + d * dt / w
        inc = dt * d * (self.level - mean)
        self.m2 = self.m2 * g + (inc if inc > 0.0 else 0.0)
        self.mean = mean
        self.w = w

    def apply(self, x: float) -> None:
        """The event's signed change of spend rate; the level never goes below zero."""
        if not math.isfinite(x):
            return
        level = self.level + x
        self.level = level if level > 1e-9 else 0.0
        self.n += 1

    @property
    def var(self) -> float:
        return self.m2 / self.w if self.w > 0.0 else 0.0

    @property
    def sd(self) -> float:
        return math.sqrt(self.var)

    def history_hours(self, t: float) -> float:
        return 0.0 if self.first_t is None else max(0.0, (t - self.first_t) / SECONDS_PER_HOUR)

    def zscore(self, new_level: float, abs_floor: float, rel_floor: float) -> tuple[float, float]:
        """(z, sd used) of ``new_level`` against the usual level; sd has floors so a flat
        history does not turn a cent into a six-sigma event."""
        sd = max(self.sd, rel_floor * abs(self.mean), abs_floor, 1e-9)
        return (new_level - self.mean) / sd, sd


_SEVERITY_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


def severity_for(usd_per_hour: float) -> Severity:
    """Severity by dollars: >= $50/h critical, >= $10/h high, >= $2/h medium, else low."""
    if usd_per_hour >= 50:
        return Severity.CRITICAL
    if usd_per_hour >= 10:
        return Severity.HIGH
    if usd_per_hour >= 2:
        return Severity.MEDIUM
    return Severity.LOW


def severity_rank(severity: Severity) -> int:
    return _SEVERITY_ORDER.index(severity)


def composite_severity(usd_per_hour: float, score: float, threshold: float) -> Severity:
    """Dollar tier, one step lower when the score only just passed the threshold (< threshold + 0.15)."""
    rank = severity_rank(severity_for(usd_per_hour))
    if score < threshold + 0.15 and rank > 0:
        rank -= 1
    return _SEVERITY_ORDER[rank]
