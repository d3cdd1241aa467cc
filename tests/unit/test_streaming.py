"""Behaviour of the streaming detector core (dd0c_cost.scoring.streaming) and its benchmarks."""

from __future__ import annotations

import json
import math
import random
import statistics

import pytest

from dd0c_cost.scoring.streaming import (
    REASON_IGNORED_NEGATIVE,
    REASON_IGNORED_NONFINITE,
    REASON_SPATIAL,
    DetectorParams,
    StreamingDetector,
    Welford,
)

T0 = 1_700_006_400.0  # a midnight UTC
STEP = 300.0


def feed(det: StreamingDetector, xs, start: int = 0):
    return [det.update(T0 + STEP * (start + i), x) for i, x in enumerate(xs)]


def stable_then_shift(seed: int = 1) -> list[float]:
    """3000 points around 10 (with rare spikes to 25 early on), then a shift to 18.

    The shifted level lies inside the range already seen, so only the model, not
    the "new maximum" rule, can flag it.
    """
    rng = random.Random(seed)
    xs = []
    for i in range(3000):
        x = 10.0 + rng.gauss(0.0, 0.5)
        if i < 600 and i % 97 == 0:
            x = 25.0
        xs.append(x)
    xs += [18.0 + rng.gauss(0.0, 0.5) for _ in range(200)]
    return xs


def test_level_shift_scores_high_after_stable_stretch():
    det = StreamingDetector()
    res = feed(det, stable_then_shift())
    before = max(r.score for r in res[2500:3000])
    after = max(r.score for r in res[3000:3030])
    assert before < 0.3, before
    assert after >= 0.5, after
    assert all(r.components["spatial"] == 0.0 for r in res[3000:3030])  # not the range rule


def test_no_alarm_while_learning():
    det = StreamingDetector()
    res = feed(det, [1.0, 2.0, 50.0, 3.0, 400.0] + [5.0] * 100)
    assert all(r.score < 0.5 for r in res)
    assert res[-1].reason.startswith("learning")


def test_value_beyond_everything_seen_scores_one_with_reason():
    det = StreamingDetector()
    rng = random.Random(3)
    feed(det, [10.0 + rng.gauss(0, 0.5) for _ in range(500)])
    r = det.update(T0 + STEP * 500, 40.0)
    assert r.score == 1.0
    assert r.reason == REASON_SPATIAL


def test_recurring_daily_pattern_stops_scoring_high():
    """A 2-hour daily batch job (5 -> 15) is news the first time, routine from then on."""
    rng = random.Random(2)
    det = StreamingDetector()
    per_day: dict[int, float] = {}
    for i in range(288 * 10):
        t = T0 + 12 * 3600 + STEP * i  # start at noon: the first run (02:00) is after learning
        hour = (t % 86400) / 3600
        x = 5.0 + rng.gauss(0.0, 0.3) + (10.0 if 2 <= hour < 4 else 0.0)
        day = i // 288
        per_day[day] = max(per_day.get(day, 0.0), det.update(t, x).score)
    assert per_day[0] >= 0.9
    for day in range(2, 10):
        assert per_day[day] < 0.5, (day, per_day[day])


def test_seasonal_component_learns_the_slot():
    rng = random.Random(4)
    det = StreamingDetector()
    for i in range(288 * 4):
        t = T0 + STEP * i
        hour = (t % 86400) / 3600
        det.update(t, 5.0 + rng.gauss(0.0, 0.3) + (10.0 if 2 <= hour < 4 else 0.0))
    t_day5 = T0 + 288 * 4 * STEP
    # at 03:00 the usual value is 15: 15 is expected, 5 is not
    at3 = t_day5 + 3 * 3600
    usual = StreamingDetector.from_state(det.to_state()).update(at3, 15.0)
    unusual = StreamingDetector.from_state(det.to_state()).update(at3, 5.0)
    assert unusual.components["seasonal"] > 0.999
    assert usual.components["seasonal"] < 0.9


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_ignored_and_do_not_touch_state(bad):
    rng = random.Random(5)
    xs = [10.0 + rng.gauss(0, 1) for _ in range(400)]
    det, twin = StreamingDetector(), StreamingDetector()
    feed(det, xs)
    feed(twin, xs)
    before = det.to_state()
    r = det.update(T0 + STEP * 400, bad)
    assert r.score == 0.0 and r.reason == REASON_IGNORED_NONFINITE and r.components == {}
    after = det.to_state()
    assert after.pop("n_ignored") == 1 and before.pop("n_ignored") == 0
    assert after == before
    nxt = [10.0 + rng.gauss(0, 1) for _ in range(200)]
    assert [r.score for r in feed(det, nxt, 401)] == [r.score for r in feed(twin, nxt, 401)]


def test_non_finite_timestamp_is_ignored():
    det = StreamingDetector()
    feed(det, [1.0, 2.0, 3.0])
    before = det.to_state()
    r = det.update(math.nan, 5.0)
    assert r.score == 0.0 and r.reason.startswith("ignored")
    after = det.to_state()
    after.pop("n_ignored"), before.pop("n_ignored")
    assert after == before


