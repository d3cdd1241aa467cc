"""The scorer's anomalies do not depend on how the events were batched: one event per transaction
(the live path's smallest delivery) and all of them in one (the bulk path) give the same rows —
including an anomaly whose events have different attributes (a burst of two instance types)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.models import Actor, CostAction, CostEvent, PriceQuote
from dd0c_cost.events.store import insert_cost_event
from dd0c_cost.scoring.config import DEFAULT_CONFIG
from dd0c_cost.scoring.scorer import score_cost_events

ACCOUNT = "111122223333"
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _events(tenant_id, who: str = "intern") -> list[CostEvent]:
    actor = Actor(display_name=who, principal_arn=f"arn:aws:iam::{ACCOUNT}:user/{who}")
    out = []
    for k, (itype, unit, extra) in enumerate(
        [
            ("p4d.24xlarge", 32.77, {"capacity_reservation": "cr-1"}),
            ("g5.48xlarge", 16.29, {}),
            ("p4d.24xlarge", 32.77, {}),
        ]
    ):
        out.append(
            CostEvent(
                tenant_id=tenant_id,
                account_id=ACCOUNT,
                region="ap-southeast-2",
                event_id=f"burst-{k}",
                event_time=T0 + timedelta(seconds=30 * k),
                event_source="ec2.amazonaws.com",
                event_name="RunInstances",
                actor=actor,
                service="ec2",
                resource_type="ec2:instance",
                resource_ids=[f"i-{k:017x}", f"i-{k + 100:017x}"],
                action=CostAction.CREATE,
                quantity=2.0,
                attributes={"instance_type": itype, **extra},
                unit_price=PriceQuote(usd_per_hour=unit, source="test", as_of="2026-01-01"),
                estimated_usd_per_hour=round(2 * unit, 6),
            )
        )
    return out


def _score(url: str, batches: list[list[int]], who: str = "intern") -> list[dict]:
    op = operator.open_operator_connection(url)
    tenant = operator.ensure_tenant(op, "batches")
    operator.attach_accounts(op, tenant, {ACCOUNT})
    op.close()
    events = _events(tenant, who)
    conn = open_connection(url)
    with tenant_transaction(conn, tenant):
        for e in events:
            insert_cost_event(conn, e)
    for batch in batches:
        results = score_cost_events(conn, [events[i] for i in batch], DEFAULT_CONFIG)
        assert all(r.error is None for r in results)
    conn.close()
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as admin:
        return admin.execute(
            """SELECT account_id, region, resource_ids, event_ids, actor, detected_at, score, severity,
                      estimated_hourly_usd, summary, components, attributes FROM dd0c.anomalies ORDER BY event_ids"""
        ).fetchall()


def test_one_event_per_transaction_and_all_in_one_give_the_same_anomaly(make_database, migrated_template):
    one_by_one = _score(make_database(template=migrated_template), [[0], [1], [2]])
    all_at_once = _score(make_database(template=migrated_template), [[0, 1, 2]])
    assert len(one_by_one) == 1 and len(one_by_one[0]["event_ids"]) == 3
    assert all_at_once == one_by_one
    assert one_by_one[0]["attributes"]["capacity_reservation"] == "cr-1"  # kept from the first event


def test_text_the_scorer_sends_is_stored_as_it_was(make_database, migrated_template):
    """What the scorer sends as its statements' text parameters (db.one_trip.round_trip): quotes, backslashes,
    JSON escapes and non-ASCII in what it stores come back unchanged."""
    who = "o'brien\\x\"y'' \u00fc\u2603 %s {}"
    (anomaly,) = _score(make_database(template=migrated_template), [[0, 1, 2]], who=who)
    assert anomaly["actor"] == f"arn:aws:iam::{ACCOUNT}:user/{who}"
    assert anomaly["attributes"]["actor_name"] == who
