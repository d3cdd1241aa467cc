"""Billing series to spend rates: pure functions, no I/O.

CloudWatch's ``AWS/Billing`` ``EstimatedCharges`` is the month-to-date estimated charge of one
service (dimension ``ServiceName``) in one currency (dimension ``Currency``), published several
times a day and reset at the start of each month (UTC). A rate is the growth of that cumulative
value over the time between two samples. Everything that is not a plain growth is handled
explicitly, with a ``kind`` and a note, and is never fed to the detector:

- ``first``: the series' first sample (nothing to difference against);
- ``gap``: more than ``max_gap_h`` hours since the previous sample: the average rate over the gap
  is kept for the record but not scored (a gap hides when the spend happened);
- ``reset``: the first sample of a new month. Its value is what the month has cost so far,
  which includes the monthly fees AWS bills in the month's first hours (support, reservations,
  hosted zones): scoring it would raise the classic month-start false positive;
- ``correction``: the month-to-date value went down within a month (a credit or a revised
  estimate): the series continues from the new value;
- ``currency_change``: the series' currency changed (the account's billing currency preference):
  the detector restarts, since rates in two currencies are not one series.

Cost Explorer's hourly ``UnblendedCost`` is already a rate (the cost of one hour): only gaps
and currency changes apply to it (``rates_from_hourly``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

MAX_GAP_H = 12.0  # EstimatedCharges is published every few hours; longer silences are gaps
EPSILON = 1e-6  # cumulative values are rounded to the cent by AWS; ignore float noise below this

RATE, FIRST, GAP, RESET, CORRECTION, CURRENCY_CHANGE = "rate", "first", "gap", "reset", "correction", "currency_change"


@dataclass(frozen=True)
class Sample:
    at: datetime  # UTC
    value: float  # month-to-date charge (cloudwatch) or the hour's cost (cost explorer)


@dataclass(frozen=True)
class Cursor:
    """Where a series stopped: its newest consumed sample. Persisted per series."""

    at: datetime | None = None
    cumulative: float | None = None
    currency: str | None = None


@dataclass(frozen=True)
class RatePoint:
    at: datetime
    kind: str
    currency: str
    rate_per_hour: float | None  # currency units per hour; None when it cannot be known
    hours: float | None  # the interval the rate is measured over
    cumulative: float | None
    note: str = ""

    @property
    def scored(self) -> bool:
        """Only plain growth goes to the detector (see the module docstring)."""
        return self.kind == RATE and self.rate_per_hour is not None


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def month_start(moment: datetime) -> datetime:
    moment = utc(moment)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def clean(samples: list[Sample], after: datetime | None) -> list[Sample]:
    """Samples after the cursor, in time order, one per timestamp (the largest: a month-to-date
    value only grows within a publication), non-finite values dropped."""
    by_time: dict[datetime, float] = {}
    for s in samples:
        if s.value != s.value or s.value in (float("inf"), float("-inf")):
            continue
        at = utc(s.at)
        if after is not None and at <= after:
            continue
        by_time[at] = max(by_time.get(at, s.value), s.value)
    return [Sample(at, by_time[at]) for at in sorted(by_time)]


def rates_from_cumulative(
    samples: list[Sample], cursor: Cursor, currency: str, *, max_gap_h: float = MAX_GAP_H
) -> tuple[list[RatePoint], Cursor]:
    """Turn month-to-date samples (one currency) into rate points, continuing from ``cursor``.
    Returns the points and the new cursor. A currency different from the cursor's restarts the
    series with a ``currency_change`` point (the caller restarts the detector)."""
    points: list[RatePoint] = []
    prev_at, prev_value = cursor.at, cursor.cumulative
    fresh = clean(samples, cursor.at)
    if fresh and cursor.currency is not None and cursor.currency != currency:
        first = fresh[0]
        points.append(
            RatePoint(
                first.at,
                CURRENCY_CHANGE,
                currency,
                None,
                None,
                first.value,
                f"currency changed from {cursor.currency} to {currency}: the series restarts",
            )
        )
        prev_at, prev_value = first.at, first.value
        fresh = fresh[1:]
    for s in fresh:
        points.append(_step(prev_at, prev_value, s, currency, max_gap_h))
        prev_at, prev_value = s.at, s.value
    if prev_at is None:
        return points, cursor
    return points, Cursor(prev_at, prev_value, currency)


def _step(prev_at: datetime | None, prev_value: float | None, s: Sample, currency: str, max_gap_h: float) -> RatePoint:
    if prev_at is None or prev_value is None:
        return RatePoint(s.at, FIRST, currency, None, None, s.value, "first sample of the series")
    if month_start(s.at) != month_start(prev_at):
        into = _hours(month_start(s.at), s.at)
        rate = s.value / into if into > 0 else None
        return RatePoint(
            s.at,
            RESET,
            currency,
            rate,
            into or None,
            s.value,
            f"month reset: {s.value:.2f} {currency} since {month_start(s.at):%Y-%m-%d} "
            "(includes monthly fees billed at the month's start; not scored)",
        )
    hours = _hours(prev_at, s.at)
    delta = s.value - prev_value
    if delta < -EPSILON:
        return RatePoint(
            s.at,
            CORRECTION,
            currency,
            None,
            hours,
            s.value,
            f"month-to-date fell by {-delta:.2f} {currency} (a credit or a revised estimate); not scored",
        )
    rate = max(delta, 0.0) / hours
    if hours > max_gap_h:
        return RatePoint(
            s.at, GAP, currency, rate, hours, s.value, f"no sample for {hours:.0f} h: average rate kept, not scored"
        )
    return RatePoint(s.at, RATE, currency, rate, hours, s.value)


def rates_from_hourly(
    samples: list[Sample], cursor: Cursor, currency: str, *, max_gap_h: float = MAX_GAP_H
) -> tuple[list[RatePoint], Cursor]:
    """Cost Explorer's hourly costs: each sample is already the rate of its hour. Gaps (hours
    missing after the previous sample) are marked; a currency change restarts the series."""
    points: list[RatePoint] = []
    prev_at = cursor.at
    fresh = clean(samples, cursor.at)
    for i, s in enumerate(fresh):
        if i == 0 and cursor.currency is not None and cursor.currency != currency:
            points.append(
                RatePoint(
                    s.at,
                    CURRENCY_CHANGE,
                    currency,
                    s.value,
                    1.0,
                    None,
                    f"currency changed from {cursor.currency} to {currency}: the series restarts",
                )
            )
        elif prev_at is not None and _hours(prev_at, s.at) > max_gap_h:
            gap = _hours(prev_at, s.at)
            points.append(RatePoint(s.at, GAP, currency, s.value, 1.0, None, f"no cost for {gap:.0f} h before"))
        else:
            points.append(RatePoint(s.at, RATE, currency, s.value, 1.0, None))
        prev_at = s.at
    if prev_at is None:
        return points, cursor
    return points, replace(cursor, at=prev_at, currency=currency)


def pick_currency(by_currency: dict[str, list[Sample]], current: str | None) -> str | None:
    """The currency a service is billed in now: the one with the newest sample (ties: the
    series' current currency, then alphabetical). AWS publishes one currency per account; two
    mean the preference changed, and the newer one wins."""
    best: tuple[datetime, int, str] | None = None
    for currency, samples in by_currency.items():
        if not samples:
            continue
        newest = max(utc(s.at) for s in samples)
        key = (newest, 1 if currency == current else 0, currency)
        if best is None or key > best:
            best = key
    return best[2] if best else None
