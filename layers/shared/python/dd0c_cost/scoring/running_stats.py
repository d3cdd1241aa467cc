"""Running statistics the detectors share: an expanding (Welford) mean and variance, and the
weight of a new point in an exponentially weighted average after a gap."""

from __future__ import annotations

import math


class Welford:
    """Expanding mean and variance (Welford 1962), with a shift for precision.

    ``var`` is the sample variance (n - 1), never negative. Used by the
    benchmark baseline and available to callers; the detector itself uses
    exponentially weighted forms of the same update.
    """

    __slots__ = ("m2", "mean", "n", "shift")

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0  # mean of (x - shift)
        self.m2 = 0.0
        self.shift = 0.0

    def add(self, x: float) -> None:
        if self.n == 0:
            self.shift = x
        y = x - self.shift
        self.n += 1
        d = y - self.mean
        self.mean += d / self.n
        inc = d * (y - self.mean)
        if inc > 0.0:
            self.m2 += inc

    @property
    def var(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0

    def zscore(self, x: float) -> float:
        v = self.var
        return (x - self.shift - self.mean) / math.sqrt(v) if v > 0.0 else 0.0


def decay(dt: float, halflife: float | None) -> float:
    """Weight of the new point in an EW average after a gap dt: 1 - 2^(-dt/h)."""
    if halflife is None or halflife <= 0:
        return 0.0
    if dt <= 0.0:
        return 0.0
    return -math.expm1(-0.6931471805599453 * dt / halflife)
