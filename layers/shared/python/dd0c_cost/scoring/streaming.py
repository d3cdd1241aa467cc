"""Streaming anomaly detector core for one time series (pure Python, O(1) per point).

``StreamingDetector.update(t, x)`` takes one observation (``t`` in epoch seconds,
``x`` the value, e.g. a cost rate in USD/h) and returns a :class:`DetectorResult`
with a score in [0, 1], per-component values in [0, 1] and a short reason.
The model is online (no look-ahead), keeps a small amount of state and can be
saved and restored with :meth:`StreamingDetector.to_state` /
:meth:`StreamingDetector.from_state`.

How a point is scored (details and measured figures in ``docs/scoring.md``)
--------------------------------------------------------------------------
1. **Sequence novelty** (drives the score). The value is quantised on two grids
   (``resolutions`` bins across the value range, a coarse and a fine one). For
   each grid a first-order transition model counts how often bin ``b`` followed
   bin ``p``; a count is credited to ``b`` and its ``kernel`` neighbours so
   that jitter of one bin is not news. The novelty of a point is
   ``1 - count(p -> b) / max_b' count(p -> b')``, averaged over the grids: 0 when
   the value went where values from here usually go, 1 when it never went
   there. It is the cheap analogue of HTM's "fraction of active columns that
   were not predicted".
2. **Anomaly likelihood** (calibration, as in Numenta's HTM post-processing,
   Ahmad et al. 2017). The raw score is averaged over the last
   ``avg_window`` points; that average is compared with the distribution
   (Gaussian, expanding mean and variance with floors) of its own history, and
   the tail probability turns into ``likelihood``. The reported score is the
   log-scaled likelihood ``log(1 - L) / log(1e-10)``: 0.5 means "a 1-in-10^5
   event for this series", 1.0 "1-in-10^10". As in HTM, a very unlikely point
   right after another one is reported at the lower "yellow" level, so one
   event raises one alarm rather than a run of them.
3. **Range novelty** ("spatial" anomaly in Numenta's NAB detector): a value
   more than ``spatial_tolerance`` of the observed range beyond every value
   seen so far scores 1.0 (after the first ``learning`` points).

The other components are computed on every point and reported for reuse by the
product's scorer; with the default weights they do not move the score (see
``docs/scoring.md`` for why):

* ``level``: robust z-score of the value against a decayed baseline (EW mean
  and variance with ``baseline_halflife_s``, updates winsorised at
  ``winsor_k`` sigma so a spike does not drag the baseline), as the two-sided
  probability ``erf(|z|/sqrt 2)``;
* ``rate``: the step change against the usual step changes, same form;
* ``seasonal``: the value against the decayed mean and variance of the same
  hour of day (or hour of week), once that slot has at least
  ``seasonal_min_days`` days of history;
* ``novelty``, ``raw`` (the combined raw score, averaged), ``likelihood``
  and ``spatial``.

Numerics: values are shifted by an origin (the given minimum, else the first
value) before any statistic, so 1e12 + tiny noise keeps its precision; every
variance update has the form ``(1 - a) * (v + a * d * d)`` with ``0 <= a <= 1``
and cannot go negative. NaN, +-inf (and, with ``allow_negative=False``,
negative values) are ignored with a reason and leave the state unchanged.
"""

from __future__ import annotations

import math

from dd0c_cost.scoring import detector_state
from dd0c_cost.scoring.detector_params import (
    NAB_PARAMS,
    REASON_IGNORED_NEGATIVE,
    REASON_IGNORED_NONFINITE,
    REASON_IGNORED_TIME,
    REASON_LEVEL,
    REASON_NORMAL,
    REASON_RATE,
    REASON_REPEAT,
    REASON_SEASONAL,
    REASON_SEQUENCE,
    REASON_SPATIAL,
    REASON_WARMUP,
    DetectorParams,
    DetectorResult,
)
from dd0c_cost.scoring.running_stats import Welford, decay
from dd0c_cost.scoring.transition_grids import Grid, coarsen, rescale_counts

__all__ = [
    "NAB_PARAMS",
    "DetectorParams",
    "DetectorResult",
    "StreamingDetector",
    "Welford",
]

_SQRT1_2 = 0.7071067811865476
_LOG_1E10 = -23.02585084720009  # log(1e-10)


