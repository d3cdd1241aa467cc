"""bench detect: the labelled stream is deterministic and covers what it claims; the baseline's
arithmetic; and a small stream end to end through the product's functions on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dd0c_cost_tools.bench import detect
from dd0c_cost_tools.bench.detect_stream import FAMILIES, Incident, Stream, generate

pytestmark = pytest.mark.bench


def test_stream_is_deterministic_and_labelled():
    a, b = generate(5, accounts=3, weeks=3), generate(5, accounts=3, weeks=3)
    assert [r.record for r in a.records] == [r.record for r in b.records]
    assert [r.record["eventTime"] for r in a.records] == sorted(r.record["eventTime"] for r in a.records)
    kinds = {r.kind for r in a.records}
    assert {"routine", "incident", "weekly", "decrease", "cheap_novelty", "failed", "dry_run"} <= kinds
    full = generate(1)
    assert {r.kind for r in full.records} >= {"monthly", "weekly"}
    # every service family has incidents; every incident has the calls that make it
    assert len(full.incidents) >= 2 * len(FAMILIES)
    assert all(i.event_ids for i in full.incidents)
    labelled = {r.record["eventID"] for r in full.records if r.incident}
    assert labelled == {e for i in full.incidents for e in i.event_ids}
    # failed and dry-run calls carry their error codes
    errors = {r.record.get("errorCode") for r in full.records if r.kind in ("failed", "dry_run")}
    assert errors == {"InsufficientInstanceCapacity", "Client.UnauthorizedOperation", "Client.DryRunOperation"}


def test_baseline_alerts_a_day_late_on_mean_plus_three_sd_and_100_dollars():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    inc = Incident("inc-001", "111122223333", "t", "rds", start + timedelta(days=12, hours=10), "big db")
    stream = Stream(1, start, start + timedelta(days=14), {"111122223333": ("t", start)}, [], [inc])
    ledger = {
        ("rds", "small"): ("111122223333", start, 1.0),  # $24 a day, steady
        ("rds", "big"): ("111122223333", inc.start, 20.0),  # +$280 on day 12, +$480 a day after
    }
    costs = detect.daily_costs(stream, ledger)[("111122223333", "rds")]
    assert costs[11] == 24.0 and costs[12] == 24.0 + 20.0 * 14
    result = detect.score_baseline(stream, ledger)
    assert result.caught == 1 and result.precision == 1.0
    # known at the end of the next day: 2026-01-14 00:00, 38 h after the incident's 10:00 start
    assert min(result.delays_s) == 38 * 3600
    # under $100 above the mean: no alert
    small = {("rds", "small"): ledger[("rds", "small")], ("rds", "big"): ("111122223333", inc.start, 0.2)}
    assert detect.score_baseline(stream, small).alerts == 0


def test_small_stream_end_to_end_through_the_products_functions(db_url):
    stream = generate(7, accounts=2, weeks=3)
    product, ledger, events = detect.score_product(stream, db_url)
    assert events > 100 and ledger
    assert product.incidents == len(stream.incidents) > 0
    assert product.alerts >= product.true_alerts > 0
