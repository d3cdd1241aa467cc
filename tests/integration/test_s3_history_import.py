"""A customer's CloudTrail bucket imported in chunks of log files (moto S3) gives what replaying
the same records gives: the same cost events, scores and anomalies, and every anomaly announced
once (the notify queue receives a message for it). A log file that is not CloudTrail is rejected
alone, by name."""

from __future__ import annotations

import gzip
from collections import defaultdict
from datetime import datetime

import orjson
import psycopg

from dd0c_cost.db import operator

BUCKET = "acme-cloudtrail"


def _log_files(paths) -> dict[str, bytes]:
    """The stream as CloudTrail writes it: one gzip file per account, region and hour."""
    groups: dict[tuple, list] = defaultdict(list)
    for path in paths:
        for line in path.read_bytes().splitlines():
            rec = orjson.loads(line)
            t = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
            groups[
                (rec["recipientAccountId"], rec["awsRegion"], t.strftime("%Y/%m/%d"), t.strftime("%Y%m%dT%H00Z"))
            ].append(rec)
    files = {}
    for (account, region, day, stamp), records in groups.items():
        key = f"AWSLogs/{account}/CloudTrail/{region}/{day}/{account}_CloudTrail_{region}_{stamp}_x.json.gz"
        files[key] = gzip.compress(orjson.dumps({"Records": records}), mtime=0)
    return files


def _state(url: str) -> dict:
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        return {
            "events": conn.execute(
                "SELECT event_id, estimated_usd_per_hour, attributes, score FROM dd0c.cost_events ORDER BY event_id"
            ).fetchall(),
            "anomalies": conn.execute(
                """SELECT event_ids, resource_ids, score, severity, estimated_hourly_usd, summary, attributes
                   FROM dd0c.anomalies ORDER BY event_ids"""
            ).fetchall(),
        }


def test_bucket_import_in_chunks_matches_the_replay(make_database, migrated_template, tmp_path, monkeypatch):
    import boto3
    from moto import mock_aws

    from dd0c_cost.backfill.s3_history import import_chunk, plan_chunks
    from dd0c_cost.db.connection import NORMALIZER_ROLE, close_connection, open_connection
    from dd0c_cost.pricing import get_price_book
    from dd0c_cost.scoring.config import DEFAULT_CONFIG
    from dd0c_cost_tools.bench.streams import write_stream
    from dd0c_cost_tools.local.backfill import bulk_replay

    paths = write_stream(tmp_path / "stream", 800, accounts=2, weeks=2, cost_share=0.25)
    replayed_url = make_database(template=migrated_template)
    monkeypatch.setenv("DD0C_DATA_DIR", str(tmp_path / "replay"))
    monkeypatch.setenv("DATABASE_URL", replayed_url)
    replayed = bulk_replay(sorted(paths), "acme", replayed_url)  # ties in event time: key order
    close_connection()

    url = make_database(template=migrated_template)
    op = operator.open_operator_connection(url)
    tenant = operator.ensure_tenant(op, "acme")
    files = _log_files(paths)
    operator.attach_accounts(op, tenant, {k.split("/")[1] for k in files})
    op.close()
    announced, rejects = [], []
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for key, body in files.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        s3.put_object(Bucket=BUCKET, Key="AWSLogs/210000000000/CloudTrail/us-east-1/2026/03/09/bad.json.gz", Body=b"{")
        keys = [
            o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET) for o in page["Contents"]
        ]
        chunks = plan_chunks(tenant, BUCKET, keys, chunk_keys=7)
        assert len(chunks) > 5
        conn = open_connection(url, NORMALIZER_ROLE)  # the history import normalises: it resolves accounts
        totals = defaultdict(int)
        for chunk in chunks:
            summary = import_chunk(
                chunk,
                conn,
                get_price_book(),
                DEFAULT_CONFIG,
                s3_client=s3,
                notify=announced.append,
                on_reject=rejects.append,
            )
            totals["read"] += summary.read
            totals["cost_events"] += summary.cost_events
            totals["anomalies"] += summary.anomalies
        conn.close()
    assert [r["reason"] for r in rejects] == ["not_json"]
    assert totals["read"] == replayed.read + 1
    assert (totals["cost_events"], totals["anomalies"]) == (replayed.cost_events, replayed.anomalies)
    # Chunk boundaries are scoring-transaction boundaries: scores may differ in the last stored digit
    # (noted in issue 9's closing note); everything else is identical.
    got, want = _state(url), _state(replayed_url)
    for part in ("events", "anomalies"):
        assert len(got[part]) == len(want[part]), part
        for a, b in zip(got[part], want[part], strict=True):
            assert a == b, part
    assert len({m.anomaly_id for m in announced}) == replayed.anomalies


def test_history_import_function_on_its_fifo_queue(local_pipeline, db_url, make_database, migrated_template, tmp_path):
    """The same, through the history_import Lambda on the emulated history queue (FIFO per tenant),
    with the anomalies announced through the notify queue."""
    from dd0c_cost.backfill.s3_history import chunk_message, plan_chunks
    from dd0c_cost.db.connection import close_connection
    from dd0c_cost.topology import HISTORY
    from dd0c_cost_tools.bench.streams import write_stream
    from dd0c_cost_tools.local.backfill import bulk_replay

    paths = write_stream(tmp_path / "stream", 400, accounts=2, weeks=1, cost_share=0.25)
    replayed_url = make_database(template=migrated_template)
    replayed = bulk_replay(sorted(paths), "acme", replayed_url)  # ties in event time: key order
    close_connection()

    op = operator.open_operator_connection(db_url)
    tenant = operator.ensure_tenant(op, "acme")
    files = _log_files(paths)
    operator.attach_accounts(op, tenant, {k.split("/")[1] for k in files})
    op.close()
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for key, body in files.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    url = local_pipeline.queues[HISTORY].url
    for chunk in plan_chunks(tenant, BUCKET, list(files), chunk_keys=6):
        body, group, dedup = chunk_message(chunk)
        local_pipeline.sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup
        )
    local_pipeline.drain()
    assert not local_pipeline.function_errors
    got, want = _state(db_url), _state(replayed_url)
    for part in ("events", "anomalies"):
        diff = [(a, b) for a, b in zip(got[part], want[part], strict=False) if a != b]
        assert (len(got[part]), diff[:2]) == (len(want[part]), []), part
    assert local_pipeline.invocations["history_import"] == len(plan_chunks(tenant, BUCKET, list(files), chunk_keys=6))
    assert local_pipeline.invocations.get("notify", 0) >= 1
    with psycopg.connect(db_url) as conn:
        announced = conn.execute("SELECT count(*) FROM dd0c.anomalies WHERE notified_revision > 0").fetchone()[0]
    assert announced == replayed.anomalies