class StreamingDetector:
    """Online anomaly detector for one series. See the module docstring.

    ``value_range=(lo, hi)``: the series' expected min and max if known (NAB
    tells each file's); otherwise the grids are laid out from the range seen
    in the first ``warmup`` points, extend beyond it as needed, and halve their
    resolution whenever the observed range exceeds twice the grid span.
    ``allow_negative=False`` makes negative values be ignored (cost rates).
    """

    __slots__ = (
        "_a_base",
        "_a_count",
        "_dt",
        "allow_negative",
        "b_mean",
        "b_var",
        "grid_span",
        "grids",
        "hi_seen",
        "inc",
        "l_m2",
        "l_mean",
        "l_n",
        "lo_seen",
        "n",
        "n_ignored",
        "origin",
        "p",
        "prev_red",
        "r_mean",
        "r_var",
        "ring",
        "ring_i",
        "ring_sum",
        "seasonal",
        "t_inc",
        "t_last",
        "u_prev",
        "value_range",
    )

    def __init__(
        self,
        params: DetectorParams | None = None,
        *,
        value_range: tuple[float, float] | None = None,
        allow_negative: bool = True,
    ) -> None:
        self.p = params or NAB_PARAMS
        self.allow_negative = allow_negative
        if value_range is not None:
            lo, hi = float(value_range[0]), float(value_range[1])
            if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
                raise ValueError(f"bad value_range {value_range!r}")
            value_range = (lo, hi)
        self.value_range = value_range
        self.n = 0
        self.n_ignored = 0
        self.t_last: float | None = None
        self.origin: float | None = None
        # value span that each grid divides into its number of bins; None until known
        self.grid_span: float | None = None
        if value_range is not None:
            self.origin = value_range[0]
            self.grid_span = (value_range[1] - value_range[0]) or 1.0
        self.lo_seen = math.inf  # in shifted units (x - origin)
        self.hi_seen = -math.inf
        self.b_mean = 0.0
        self.b_var = 0.0
        self.r_mean = 0.0
        self.r_var = 0.0
        self.u_prev: float | None = None
        self.seasonal: dict[int, list[float]] = {}  # slot -> [mean, var, n, t_last, t_first]
        self.grids = [Grid(int(b)) for b in self.p.resolutions]
        self.inc = 1.0  # lazy exponential forgetting of counts
        self.t_inc: float | None = None
        self.ring = [0.0] * self.p.avg_window
        self.ring_i = 0
        self.ring_sum = 0.0
        self.l_n = 0
        self.l_mean = 0.0
        self.l_m2 = 0.0
        self.prev_red = False
        self._dt = -1.0
        self._a_base = 0.0
        self._a_count = 1.0

    # ------------------------------------------------------------------ update
    def update(self, t: float, x: float) -> DetectorResult:
        """Score one observation and learn from it.

        The steps, in order (each learns from ``x`` after using the state it had before):
        refuse bad input; advance the clock; the value range and the noise floor (a point far
        outside the range seen is a spatial anomaly); the level and rate-of-change z-scores; the
        seasonal slot; sequence novelty on the quantisation grids; their weighted raw score,
        averaged over a window; the likelihood of that average; the score; the reason.
        """
        ignored = self._ignored_reason(t, x)
        if ignored is not None:
            self.n_ignored += 1
            return DetectorResult(0.0, {}, ignored)
        n = self.n
        if self.origin is None:
            self.origin = x
        u = x - self.origin
        self._advance_clock(t)
        spatial, floor2 = self._observe_range(u, x, n)
        level, rate = self._level_and_rate(u, n, floor2)
        seasonal = self._seasonal(t, u, floor2)
        q = self._grid_span_for(n)
        novelty = self._novelty(u, q) if q is not None else 0.0
        avg = self._averaged(self._raw_score(n, novelty, level, rate, seasonal), n)
        lik = self._likelihood(avg, n)
        score, lik, repeat = self._score(lik, spatial)
        self.n = n + 1
        seasonal_value = seasonal if seasonal >= 0.0 else 0.0
        return DetectorResult(
            score,
            {
                "novelty": novelty,
                "raw": avg,
                "likelihood": lik,
                "spatial": spatial,
                "level": level,
                "rate": rate,
                "seasonal": seasonal_value,
            },
            self._reason(n, spatial, score, repeat, novelty, level, rate, seasonal),
        )

    def _ignored_reason(self, t: float, x: float) -> str | None:
        """Why the point is not scored (NaN/inf value or time, a negative cost), or None."""
        if not (x == x and x not in (math.inf, -math.inf)):  # NaN or inf
            return REASON_IGNORED_NONFINITE
        if not (t == t and t not in (math.inf, -math.inf)):
            return REASON_IGNORED_TIME
        if x < 0.0 and not self.allow_negative:
            return REASON_IGNORED_NEGATIVE
        return None

    def _advance_clock(self, t: float) -> None:
        """The time step's decay weights (cached: regular sampling repeats the same step)."""
        p = self.p
        t_last = self.t_last
        dt = t - t_last if t_last is not None and t > t_last else 0.0
        if dt != self._dt:
            self._dt = dt
            self._a_base = decay(dt, p.baseline_halflife_s)
            self._a_count = 2.0 ** (dt / p.count_halflife_s) if p.count_halflife_s and dt > 0.0 else 1.0
        if t_last is None or t > t_last:
            self.t_last = t

    def _observe_range(self, u: float, x: float, n: int) -> tuple[float, float]:
        """(spatial, floor2): 1.0 if ``u`` is well outside the range seen so far (after learning),
        and the squared noise floor; then widen the range to include ``u``."""
        p = self.p
        lo, hi = self.lo_seen, self.hi_seen
        spatial = 0.0
        if hi > lo and n >= p.learning:  # no alarms while the range is still being learnt
            tol = (hi - lo) * p.spatial_tolerance
            if u > hi + tol or u < lo - tol:
                spatial = 1.0
        if u < lo:
            self.lo_seen = lo = u
        if u > hi:
            self.hi_seen = hi = u
        span = self.value_range[1] - self.value_range[0] if self.value_range is not None else hi - lo
        floor2 = (span * p.resolution_fraction) ** 2
        if floor2 <= 0.0:
            floor2 = (abs(x) * 1e-9 + 1e-12) ** 2
        return spatial, floor2

    def _level_and_rate(self, u: float, n: int, floor2: float) -> tuple[float, float]:
        """Two-sided probabilities of the level z (against the decayed baseline, West/Welford EW
        form, winsorised) and of the rate-of-change z (this step against the usual steps)."""
        p = self.p
        a = self._a_base
        if n == 0:
            self.b_mean = u
            z_level = 0.0
            z_rate = 0.0
        else:
            ainit = 1.0 / (n + 1)
            if a < ainit:
                a = ainit
            m = self.b_mean
            var = self.b_var + floor2
            sd = math.sqrt(var)
            d = u - m
            z_level = d / sd
            c = p.winsor_k * sd
            if d > c:
                d = c
            elif d < -c:
                d = -c
            self.b_mean = m + a * d
            self.b_var = (1.0 - a) * (self.b_var + a * d * d)
            step = u - self.u_prev
            rm = self.r_mean
            rvar = self.r_var + floor2
            rsd = math.sqrt(rvar)
            e = step - rm
            z_rate = e / rsd
            c = p.winsor_k * rsd
            if e > c:
                e = c
            elif e < -c:
                e = -c
            if n == 1:
                self.r_mean = step
            else:
                self.r_mean = rm + a * e
                self.r_var = (1.0 - a) * (self.r_var + a * e * e)
        self.u_prev = u
        return math.erf(abs(z_level) * _SQRT1_2), math.erf(abs(z_rate) * _SQRT1_2)

    def _grid_span_for(self, n: int) -> float | None:
        """The value span the grids divide, or None while it is not known yet."""
        p = self.p
        lo, hi = self.lo_seen, self.hi_seen
        q = self.grid_span
        if q is None and n + 1 >= max(p.warmup, 2):
            # no range given: lay the grids out over the range seen in warm-up,
            # at least 10 % of the typical magnitude (a flat start is not a range)
            q = max(hi - lo, 0.1 * abs(self.origin + self.b_mean))
            if q > 0.0:
                self.grid_span = q
            else:
                q = None
        elif q is not None and self.value_range is None:
            # the range has outgrown the grids: halve their resolution until the
            # observed range spans at most 2 grid spans (keeps the state bounded)
            while hi - lo > 2.0 * q:
                q *= 2.0
                coarsen(self.grids)
            self.grid_span = q
        return q

    def _raw_score(self, n: int, novelty: float, level: float, rate: float, seasonal: float) -> float:
        """The weighted mean of the components (0 during warm-up)."""
        p = self.p
        if n < p.warmup:
            return 0.0
        wsum = p.w_novelty + p.w_level + p.w_rate + p.w_seasonal
        if wsum == p.w_novelty:
            return novelty
        return (
            p.w_novelty * novelty
            + p.w_level * level
            + p.w_rate * rate
            + p.w_seasonal * (seasonal if seasonal >= 0.0 else 0.0)
        ) / wsum

    def _averaged(self, raw: float, n: int) -> float:
        """The raw score averaged over the last ``avg_window`` points (a ring buffer)."""
        ring = self.ring
        i = self.ring_i
        self.ring_sum += raw - ring[i]
        ring[i] = raw
        w = len(ring)
        self.ring_i = i + 1 if i + 1 < w else 0
        avg = self.ring_sum / (n + 1 if n + 1 < w else w)
        return 0.0 if avg < 0.0 else avg  # rounding in the running sum

    def _likelihood(self, avg: float, n: int) -> float:
        """1 - the tail probability of ``avg`` under the averages seen so far (0.5 while
        learning); then learn ``avg`` once the window is full of scored points."""
        p = self.p
        if n < p.learning:
            lik = 0.5
        else:
            mean = self.l_mean
            if mean < p.mean_floor:
                mean = p.mean_floor
            lvar = self.l_m2 / (self.l_n - 1) if self.l_n > 1 else 0.0
            if lvar < p.var_floor:
                lvar = p.var_floor
            lik = 1.0 - 0.5 * math.erfc((avg - mean) / math.sqrt(lvar) * _SQRT1_2)
        if n >= p.warmup + len(self.ring):
            ln = self.l_n + 1
            self.l_n = ln
            d = avg - self.l_mean
            self.l_mean += d / ln
            inc = d * (avg - self.l_mean)
            if inc > 0.0:
                self.l_m2 += inc
        return lik

    def _score(self, lik: float, spatial: float) -> tuple[float, float, bool]:
        """(score in [0, 1], the likelihood it was scored from, repeat): a red likelihood right
        after a red one is scored (and reported) as yellow (one event, one alarm); a spatial
        anomaly scores 1."""
        p = self.p
        red = lik >= p.red
        repeat = red and self.prev_red
        self.prev_red = red
        if repeat:
            lik = p.yellow
        score = math.log(1.0000000001 - lik) / _LOG_1E10
        if score < 0.0:
            score = 0.0
        elif score > 1.0:
            score = 1.0
        if spatial:
            score = 1.0
        return score, lik, repeat

    def _reason(
        self,
        n: int,
        spatial: float,
        score: float,
        repeat: bool,
        novelty: float,
        level: float,
        rate: float,
        seasonal: float,
    ) -> str:
        """The component that explains the score."""
        if spatial:
            return REASON_SPATIAL
        if n < self.p.learning:
            return REASON_WARMUP
        if score < 0.5:
            return REASON_NORMAL
        if repeat:
            return REASON_REPEAT
        best = novelty
        reason = REASON_SEQUENCE
        if level > best and level > 0.9999:
            best, reason = level, REASON_LEVEL
        if rate > best and rate > 0.9999:
            best, reason = rate, REASON_RATE
        if seasonal > best and seasonal > 0.9999:
            reason = REASON_SEASONAL
        return reason

    def _seasonal(self, t: float, u: float, floor2: float) -> float:
        """Probability-scaled deviation from this slot's history; -1 if not ready."""
        p = self.p
        slot = int((t % p.seasonal_period_s) // p.seasonal_slot_s)
        s = self.seasonal.get(slot)
        if s is None:
            self.seasonal[slot] = [u, 0.0, 1.0, t, t]
            return -1.0
        mean, var, cnt, t_prev, t_first = s
        out = -1.0
        sd = math.sqrt(var + floor2)
        d = u - mean
        if t - t_first >= p.seasonal_min_days * 86400.0 - p.seasonal_slot_s:
            out = math.erf(abs(d / sd) * _SQRT1_2)
        a = decay(t - t_prev, p.seasonal_halflife_s)
        cnt += 1.0
        if a < 1.0 / cnt:
            a = 1.0 / cnt
        c = p.winsor_k * sd
        if d > c:
            d = c
        elif d < -c:
            d = -c
        s[0] = mean + a * d
        s[1] = (1.0 - a) * (var + a * d * d)
        s[2] = cnt
        if t > t_prev:
            s[3] = t
        return out

    def _novelty(self, u: float, q: float) -> float:
        """Mean over grids of 1 - count(prev -> bin) / max count(prev -> any bin)."""
        k = self.p.kernel
        inc = self.inc
        if self._a_count != 1.0:
            inc *= self._a_count
            if inc > 1e200:
                rescale_counts(self.grids, inc)
                inc = 1.0
            self.inc = inc
        tot = 0.0
        for g in self.grids:
            b = math.floor(u * g.bins / q)
            prev = g.prev
            if prev is not None:
                row = g.rows.get(prev)
                if row is None:
                    row = g.rows[prev] = {}
                    mx = 0.0
                    tot += 1.0
                else:
                    mx = g.rowmax[prev]
                    tot += 1.0 - row.get(b, 0.0) / mx
                for j in range(b - k, b + k + 1):
                    c = row.get(j, 0.0) + inc
                    row[j] = c
                    if c > mx:
                        mx = c
                g.rowmax[prev] = mx
            g.prev = b
        return tot / len(self.grids)

    # ------------------------------------------------------------------- state
    to_state = detector_state.to_state
    from_state = classmethod(detector_state.from_state)
