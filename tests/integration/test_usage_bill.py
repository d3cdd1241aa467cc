"""Estimate against the bill (dd0c_cost.usage.bill, GET /v1/spend/bill): the cost events' spend
integrated per day next to the billing series' daily spend, and services whose estimates run off."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from dd0c_cost import auth
from dd0c_cost.auth import keys
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.usage import bill
from dd0c_cost_tools.local.runner import LambdaContext
from dd0c_cost_tools.local.serve import apigw_v2_event

ACCOUNT = "111111111111"
D0 = datetime(2026, 3, 2, tzinfo=UTC)


def _event(conn, tenant, i, when, service, usd):
    conn.execute(
        """INSERT INTO dd0c.cost_events (tenant_id, event_id, account_id, region, event_time, event_source,
           event_name, service, resource_type, resource_ids, action, quantity, actor_name,
           estimated_usd_per_hour, payload)
           VALUES (%s, %s, %s, 'us-east-1', %s, 'x.amazonaws.com', 'Create', %s, %s, %s, %s, 1, 'ops', %s, '{}')""",
        [tenant, f"e{i}", ACCOUNT, when, service, f"{service}:r", [f"r{i}"], "create" if usd > 0 else "delete", usd],
    )


def _bill(conn, tenant, service, daily: list[float], start: datetime = D0):
    """Month-to-date samples at 23:00 each day (the month began on the 1st: 5.0 before D0)."""
    value = 5.0
    for d, spend in enumerate(daily):
        value += spend
        conn.execute(
            """INSERT INTO dd0c.usage_points (tenant_id, account_id, source, service, at, currency, kind, cumulative)
               VALUES (%s, %s, 'cloudwatch', %s, %s, 'USD', 'rate', %s)""",
            [tenant, ACCOUNT, service, start + timedelta(days=d, hours=23), value],
        )
    # the day before the range: the first day needs it to difference against
    conn.execute(
        """INSERT INTO dd0c.usage_points (tenant_id, account_id, source, service, at, currency, kind, cumulative)
           VALUES (%s, %s, 'cloudwatch', %s, %s, 'USD', 'rate', 5.0)""",
        [tenant, ACCOUNT, service, start - timedelta(hours=1)],
    )


@pytest.fixture
def seeded(operator_conn, db_url):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {ACCOUNT})
    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant):
        # EC2: $2/h from D0 00:00 (48 $ a day); the bill agrees within 10 %
        _event(conn, tenant, 1, D0, "ec2", 2.0)
        _bill(conn, tenant, "AmazonEC2", [50.0, 52.0, 49.0, 51.0])
        # RDS: $1/h from noon on day 0, stopped at noon on day 2; the bill is three times that
        _event(conn, tenant, 2, D0 + timedelta(hours=12), "rds", 1.0)
        _event(conn, tenant, 3, D0 + timedelta(days=2, hours=12), "rds", -1.0)
        _bill(conn, tenant, "AmazonRDS", [36.0, 72.0, 36.0, 30.0])
    yield tenant, conn
    conn.close()


def test_estimates_are_integrated_per_day_and_compared_with_the_bill(seeded):
    tenant, conn = seeded
    with tenant_transaction(conn, tenant):
        result = bill.compare(conn, D0.date(), D0.date() + timedelta(days=3))
    by = {(d.date, d.service): d for d in result.days}
    day0, day2 = D0.date(), D0.date() + timedelta(days=2)
    assert by[(day0, "AmazonEC2")].estimated_usd == 48.0 and by[(day0, "AmazonEC2")].billed_usd == 50.0
    assert by[(day0, "AmazonEC2")].error == pytest.approx(-0.04)
    assert by[(day0, "AmazonRDS")].estimated_usd == 12.0 and by[(day2, "AmazonRDS")].estimated_usd == 12.0
    services = {s.service: s for s in result.services}
    assert not services["AmazonEC2"].runs_off and services["AmazonEC2"].days == 4
    assert services["AmazonRDS"].runs_off and "run off" in services["AmazonRDS"].note


def test_a_new_month_starts_the_bill_from_zero(operator_conn, db_url):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {ACCOUNT})
    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant):
        for at, value in ((datetime(2026, 3, 31, 23, tzinfo=UTC), 900.0), (datetime(2026, 4, 1, 23, tzinfo=UTC), 40.0)):
            conn.execute(
                """INSERT INTO dd0c.usage_points (tenant_id, account_id, source, service, at, currency, kind, cumulative)
                   VALUES (%s, %s, 'cloudwatch', 'AmazonS3', %s, 'USD', 'rate', %s)""",
                [tenant, ACCOUNT, at, value],
            )
        got = bill.billed(conn, date(2026, 4, 1), date(2026, 4, 1))
    conn.close()
    assert got == {(date(2026, 4, 1), ACCOUNT, "AmazonS3"): 40.0}


def test_the_api_serves_it_to_a_read_key_and_refuses_a_bad_range(seeded, app_env, operator_conn):
    tenant, _conn = seeded
    auth.CACHE.clear()
    key = keys.create_key(operator_conn, tenant, scope="read")[0]
    from dd0c_cost.api.app import app

    def get(query: str):
        headers = {"host": "127.0.0.1:8080", "authorization": f"Bearer {key}"}
        result = app.resolve(
            apigw_v2_event("GET", "/v1/spend/bill?" + query, headers, b"", "127.0.0.1"), LambdaContext("api")
        )
        return result["statusCode"], json.loads(result["body"])

    status, body = get("start=2026-03-02&end=2026-03-05")
    assert status == 200
    assert {s["service"]: s["runs_off"] for s in body["services"]} == {"AmazonEC2": False, "AmazonRDS": True}
    status, body = get("start=2026-03-05&end=2026-03-02")
    assert status == 400 and body["error"] == "invalid_request"
