"""Scenario: usage-driven spend caught from a billing series, end to end through the real
handlers: the hourly schedule fans out per connected account (usage queue), usage_poll assumes the
account's dd0c-reader role (moto STS), reads CloudWatch AWS/Billing EstimatedCharges (moto, seeded
with put_metric_data in the customer's account), runs the streaming detector per service on
PostgreSQL under RLS, and raises a "usage" anomaly through the anomalies table and the notify stage
(Slack outbox). Cost Explorer is the recorded-shape fake (tests/fakes/cost_explorer.py)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import boto3
import psycopg
import pytest

from dd0c_cost import onboarding
from dd0c_cost.db import operator
from dd0c_cost.usage import poller
from tests.fakes.cost_explorer import FakeCostExplorer
from tests.integration.test_scoring_scenarios import rows

ACCOUNT = "210987654321"
OTHER = "321098765432"
HOUR = datetime(2026, 3, 20, 12, tzinfo=UTC)  # the schedule's event time (cron 5 past: 12:05)
H = timedelta(hours=1)


def customer_session(account: str):
    """Credentials in the customer's account (moto keeps one backend per account)."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/dd0c-reader", RoleSessionName="seed", ExternalId="seed-external-id"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def hourly_rates(base: float, hours: int, seed: int, spike_from: int | None = None, spike: float = 0.0) -> list[float]:
    """A usage rate with a daily shape and +-10 % noise (deterministic), optionally a step up."""
    rng = random.Random(seed)
    out = []
    for i in range(hours):
        daily = 1.0 + 0.3 * (1 if 8 <= (i % 24) < 20 else 0)
        value = base * daily * (1 + rng.uniform(-0.1, 0.1))
        if spike_from is not None and i >= spike_from:
            value += spike
        out.append(value)
    return out


def seed_billing(account: str, service: str, rates: list[float], end: datetime, *, currency: str = "USD") -> None:
    """Month-to-date EstimatedCharges samples, one an hour, the last at ``end``."""
    cw = customer_session(account).client("cloudwatch")
    start = end - (len(rates) - 1) * H
    month = start.replace(day=1, hour=0)
    value = sum(rates[0] for _ in range(int((start - month) / H)))  # what the month cost before
    data = []
    for i, rate in enumerate(rates):
        value += rate
        data.append(
            {
                "MetricName": "EstimatedCharges",
                "Dimensions": [{"Name": "ServiceName", "Value": service}, {"Name": "Currency", "Value": currency}],
                "Timestamp": start + i * H,
                "Value": round(value, 2),
            }
        )
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace="AWS/Billing", MetricData=data[i : i + 500])


@pytest.fixture
def tenant(local_pipeline, operator_conn):
    tenant_id = operator.ensure_tenant(operator_conn, "acme")
    operator.connect_account(operator_conn, tenant_id, ACCOUNT, ["us-east-1"])
    yield tenant_id
    poller.set_clients(None)


def usage_anomalies(db_url, tenant_id):
    return rows(
        db_url,
        tenant_id,
        "SELECT * FROM dd0c.anomalies WHERE resource_type = 'usage' ORDER BY detected_at",
    )


def outbox(app_env):
    path = app_env / "slack-outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def poll(local_pipeline, at: datetime):
    local_pipeline.fire_schedule("usage-poll", at + timedelta(minutes=5))
    local_pipeline.drain()


def test_data_transfer_spike_is_caught_from_the_billing_series(local_pipeline, tenant, db_url, app_env):
    hours = 14 * 24
    # NAT / data transfer: ~$2/h, then +$40/h from two hours before the poll
    seed_billing(ACCOUNT, "AWSDataTransfer", hourly_rates(2.0, hours, 1, spike_from=hours - 2, spike=40.0), HOUR)
    seed_billing(ACCOUNT, "AmazonEC2", hourly_rates(12.0, hours, 2), HOUR)  # steady: must stay silent
    poll(local_pipeline, HOUR)

    (anomaly,) = usage_anomalies(db_url, tenant)
    assert anomaly["service"] == "AWSDataTransfer" and anomaly["account_id"] == ACCOUNT
    attrs = anomaly["attributes"]
    assert attrs["kind"] == "usage" and attrs["source"] == "cloudwatch"
    assert 1.5 < attrs["rate_before"] < 3.5 and attrs["rate_after"] > 38
    assert attrs["projected_monthly_impact"] == pytest.approx(attrs["increase_per_hour"] * 730, rel=1e-6)
    assert anomaly["severity"] == "critical"  # > $10k a month if it continues
    assert anomaly["detected_at"] == HOUR - H  # the first hour of the rise (event time)
    assert "no usage-type breakdown" in attrs["usage_types_note"]
    # the same notify stage and Slack path as the event scorer
    (message,) = outbox(app_env)
    assert "AWSDataTransfer" in json.dumps(message)
    # every sample stored once by its natural key; detectors persisted per series
    series = rows(db_url, tenant, "SELECT service, points, detector IS NOT NULL AS d FROM dd0c.usage_series")
    assert {(s["service"], s["points"], s["d"]) for s in series} == {
        ("AWSDataTransfer", hours, True),
        ("AmazonEC2", hours, True),
    }
    (poll_row,) = rows(db_url, tenant, "SELECT status, samples, anomalies, detail FROM dd0c.usage_polls")
    assert poll_row["status"] == "complete" and poll_row["samples"] == 2 * hours
    # one GetMetricData for both series (moto pages ListMetrics by datapoint, AWS by metric)
    assert poll_row["detail"]["calls"]["cloudwatch:GetMetricData"] == 1
    assert set(poll_row["detail"]["calls"]) == {"cloudwatch:ListMetrics", "cloudwatch:GetMetricData"}

    # the same hour again (a retried schedule): nothing new; the next hour, still high: one anomaly, grown
    poll(local_pipeline, HOUR)
    seed_billing(ACCOUNT, "AWSDataTransfer", [44.0], HOUR + H)
    poll(local_pipeline, HOUR + H)
    (grown,) = usage_anomalies(db_url, tenant)
    assert grown["id"] == anomaly["id"]
    assert len(outbox(app_env)) <= 2  # at most an update of the same message
    points = rows(db_url, tenant, "SELECT count(*) AS n FROM dd0c.usage_points")[0]["n"]
    assert points == 2 * hours + 1


