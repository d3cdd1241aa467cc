"""``dd0c-cost usage poll``: the hourly usage poll through the real handlers, locally.

The schedule's function (usage_fanout) and the poller (usage_poll) run as in AWS, on moto: STS
answers the reader-role assumption and CloudWatch holds the billing samples, loaded from a JSON
Lines file (``{"account", "service", "currency", "timestamp", "value"}``: month-to-date
``EstimatedCharges``) or, with ``--sample``, a generated fortnight with a data-transfer spike.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from dd0c_cost.db import operator
from dd0c_cost_tools.local.runner import LocalPipeline

SAMPLE_ACCOUNT = "111122223333"
H = timedelta(hours=1)


@dataclass
class UsagePollSummary:
    hour: datetime
    samples_loaded: int = 0
    polls: list[dict] = field(default_factory=list)
    anomalies: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "hour": self.hour.isoformat(),
            "samples_loaded": self.samples_loaded,
            "polls": self.polls,
            "anomalies": self.anomalies,
        }


def sample_records(end: datetime, account: str = SAMPLE_ACCOUNT) -> list[dict]:
    """Two weeks of hourly month-to-date charges for three services (deterministic), with NAT /
    data transfer jumping by $35/h two hours before ``end``."""
    rng = random.Random(12)
    hours = 14 * 24
    start = end - (hours - 1) * H
    out = []
    for service, base, spike in (("AmazonEC2", 14.0, 0.0), ("AWSDataTransfer", 1.8, 35.0), ("AmazonS3", 0.6, 0.0)):
        value = 0.0
        for i in range(hours):
            at = start + i * H
            if at.day == 1 and at.hour == 0:
                value = 0.0
            busy = 1.3 if 8 <= at.hour < 20 else 1.0
            value += base * busy * (1 + rng.uniform(-0.1, 0.1)) + (spike if i >= hours - 2 else 0.0)
            out.append(
                {
                    "account": account,
                    "service": service,
                    "currency": "USD",
                    "timestamp": at.isoformat(),
                    "value": round(value, 2),
                }
            )
    return out


def read_records(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _load(records: list[dict]) -> int:
    import boto3

    by_account: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_account[str(r["account"])].append(r)
    for account, items in by_account.items():
        creds = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/dd0c-reader", RoleSessionName="dd0c-local-seed"
        )["Credentials"]
        cw = boto3.client(
            "cloudwatch",
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        data = [
            {
                "MetricName": "EstimatedCharges",
                "Dimensions": [
                    {"Name": "ServiceName", "Value": r["service"]},
                    {"Name": "Currency", "Value": r.get("currency", "USD")},
                ],
                "Timestamp": datetime.fromisoformat(str(r["timestamp"]).replace("Z", "+00:00")),
                "Value": float(r["value"]),
            }
            for r in items
        ]
        for i in range(0, len(data), 500):
            cw.put_metric_data(Namespace="AWS/Billing", MetricData=data[i : i + 500])
    return len(records)


def poll(tenant: str, database_url: str, records: list[dict], at: datetime | None) -> UsagePollSummary:
    """Connect the records' accounts to the tenant, load them into moto CloudWatch, fire the
    hourly schedule at ``at`` (default: the newest sample's hour) and drain the pipeline."""
    from dd0c_cost.db.connection import open_connection, tenant_transaction

    newest = max((datetime.fromisoformat(str(r["timestamp"]).replace("Z", "+00:00")) for r in records), default=None)
    at = at or newest or datetime.now(UTC)
    hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    conn = operator.open_operator_connection(database_url)
    try:
        tenant_id = operator.ensure_tenant(conn, tenant)
        for account in sorted({str(r["account"]) for r in records}):
            operator.connect_account(conn, tenant_id, account, ["us-east-1"])
    finally:
        conn.close()
    summary = UsagePollSummary(hour)
    with LocalPipeline(extra_env={"DATABASE_URL": database_url}) as pipeline:
        summary.samples_loaded = _load(records)
        pipeline.fire_schedule("usage-poll", hour + timedelta(minutes=5))
        pipeline.drain()
    app = open_connection(database_url)
    try:
        with tenant_transaction(app, tenant_id):
            summary.polls = app.execute(
                "SELECT account_id, status, samples, anomalies, detail FROM dd0c.usage_polls WHERE hour = %s "
                "ORDER BY account_id",
                [hour],
            ).fetchall()
            summary.anomalies = app.execute(
                """SELECT id::text, account_id, service, detected_at, severity, score, summary, attributes
                   FROM dd0c.anomalies WHERE resource_type = 'usage' ORDER BY detected_at DESC LIMIT 20"""
            ).fetchall()
    finally:
        app.close()
    for a in summary.anomalies:
        a["detected_at"] = a["detected_at"].isoformat()
    return summary
