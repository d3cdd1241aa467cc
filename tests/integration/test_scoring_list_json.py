"""The anomaly list's ``list_json`` (migrations 027, 030): the scorer writes it for the anomalies it raises or
grows (``scoring/list_json.py``) exactly as ``dd0c.anomaly_list_json`` would, leaves to PostgreSQL what it cannot
follow exactly, and every other write gets PostgreSQL's value whenever something the row lists changes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.db.one_trip import Statement, round_trip
from dd0c_cost.scoring import store
from dd0c_cost.scoring.anomaly_writes import SET_LIST_JSON, insert_new
from dd0c_cost.scoring.list_json import list_json
from dd0c_cost.scoring.models import Anomaly, ScoreComponent, Severity

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_SQL = """dd0c.anomaly_list_json(id, tenant_id, account_id, region, service, resource_type, resource_ids, event_ids,
    actor, detected_at, score, severity, estimated_hourly_usd, status, summary, components, attributes, snoozed_until,
    notify_withheld, delivery_status, delivery_detail)"""
_COLUMNS = f"{store._ANOMALY_COLUMNS}, notify_withheld, delivery_status, delivery_detail"

# (what, overrides, whether the scorer writes it: False = left to PostgreSQL)
CASES = [
    ("the scorer's usual row", {}, True),
    (
        "numbers of every plain kind",
        {
            "attributes": {
                "i": 3,
                "n": -(2**62),
                "f": 0.1 + 0.2,
                "g": 2 / 3,
                "z": 0.0,
                "t": 1e-4,
                "h": 99999999999999.9,
                "b": True,
                "x": None,
            }
        },
        True,
    ),
    (
        "keys in jsonb's order",
        {"attributes": {"bbb": 1, "a": {"zz": [1, {"y": 2, "xx": "é"}], "c": []}, "ключ": "v", "é": 2, "aa": "x"}},
        True,
    ),
    ("non-ASCII and controls in the summary", {"summary": 'dev 3 × m5.large 😀 "q" \\ \n\t\x7f'}, True),
    ("non-ASCII component reason", {"components": [("zscore", 0.5, "≥ 3σ"), ("novelty", 1.0, "new")]}, True),
    (
        "microseconds, another time zone",
        {"detected_at": datetime(2026, 11, 2, 9, 0, 0, 7, tzinfo=timezone(timedelta(hours=5, minutes=30)))},
        True,
    ),
    ("no resources, zero $/h", {"resource_ids": [], "estimated_hourly_usd": 0.0, "score": 0.0}, True),
    ("a tiny attribute (orjson writes an exponent)", {"attributes": {"r": 1e-5}}, False),
    ("a huge attribute", {"attributes": {"r": 1e16}}, False),
    ("an attribute of 1e15", {"attributes": {"r": 1500000000000000.0}}, False),
    ("negative zero attribute", {"attributes": {"r": -0.0}}, False),
    ("nested past 20 levels", {"attributes": {"d": json.loads("[" * 25 + "]" * 25)}}, False),
    ("a tiny component value", {"components": [("zscore", 1e-5, "r")]}, False),
    ("negative zero component value", {"components": [("zscore", -0.0, "r")]}, False),
    ("non-ASCII actor", {"actor": "dév"}, False),
    ("a quote in an event id", {"event_ids": ['ev"1']}, False),
    ("a tiny $/h", {"estimated_hourly_usd": 1e-5}, False),
    ("a huge $/h", {"estimated_hourly_usd": 1.5e14}, False),
]


def _anomaly(tenant: uuid.UUID, i: int, overrides: dict) -> Anomaly:
    values = {
        "id": uuid.UUID(int=i + 1),
        "tenant_id": tenant,
        "account_id": "111111111111",
        "region": "us-east-1",
        "service": "ec2",
        "resource_type": "ec2:instance",
        "resource_ids": [f"i-{i}a", f"i-{i}b"],
        "event_ids": [f"ev-{i}"],
        "actor": "arn:aws:iam::111111111111:user/dev",
        "detected_at": T0 + timedelta(minutes=i),
        "score": 0.87,
        "severity": Severity.HIGH,
        "estimated_hourly_usd": 12.345678,
        "summary": "dev launched 3 x m5.large in us-east-1",
        "components": [("zscore", 0.8, "far above the level"), ("novelty", 0.25, "new region")],
        "attributes": {"quantity": 3, "regions": ["us-east-1"], "instance_types": {"m5.large": 3}, "rate": 0.5},
    }
    values.update(overrides)
    values["components"] = [ScoreComponent(name=n, value=v, reason=r) for n, v, r in values["components"]]
    return Anomaly(**values)


@pytest.fixture
def tenant_conn(db_url, operator_conn):
    tenant = operator.ensure_tenant(operator_conn, "tenant-list-json")
    conn = open_connection(db_url)
    yield tenant, conn
    conn.close()


def test_the_scorer_writes_what_postgresql_would_and_leaves_it_the_rest(tenant_conn):
    tenant, conn = tenant_conn
    anomalies = [_anomaly(tenant, i, overrides) for i, (_, overrides, _) in enumerate(CASES)]
    for (what, _, by_scorer), a in zip(CASES, anomalies, strict=True):
        assert (list_json(a) is not None) is by_scorer, what
    with tenant_transaction(conn, tenant):
        round_trip(conn, [insert_new(anomalies)])
        rows = conn.execute(f"SELECT id, list_json, {_SQL} AS sql FROM dd0c.anomalies ORDER BY id").fetchall()
    assert len(rows) == len(CASES)
    for (what, _, by_scorer), a, row in zip(CASES, anomalies, rows, strict=True):
        assert row["id"] == a.id
        assert row["list_json"] == row["sql"], what
        if by_scorer:
            assert row["list_json"] == list_json(a), what
    # the ones PostgreSQL cannot write exactly either: NULL, the page goes to Python (migration 026)
    nulls = {what for (what, _, _), row in zip(CASES, rows, strict=True) if row["list_json"] is None}
    assert nulls == {
        "an attribute of 1e15",
        "nested past 20 levels",
        "a tiny component value",
        "non-ASCII actor",
        "a quote in an event id",
        "a tiny $/h",
        "a huge $/h",
    }


def test_updates_write_it_again_when_what_it_lists_changes(tenant_conn):
    tenant, conn = tenant_conn
    a = _anomaly(tenant, 0, {"attributes": {"q": 1}})
    with tenant_transaction(conn, tenant):
        round_trip(conn, [insert_new([a])])
    first = list_json(a)
    steps = [  # (update, what list_json must now say)
        ("notified_revision = 1", '"attributes":{"q":1}'),  # not listed: left as it is
        ("list_json = 'forged'", '"attributes":{"q":1}'),  # no UPDATE stores a value of its own
        ("attributes = '{\"q\": 1.0}'", '"attributes":{"q":1.0}'),  # equal as jsonb, not as the list writes it
        ("score = 0", '"score":0.0,'),
        ("score = '-0'", '"score":-0.0,'),  # equal as float8, not as the list writes it
        ("status = 'acknowledged', delivery_status = 'slack'", '"status":"acknowledged"'),
    ]
    for update, expected in steps:
        with tenant_transaction(conn, tenant):
            conn.execute(f"UPDATE dd0c.anomalies SET {update} WHERE id = %s", [a.id])
            row = conn.execute(f"SELECT list_json, {_SQL} AS sql FROM dd0c.anomalies WHERE id = %s", [a.id]).fetchone()
        assert row["list_json"] == row["sql"] and expected in row["list_json"], update
        if update.startswith("notified"):
            assert row["list_json"] == first


# (what the grow changes, with the delivery columns the row has by then)
GROWS = [
    ("attributes merged, more events", 'attributes = attributes || \'{"q": 2, "zz": [1.5, "x"]}\''),
    ("acknowledged, delivered", "status = 'acknowledged', delivery_status = 'slack', delivery_detail = 'ts 1.2'"),
    ("snoozed, withheld", "status = 'snoozed', snoozed_until = '2026-11-09 10:00:00.5+01', notify_withheld = 'panic'"),
    ("a delivery detail PostgreSQL writes as NULL", "delivery_status = 'outbox', delivery_detail = 'said \"no\"'"),
]


def test_the_scorer_writes_a_grown_rows_list_json_as_postgresql_would(tenant_conn):
    """Migration 030: in the scorer's transaction the UPDATE trigger leaves list_json alone; the scorer writes it
    from the row the grow returns (``anomaly_writes.grow``), its own text or the function's, never a stale one."""
    tenant, conn = tenant_conn
    anomalies = [_anomaly(tenant, i, overrides) for i, (_, overrides, _) in enumerate(CASES)]
    with tenant_transaction(conn, tenant):
        round_trip(conn, [insert_new(anomalies)])
    checked = 0
    for what, grow in GROWS:
        with tenant_transaction(conn, tenant):
            conn.execute("SELECT set_config('dd0c.list_json_writer', 'scorer', true)")
            rows = conn.execute(
                f"UPDATE dd0c.anomalies SET {grow}, event_ids = event_ids || '{{ev-more}}' "
                f"RETURNING {_COLUMNS}, list_json, {_SQL} AS sql"
            ).fetchall()
            for row in rows:
                assert row["list_json"] != row["sql"] or row["sql"] is None, what  # the trigger left it
                delivery = {k: row[k] for k in ("notify_withheld", "delivery_status", "delivery_detail")}
                a = Anomaly.model_validate({k: row[k] for k in row if k not in (*delivery, "list_json", "sql")})
                text = list_json(
                    a,
                    withheld=delivery["notify_withheld"],
                    delivery_status=delivery["delivery_status"],
                    delivery_detail=delivery["delivery_detail"],
                )
                assert text is None or text == row["sql"], what
                checked += text is not None
                round_trip(
                    conn, [Statement(SET_LIST_JSON, [str(a.id).encode(), None if text is None else text.encode()])]
                )
            stored = conn.execute(f"SELECT list_json, {_SQL} AS sql FROM dd0c.anomalies").fetchall()
        assert all(r["list_json"] == r["sql"] for r in stored), what
    assert checked >= len(GROWS) * 5  # most rows are the scorer's to write


def test_only_the_scorers_transaction_keeps_the_trigger_off(tenant_conn):
    tenant, conn = tenant_conn
    a = _anomaly(tenant, 0, {})
    with tenant_transaction(conn, tenant):
        round_trip(conn, [insert_new([a])])
        conn.execute("SELECT set_config('dd0c.list_json_writer', 'scorer', true)")
        conn.execute("UPDATE dd0c.anomalies SET score = 0.5 WHERE id = %s", [a.id])
        assert '"score":0.87,' in conn.execute("SELECT list_json FROM dd0c.anomalies").fetchone()["list_json"]
        conn.execute("UPDATE dd0c.anomalies SET list_json = NULL WHERE id = %s", [a.id])
    with tenant_transaction(conn, tenant):  # the next transaction: the trigger writes it again
        conn.execute("UPDATE dd0c.anomalies SET score = 0.25 WHERE id = %s", [a.id])
        row = conn.execute(f"SELECT list_json, {_SQL} AS sql FROM dd0c.anomalies").fetchone()
    assert row["list_json"] == row["sql"] and '"score":0.25,' in row["list_json"]
