"""The anomaly list's prepared page query keeps one generic plan (docs/decisions.md, 90): PostgreSQL does not
plan it again on every page."""

from __future__ import annotations

import json

import psycopg

from dd0c_cost.db.connection import get_connection
from tests.integration.test_anomaly_list_json import world  # noqa: F401  the same rows, keys and resolver


def _plans(conn) -> list[tuple[int, int]]:
    """(generic, custom) plans of each page statement this connection prepared."""
    with conn.transaction():
        rows = conn.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%FROM dd0c.anomalies%'"
        ).fetchall()
    return [(r["generic_plans"], r["custom_plans"]) for r in rows]


def test_the_page_statement_is_planned_once_not_on_every_page(world, db_url):  # noqa: F811
    # enough rows that a plan's cost depends on them (on a few rows every plan is cheap and the generic one wins)
    with psycopg.connect(db_url, autocommit=True) as admin:  # superuser: outside RLS
        admin.execute(
            """INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, resource_ids,
                   event_ids, actor, detected_at, score, severity, estimated_hourly_usd, status, summary)
               SELECT tenant_id, account_id, region, service, resource_type, resource_ids, ARRAY['e' || i],
                   actor, detected_at - i * interval '1 minute', score, severity, estimated_hourly_usd, status, summary
               FROM dd0c.anomalies, generate_series(1, 2000) AS i WHERE account_id = '222222222222'"""
        )
        admin.execute("ANALYZE dd0c.anomalies")
    got, _, fast = world({"limit": 10}, key="b")
    assert fast
    cursor = json.loads(got["body"])["next_cursor"]
    for _ in range(12):  # pages after a cursor: the statement with parameters
        got, want, fast = world({"limit": 10, "cursor": cursor}, key="b")
        assert got == want and fast
        cursor = json.loads(got["body"])["next_cursor"]
    plans = _plans(get_connection())  # the fast path's statements, and the route's (psycopg prepares it too)
    # PostgreSQL tries five custom plans before it weighs the generic one; with the cursor's values as
    # constants or the limit as a parameter, every page after a cursor was planned again
    assert all(custom <= 5 for _, custom in plans), plans
    assert max(generic for generic, _ in plans) >= 7, plans