def test_negative_values_ignored_when_not_allowed_and_accepted_otherwise():
    rng = random.Random(6)
    xs = [10.0 + rng.gauss(0, 1) for _ in range(300)]
    det = StreamingDetector(allow_negative=False)
    feed(det, xs)
    before = det.to_state()
    r = det.update(T0 + STEP * 300, -7.0)
    assert r.reason == REASON_IGNORED_NEGATIVE and r.score == 0.0
    after = det.to_state()
    after.pop("n_ignored"), before.pop("n_ignored")
    assert after == before
    free = StreamingDetector(allow_negative=True)
    feed(free, xs)
    r = free.update(T0 + STEP * 300, -7.0)
    assert r.reason != REASON_IGNORED_NEGATIVE and free.n == 301


@pytest.mark.parametrize("value_range", [None, (0.0, 40.0)])
def test_state_round_trips_through_json_with_identical_scores(value_range):
    xs = stable_then_shift(seed=8)
    det = StreamingDetector(value_range=value_range)
    feed(det, xs[:1500])
    state = json.loads(json.dumps(det.to_state()))  # must be plain JSON
    clone = StreamingDetector.from_state(state)
    assert clone.to_state() == det.to_state()
    a = feed(det, xs[1500:], 1500)
    b = feed(clone, xs[1500:], 1500)
    assert [(r.score, r.components, r.reason) for r in a] == [(r.score, r.components, r.reason) for r in b]
    assert max(r.score for r in a) >= 0.5  # the shift happens after the restore


def test_state_with_other_params_round_trips():
    p = DetectorParams(
        resolutions=(8, 24, 40),
        kernel=2,
        avg_window=7,
        count_halflife_s=3600.0,
        w_level=0.3,
        w_rate=0.2,
        w_seasonal=0.1,
        seasonal_period_s=604800.0,
    )
    det = StreamingDetector(p)
    xs = stable_then_shift(seed=9)
    feed(det, xs[:2000])
    clone = StreamingDetector.from_state(json.loads(json.dumps(det.to_state())))
    assert clone.p == p
    a = [r.score for r in feed(det, xs[2000:], 2000)]
    assert a == [r.score for r in feed(clone, xs[2000:], 2000)]


def _assert_sane(det: StreamingDetector, results) -> None:
    assert det.b_var >= 0.0 and det.r_var >= 0.0 and det.l_m2 >= 0.0
    assert all(s[1] >= 0.0 for s in det.seasonal.values())
    for r in results:
        assert 0.0 <= r.score <= 1.0 and math.isfinite(r.score)
        assert all(0.0 <= v <= 1.0 for v in r.components.values()), r.components


@pytest.mark.parametrize("series", ["huge_offset", "alternating", "constant", "ramp"])
def test_variance_never_negative_on_adversarial_input(series):
    rng = random.Random(10)
    n = 3000
    if series == "huge_offset":
        xs = [1e12 + rng.gauss(0.0, 1e-3) for _ in range(n)]
    elif series == "alternating":
        xs = [1e15 if i % 2 else 1e-15 for i in range(n)]
    elif series == "constant":
        xs = [123.456] * n
    else:
        xs = [1e9 + i * 1e-4 for i in range(n)]
    det = StreamingDetector()
    res = []
    for i, x in enumerate(xs):
        res.append(det.update(T0 + STEP * i, x))
        assert det.b_var >= 0.0 and det.r_var >= 0.0
    _assert_sane(det, res)


def test_huge_offset_keeps_precision():
    """1e12 + noise of 1e-3: the detector still sees the noise, the baseline stays unbiased."""
    rng = random.Random(11)
    det = StreamingDetector()
    w = Welford()
    xs = [1e12 + rng.gauss(0.0, 1e-3) for _ in range(5000)]
    for i, x in enumerate(xs):
        det.update(T0 + STEP * i, x)
        w.add(x)
    assert w.var > 0.0
    true_var = statistics.variance([x - 1e12 for x in xs])
    assert abs(w.var - true_var) / true_var < 1e-6
    # EW baseline variance is of the same order as the true variance (not 0, not 1e12-scale junk)
    assert 0.2 * true_var < det.b_var < 5.0 * true_var


def test_state_stays_compact_when_the_range_grows():
    """No range given and the series grows 1000x: grids coarsen, the state stays small."""
    rng = random.Random(12)
    det = StreamingDetector()
    xs = [10.0 * (1.0 + i / 3.0) * (1.0 + 0.05 * rng.gauss(0, 1)) for i in range(9000)]
    res = feed(det, xs)
    _assert_sane(det, res)
    assert len(json.dumps(det.to_state())) < 20_000
    clone = StreamingDetector.from_state(json.loads(json.dumps(det.to_state())))
    nxt = [x * 1.001 for x in xs[-500:]]
    assert [r.score for r in feed(det, nxt, 9000)] == [r.score for r in feed(clone, nxt, 9000)]


def test_params_validation():
    with pytest.raises(ValueError):
        DetectorParams(resolutions=())
    with pytest.raises(ValueError):
        DetectorParams(w_novelty=0.0)
    with pytest.raises(ValueError):
        StreamingDetector(value_range=(5.0, 1.0))