def test_denied_role_is_recorded_and_the_next_poll_reads_the_missed_hours(local_pipeline, tenant, db_url):
    from botocore.exceptions import ClientError

    hours = 8 * 24
    seed_billing(ACCOUNT, "AmazonS3", hourly_rates(3.0, hours, 3), HOUR)

    class Denied(poller.ReaderRoleClients):
        def session(self, account_id, external_id):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    poller.set_clients(Denied())
    poll(local_pipeline, HOUR)
    (row,) = rows(db_url, tenant, "SELECT status, detail FROM dd0c.usage_polls")
    assert row["status"] == "access_denied" and row["detail"]["errors"]["assume_role"]["kind"] == "access_denied"
    assert local_pipeline.take_dead_letters("usage") == []  # recorded, not retried into the DLQ

    poller.set_clients(None)
    poll(local_pipeline, HOUR + H)
    (series,) = rows(db_url, tenant, "SELECT points FROM dd0c.usage_series")
    assert series["points"] == hours


def test_cost_explorer_when_enabled_names_the_usage_types_and_its_calls_are_capped(
    local_pipeline, tenant, db_url, operator_conn
):
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.usage import store

    hours = 10 * 24
    rates = hourly_rates(1.0, hours, 4, spike_from=hours - 2, spike=25.0)
    seed_billing(ACCOUNT, "AWSLambda", rates, HOUR)
    start = HOUR - (hours - 1) * H
    table = {
        ("AWS Lambda", "USE1-Lambda-GB-Second"): {start + i * H: r * 0.8 for i, r in enumerate(rates)},
        ("AWS Lambda", "USE1-Request"): {start + i * H: r * 0.2 for i, r in enumerate(rates)},
    }
    fake = FakeCostExplorer(table, page_hours=24 * 20)

    class WithFake(poller.ReaderRoleClients):
        def cost_explorer(self, session):
            return fake

    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant):
        store.set_settings(conn, tenant, by="test", cost_explorer=True, ce_monthly_call_cap=2)
    conn.close()
    poller.set_clients(WithFake())
    poll(local_pipeline, HOUR)

    (anomaly,) = usage_anomalies(db_url, tenant)
    attrs = anomaly["attributes"]
    # Cost Explorer read in full (one page) -> its series alert; one more call for the usage types
    assert attrs["source"] == "cost_explorer" and anomaly["service"] == "AWS Lambda"
    assert [t["usage_type"] for t in attrs["top_usage_types"]] == ["USE1-Lambda-GB-Second", "USE1-Request"]
    assert len(fake.calls) == 2
    assert {c["GroupBy"][0]["Key"] for c in fake.calls} == {"SERVICE", "USAGE_TYPE"}
    # the poll called exactly the reader role's usage actions: nothing missing, nothing spare
    (first,) = rows(db_url, tenant, "SELECT detail FROM dd0c.usage_polls WHERE hour = %s", [HOUR])
    assert sorted(first["detail"]["calls"]) == sorted(onboarding.USAGE_POLL_ACTIONS)
    # the cap (2 a month) is reached: the next poll makes no paid call and CloudWatch alerts instead
    poll(local_pipeline, HOUR + H)
    assert len(fake.calls) == 2
    calls = rows(db_url, tenant, "SELECT api, calls, refused FROM dd0c.usage_api_calls")
    assert calls == [{"api": "ce:GetCostAndUsage", "calls": 2, "refused": 1}]
    (row,) = rows(db_url, tenant, "SELECT status, detail FROM dd0c.usage_polls WHERE hour = %s", [HOUR + H])
    assert row["detail"]["errors"]["cost_explorer"]["kind"] == "capped"


def test_fan_out_covers_connected_accounts_of_tenants_that_poll(local_pipeline, operator_conn, db_url):
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.usage import store

    acme = operator.ensure_tenant(operator_conn, "acme")
    operator.connect_account(operator_conn, acme, ACCOUNT, ["us-east-1"])
    quiet = operator.ensure_tenant(operator_conn, "quiet")
    operator.connect_account(operator_conn, quiet, OTHER, ["us-east-1"])
    conn = open_connection(db_url)
    with tenant_transaction(conn, quiet):
        store.set_settings(conn, quiet, by="test", enabled=False)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # not the application role's door
        store.poll_targets(conn)
    conn.close()
    # the fan-out's role sees only (tenant, account) pairs through the door, nothing else
    fanout = open_connection(db_url, poller.FANOUT_ROLE)
    assert store.poll_targets(fanout) == [(acme, ACCOUNT)]
    fanout.close()
    result = local_pipeline.fire_schedule("usage-poll", HOUR + timedelta(minutes=5))
    assert result == {"hour": HOUR.isoformat(), "messages": 1}
