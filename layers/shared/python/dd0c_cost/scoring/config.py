"""Scoring parameters: package defaults, process overrides (environment, via Settings) and
per-tenant overrides (the ``dd0c.tenant_settings`` row). Precedence: tenant row > Settings > here.

Every figure is documented in ``docs/scoring.md`` ("Composite anomaly scorer").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

HOURS_PER_MONTH = 730.0


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    # --- alert gate: BOTH must hold ------------------------------------------------------------
    # $1.00/h = $730/month, so an unplanned increase of $1,000/month ($1.37/h) is never under it.
    alert_floor_usd_per_hour: float = 1.0
    score_threshold: float = 0.5

    # --- cold start (series or tenant with less than cold_start_days of EVENT-time history) -----
    cold_start_days: float = 7.0
    cold_start_usd_per_hour: float = 5.0  # the hourly rule reaches 0.5 here
    cold_start_resources: float = 10.0  # "many at once": the quantity rule reaches 0.5 here
    cold_start_large_size: int = 16  # 16xlarge and up (and metal) count as very large

    # --- z-score of the series (and tenant) spend-rate level ------------------------------------
    z_half: float = 3.0  # z at which the z component is 0.5 (value = z^2 / (z^2 + z_half^2))
    min_samples: int = 5  # events a baseline needs before its z counts
    min_history_hours: float = 24.0  # observed event-time span a baseline needs before its z counts
    baseline_halflife_days: float = 14.0  # forgetting of the time-weighted Welford statistics
    sd_floor_usd_per_hour: float = 0.10  # absolute floor on the level's standard deviation
    sd_floor_relative: float = 0.10  # ... and at least 10 % of the usual level

    # --- bursts (grouping + rate of change) -----------------------------------------------------
    burst_gap_s: float = 600.0  # an event joins its actor's burst if <= 10 min after its last event
    burst_max_s: float = 3600.0  # a burst never spans more than 1 h (then a new one starts)
    burst_min_history: int = 3  # closed bursts needed before the rate component counts
    revision_growth: float = 1.25  # a grown anomaly is re-posted when its $/h grew by 25 %

    # --- novelty ----------------------------------------------------------------------------------
    novelty_cost_scale_usd_per_hour: float = 2.0  # cost weight u / (u + scale): $0.01 -> 0.005, $20 -> 0.91
    novelty_scale_factor: float = 20.0  # "seen before, but only at 1/20 of this cost" is half-novel

    # --- pattern (seasonality of increases) -------------------------------------------------------
    weekly_confidence_half: float = 0.5  # k earlier weekly occurrences -> confidence k / (k + 0.5)
    daily_confidence_half: float = 2.0  # k earlier daily occurrences -> confidence k / (k + 2)
    weekly_halflife_days: float = 56.0  # an abandoned weekly pattern fades over 8 weeks
    daily_halflife_days: float = 14.0
    pattern_slack: float = 1.5  # an occurrence up to 1.5x the usual amount is fully explained

    # --- unknown price (scoring/shape.py) ---------------------------------------------------------
    unpriced_alert_score: float = 0.6  # an unpriced increase alerts when its shape score reaches this

    # --- feedback -----------------------------------------------------------------------------------
    feedback_expected: float = 0.9  # suppression of a matching situation marked "expected"
    feedback_false_positive: float = 0.8  # ... marked "false_positive"
    feedback_halflife_days: float = 180.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"scoring setting {f.name} must be a finite number >= 0, got {value!r}")
        if not 0 < self.score_threshold <= 1:
            raise ValueError("score_threshold must be in (0, 1]")
        if not 0 < self.unpriced_alert_score <= 1:
            raise ValueError("unpriced_alert_score must be in (0, 1]")
        if self.burst_gap_s <= 0 or self.burst_max_s < self.burst_gap_s:
            raise ValueError("burst_gap_s must be > 0 and <= burst_max_s")

    def with_overrides(self, overrides: dict[str, Any] | None) -> ScoringConfig:
        """A copy with the non-null known keys of ``overrides`` (a tenant_settings row) applied."""
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        changes = {k: v for k, v in overrides.items() if k in known and v is not None}
        return replace(self, **changes) if changes else self


DEFAULT_CONFIG = ScoringConfig()

# Columns of dd0c.tenant_settings a tenant may override (the rest are method constants).
TENANT_SETTING_COLUMNS = (
    "alert_floor_usd_per_hour",
    "score_threshold",
    "cold_start_days",
    "cold_start_usd_per_hour",
    "cold_start_resources",
    "burst_gap_s",
    "unpriced_alert_score",
)


def config_from_settings(settings) -> ScoringConfig:
    """Process-wide defaults from the environment (Settings); tenants override per row."""
    return replace(
        DEFAULT_CONFIG,
        alert_floor_usd_per_hour=float(settings.alert_floor_usd_per_hour),
        cold_start_usd_per_hour=float(settings.cold_start_floor_usd_per_hour),
        z_half=float(settings.zscore_threshold),
        min_samples=int(settings.min_samples_for_zscore),
    )
