"""The streaming detector's parameters, what it returns for a point, and its reasons: what callers
set and read, apart from the detector's arithmetic (``scoring.streaming``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple

# Reasons are constants so that scoring a point builds no strings.
REASON_IGNORED_NONFINITE = "ignored: value is not a finite number"
REASON_IGNORED_TIME = "ignored: timestamp is not a finite number"
REASON_IGNORED_NEGATIVE = "ignored: negative value"
REASON_WARMUP = "learning: not enough history yet"
REASON_SPATIAL = "value outside the range seen so far"
REASON_SEQUENCE = "value moved where this series has not gone before"
REASON_LEVEL = "value far from its recent baseline"
REASON_RATE = "change much larger than usual"
REASON_SEASONAL = "value unusual for this time of day"
REASON_NORMAL = "normal"
REASON_REPEAT = "unusual, but continues an alarm just raised"


class DetectorResult(NamedTuple):
    """What :meth:`StreamingDetector.update` returns for one point."""

    score: float
    components: dict[str, float]
    reason: str


@dataclass(frozen=True)
class DetectorParams:
    """One parameter set. The defaults are the set used for the NAB benchmark.

    Sample counts (``avg_window``, ``warmup``, ``learning``) are in points,
    durations in seconds. Nothing here was fitted per file.
    """

    # sequence novelty
    resolutions: tuple[int, ...] = (16, 32)  # bins across the value range, per grid
    kernel: int = 1  # a hit on bin b also counts for b-kernel..b+kernel
    count_halflife_s: float | None = 30 * 86400.0  # forgetting of transition counts
    # anomaly likelihood (HTM defaults where they exist)
    avg_window: int = 10  # HTM: averaging window of raw scores
    warmup: int = 30  # raw scores of the first points are not used
    learning: int = 150  # points before a likelihood is reported (HTM: estimationSamples 100)
    mean_floor: float = 0.03  # HTM lower bounds of the raw-score distribution
    var_floor: float = 0.0003
    red: float = 0.99999  # HTM filter: a red point right after a red point ...
    yellow: float = 0.999  # ... is reported at the yellow level
    # range novelty
    spatial_tolerance: float = 0.05  # HTM/NAB: 5 % of the observed range
    # reported components
    baseline_halflife_s: float = 86400.0
    winsor_k: float = 4.0
    resolution_fraction: float = 1.0 / 130.0  # noise floor: range/130 (HTM NAB encoder)
    seasonal_period_s: float = 86400.0  # 86400: hour of day; 604800: hour of week
    seasonal_slot_s: float = 3600.0
    seasonal_halflife_s: float = 7 * 86400.0
    seasonal_min_days: float = 2.0
    # raw score = weighted mean of these (level/rate/seasonal as erf(|z|/sqrt2))
    w_novelty: float = 1.0
    w_level: float = 0.0
    w_rate: float = 0.0
    w_seasonal: float = 0.0

    def __post_init__(self) -> None:
        if not self.resolutions or any(int(b) < 2 for b in self.resolutions):
            raise ValueError("resolutions must be integers >= 2")
        if self.avg_window < 1 or self.learning < 1 or self.warmup < 0 or self.kernel < 0:
            raise ValueError("avg_window, learning >= 1; warmup, kernel >= 0")
        if min(self.w_novelty, self.w_level, self.w_rate, self.w_seasonal) < 0:
            raise ValueError("weights must be >= 0")
        if self.w_novelty + self.w_level + self.w_rate + self.w_seasonal <= 0:
            raise ValueError("at least one weight must be > 0")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["resolutions"] = list(self.resolutions)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DetectorParams:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "resolutions" in kw:
            kw["resolutions"] = tuple(int(b) for b in kw["resolutions"])
        return cls(**kw)


NAB_PARAMS = DetectorParams()
