"""The whole slice on real parts: moto FIFO queues, the real handlers, a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.topology import COST_EVENTS, INGEST, TOPOLOGY
from tests.outcome_tally import Tally
from tests.records import envelope, instance_ids, run_instances, terminate_instances


def _send(pipeline, tenant_id, records):
    bodies = [
        (
            r.get("account") or r["recipientAccountId"],
            IngestMessage(tenant_id=tenant_id, origin=Origin(source="replay", line=i), record=r).model_dump_json(),
        )
        for i, r in enumerate(records)
    ]
    pipeline.send_ingest(bodies)


def _rows(db_url, tenant_id, sql, params=()):
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant_id):
            return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_big_gpu_launch_after_a_quiet_baseline_raises_one_priced_anomaly(
    local_pipeline, operator_conn, db_url, app_env
):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333"})
    history = []
    base = run_instances()
    for day in range(8):
        when = base_time(base) + timedelta(days=day)
        launch = run_instances(instance_type="m5.large", count=2, when=when)
        history += [launch, terminate_instances("111122223333", instance_ids(launch), when=when + timedelta(hours=8))]
    surprise = run_instances(
        instance_type="p4d.24xlarge",
        count=8,
        region="ap-southeast-2",
        when=base_time(base) + timedelta(days=9),
        user="intern",
    )
    with Tally() as tally:
        _send(local_pipeline, tenant, [envelope(r) for r in history] + [surprise])
        local_pipeline.drain()

    assert tally.count("normalize", "cost_event") == len(history) + 1
    assert tally.count("score", "anomaly") == 1
    anomalies = _rows(db_url, tenant, "SELECT * FROM dd0c.anomalies")
    assert len(anomalies) == 1
    anomaly = anomalies[0]
    assert anomaly["event_ids"] == [surprise["eventID"]]
    assert anomaly["region"] == "ap-southeast-2"
    # 8 x p4d.24xlarge; the price comes from the snapshot, not from the test.
    from dd0c_cost.pricing import get_price_book

    unit = get_price_book().ec2_instance("ap-southeast-2", "p4d.24xlarge").usd_per_hour
    assert unit and abs(anomaly["estimated_hourly_usd"] - 8 * unit) < 1e-6
    assert anomaly["severity"] == "critical"
    assert "intern" in anomaly["summary"] and "p4d.24xlarge" in anomaly["summary"]
    # Terminations were priced from the launch they undo (spend went back down).
    deletes = _rows(db_url, tenant, "SELECT estimated_usd_per_hour FROM dd0c.cost_events WHERE action = 'delete'")
    assert deletes and all(r["estimated_usd_per_hour"] < 0 for r in deletes)
    # Notify had no Slack token: the message is in the outbox for a newcomer to read.
    outbox = (app_env / "slack-outbox.jsonl").read_text().splitlines()
    assert len(outbox) == 1 and json.loads(outbox[0])["anomaly_id"] == str(anomaly["id"])


def base_time(record):
    from dd0c_cost.events.cloudtrail import parse_event_time

    return parse_event_time(record["eventTime"])


def test_same_event_id_twice_is_processed_once_and_reported_as_duplicate(local_pipeline, operator_conn, db_url):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333"})
    record = run_instances(event_id="evt-dup-1")
    with Tally() as tally:
        # Different origins, so SQS's own 5-minute deduplication does not hide the second copy.
        _send(local_pipeline, tenant, [record, record])
        local_pipeline.drain()
    assert tally.count("normalize", "cost_event") == 1
    assert tally.count("normalize", "rejected", "duplicate") == 1
    assert _rows(db_url, tenant, "SELECT count(*) AS n FROM dd0c.cost_events")[0]["n"] == 1
    baseline = _rows(db_url, tenant, "SELECT n FROM dd0c.spend_baselines")
    assert [b["n"] for b in baseline] == [1]  # the baseline saw the event once


def test_deduplication_never_crosses_tenants(local_pipeline, operator_conn, db_url):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    operator.attach_accounts(operator_conn, a, {"111111111111"})
    operator.attach_accounts(operator_conn, b, {"222222222222"})
    with Tally() as tally:
        _send(local_pipeline, a, [run_instances("111111111111", event_id="1")])
        _send(local_pipeline, b, [run_instances("222222222222", event_id="1")])
        local_pipeline.drain()
    assert tally.count("normalize", "cost_event") == 2
    assert tally.count("normalize", "rejected", "duplicate") == 0
    assert len(_rows(db_url, a, "SELECT 1 FROM dd0c.cost_events")) == 1
    assert len(_rows(db_url, b, "SELECT 1 FROM dd0c.cost_events")) == 1


def test_failed_and_dry_run_launches_cost_nothing(local_pipeline, operator_conn, db_url):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333"})
    records = [
        run_instances(instance_type="p4d.24xlarge", count=8, error_code="Client.DryRunOperation"),
        run_instances(instance_type="p4d.24xlarge", count=8, error_code="Client.UnauthorizedOperation"),
    ]
    with Tally() as tally:
        _send(local_pipeline, tenant, records)
        local_pipeline.drain()
    assert tally.count("normalize", "not_cost_relevant", "failed_call") == 2
    assert _rows(db_url, tenant, "SELECT count(*) AS n FROM dd0c.anomalies")[0]["n"] == 0


def test_record_from_another_tenants_account_is_rejected_and_kept(local_pipeline, operator_conn, db_url):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    operator.attach_accounts(operator_conn, b, {"222222222222"})
    with Tally() as tally:
        # Tenant A (authenticated by the producer) sends a record of tenant B's account.
        _send(local_pipeline, a, [run_instances("222222222222")])
        _send(local_pipeline, a, [run_instances("999999999999")])
        local_pipeline.drain()
    assert tally.count("normalize", "rejected", "account_not_connected") == 1
    assert tally.count("normalize", "rejected", "unknown_account") == 1
    assert _rows(db_url, b, "SELECT count(*) AS n FROM dd0c.cost_events")[0]["n"] == 0
    kept = local_pipeline.take_dead_letters(INGEST)
    reasons = sorted(m["MessageAttributes"]["reject_reason"]["StringValue"] for m in kept)
    assert reasons == ["account_not_connected", "unknown_account"]
    assert json.loads(kept[0]["Body"])["record"]["eventName"] == "RunInstances"  # the data itself is kept


def test_poison_message_goes_to_dlq_after_retries_without_blocking_its_batch(local_pipeline, operator_conn, db_url):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333", "444455556666"})
    _send(local_pipeline, tenant, [run_instances("111122223333"), run_instances("444455556666")])
    # Normalise only, so the good cost events wait in the scorer's queue beside the poison.
    while local_pipeline.pump_once(TOPOLOGY.function("normalize")):
        pass
    poison = '{"schema_version": "1", "tenant_id": "not-a-uuid"}'
    local_pipeline.sqs.send_message(
        QueueUrl=local_pipeline.queues[COST_EVENTS].url,
        MessageBody=poison,
        MessageGroupId="poison-group",
        MessageDeduplicationId="poison-1",
    )
    with Tally() as tally:
        local_pipeline.drain()
    assert tally.count("score", "scored") == 2  # both good events were scored
    dead = local_pipeline.take_dead_letters(COST_EVENTS)
    assert [m["Body"] for m in dead] == [poison]
    assert int(dead[0]["Attributes"]["ApproximateReceiveCount"]) >= 3  # retried before giving up
    assert local_pipeline.invocations["score"] >= 3
