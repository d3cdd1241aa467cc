"""Billing series to rates (dd0c_cost.usage.billing): gaps, month resets, corrections and
currency changes are explicit and never scored; the detector decision on top of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dd0c_cost.usage import billing, detect
from dd0c_cost.usage.billing import Cursor, Sample

H = timedelta(hours=1)
T0 = datetime(2026, 3, 10, tzinfo=UTC)


def cumulative(rates: list[float], start: datetime = T0, value: float = 100.0) -> list[Sample]:
    out = []
    for i, rate in enumerate(rates):
        value += rate
        out.append(Sample(start + i * H, value))
    return out


def test_growth_of_month_to_date_becomes_an_hourly_rate():
    points, cursor = billing.rates_from_cumulative(cumulative([2.0, 3.0, 5.0]), Cursor(), "USD")
    assert [p.kind for p in points] == ["first", "rate", "rate"]
    assert [p.rate_per_hour for p in points[1:]] == [3.0, 5.0]
    assert cursor == Cursor(T0 + 2 * H, 110.0, "USD")
    # continuing from the cursor: nothing at or before it again (a redelivered poll adds nothing)
    again, same = billing.rates_from_cumulative(cumulative([2.0, 3.0, 5.0]), cursor, "USD")
    assert again == [] and same == cursor


def test_a_gap_keeps_the_average_rate_but_is_not_scored():
    samples = [Sample(T0, 10.0), Sample(T0 + H, 12.0), Sample(T0 + 20 * H, 50.0), Sample(T0 + 21 * H, 52.0)]
    points, _ = billing.rates_from_cumulative(samples, Cursor(), "USD")
    gap = points[2]
    assert gap.kind == "gap" and gap.rate_per_hour == pytest.approx(38.0 / 19) and not gap.scored
    assert "19 h" in gap.note
    assert points[3].kind == "rate" and points[3].scored and points[3].rate_per_hour == 2.0


def test_month_reset_is_explained_and_not_scored_then_the_month_continues():
    samples = [
        Sample(datetime(2026, 3, 31, 22, tzinfo=UTC), 1500.0),
        Sample(datetime(2026, 3, 31, 23, tzinfo=UTC), 1502.0),
        Sample(datetime(2026, 4, 1, 1, tzinfo=UTC), 90.0),  # monthly fees billed at the start
        Sample(datetime(2026, 4, 1, 2, tzinfo=UTC), 92.0),
    ]
    points, cursor = billing.rates_from_cumulative(samples, Cursor(), "USD")
    assert [p.kind for p in points] == ["first", "rate", "reset", "rate"]
    reset = points[2]
    assert not reset.scored and reset.rate_per_hour == 90.0 and "monthly fees" in reset.note
    assert points[3].rate_per_hour == 2.0
    assert cursor.cumulative == 92.0


def test_a_fall_within_the_month_is_a_correction_not_a_negative_rate():
    samples = [Sample(T0, 100.0), Sample(T0 + H, 80.0), Sample(T0 + 2 * H, 83.0)]
    points, _ = billing.rates_from_cumulative(samples, Cursor(), "USD")
    assert [p.kind for p in points] == ["first", "correction", "rate"]
    assert points[1].rate_per_hour is None and "credit" in points[1].note
    assert points[2].rate_per_hour == 3.0


def test_currency_change_restarts_the_series():
    cursor = Cursor(T0, 100.0, "USD")
    points, after = billing.rates_from_cumulative([Sample(T0 + H, 95.0), Sample(T0 + 2 * H, 97.0)], cursor, "EUR")
    assert [p.kind for p in points] == ["currency_change", "rate"]
    assert "USD to EUR" in points[0].note and not points[0].scored
    assert points[1].rate_per_hour == 2.0 and after.currency == "EUR"
    # the newer currency wins when both are published
    assert billing.pick_currency({"USD": [Sample(T0, 1)], "EUR": [Sample(T0 + H, 1)]}, "USD") == "EUR"
    assert billing.pick_currency({"USD": [Sample(T0, 1)], "EUR": []}, "EUR") == "USD"


def test_bad_values_and_duplicate_timestamps_are_cleaned():
    samples = [Sample(T0, 1.0), Sample(T0, 3.0), Sample(T0 + H, float("nan")), Sample(T0 + 2 * H, 5.0)]
    assert billing.clean(samples, None) == [Sample(T0, 3.0), Sample(T0 + 2 * H, 5.0)]


def test_hourly_costs_are_rates_with_gaps_marked():
    samples = [Sample(T0, 2.0), Sample(T0 + H, 2.5), Sample(T0 + 30 * H, 2.0)]
    points, cursor = billing.rates_from_hourly(samples, Cursor(), "USD")
    assert [p.kind for p in points] == ["rate", "rate", "gap"]
    assert cursor.at == T0 + 30 * H


def _steady(n: int, rate: float = 2.0) -> list[billing.RatePoint]:
    # a deterministic wobble around the rate, like real usage
    return [
        billing.RatePoint(T0 + i * H, "rate", "USD", rate * (1 + 0.1 * ((i * 7) % 5 - 2) / 2), 1.0, None)
        for i in range(n)
    ]


def test_detector_alerts_on_a_rise_after_learning_and_not_on_history_or_falls():
    detector = detect.new_detector()
    thresholds = detect.UsageThresholds()
    history = _steady(200)
    alert_after = history[-1].at
    assert not any(detect.judge(detector, p, thresholds, alert_after).alert for p in history)
    base = detect.baseline_of(detector)
    assert base == pytest.approx(2.0, rel=0.1)
    fall = billing.RatePoint(alert_after + H, "rate", "USD", 0.1, 1.0, None)
    assert not detect.judge(detector, fall, thresholds, alert_after).alert  # paying less is not an anomaly
    spike = billing.RatePoint(alert_after + 2 * H, "rate", "USD", 40.0, 1.0, None)
    judged = detect.judge(detector, spike, thresholds, alert_after)
    assert judged.alert and judged.score >= 0.5 and judged.increase > 30
    # the same spike in history (before the alert window) trains and raises nothing
    old = detect.new_detector()
    for p in history:
        detect.judge(old, p, thresholds, None)
    late = billing.RatePoint(alert_after + 2 * H, "rate", "USD", 40.0, 1.0, None)
    assert not detect.judge(old, late, thresholds, alert_after + 3 * H).alert
    # a rise under the tenant's floor does not alert
    small = detect.new_detector()
    for p in history:
        detect.judge(small, p, thresholds, None)
    tiny = billing.RatePoint(alert_after + 2 * H, "rate", "USD", 2.9, 1.0, None)
    assert not detect.judge(small, tiny, detect.UsageThresholds(0.5, 1.0), None).alert


def test_detector_state_round_trips_and_uses_the_bench_parameters():
    from dd0c_cost.scoring.streaming import NAB_PARAMS

    assert detect.USAGE_PARAMS is NAB_PARAMS
    detector = detect.new_detector()
    for p in _steady(50):
        detect.judge(detector, p, detect.UsageThresholds(), None)
    restored = detect.restore(detector.to_state())
    assert restored.to_state() == detector.to_state()
    assert detect.restore(None).n == 0
