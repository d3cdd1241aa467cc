"""CloudTrail log files delivered to S3, end to end: moto S3 + the real s3_ingest handler ->
the moto FIFO ingest queue -> the local pipeline (real normalize/score handlers, real
PostgreSQL). Malformed objects are reported to the rejects queue, never dropped.

The log files are rebuilt from real trail output: /work/shared/corpora/cloudtrail/
invictus_aws_dataset.jsonl — records of invictus-ir/aws_dataset (CloudTrail/*.json, MIT
licence, Copyright (c) Invictus Incident Response), kept in their original file order.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator

import boto3
import orjson
import pytest

from dd0c_cost import outcomes
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.models import IngestMessage
from dd0c_cost.ingest_sources import s3 as s3_source
from dd0c_cost.settings import reset_settings
from dd0c_cost.topology import INGEST, S3_INGEST, TOPOLOGY
from dd0c_cost_tools.local.runner import REGION, LambdaContext
from tests.conftest import shared_path

BUCKET = "dd0c-local-cloudtrail-logs"
INVICTUS_ACCOUNT = "123837392027"


def invictus_records() -> list[dict]:
    path = shared_path("corpora", "cloudtrail", "invictus_aws_dataset.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def log_key(account: str, stamp: str, unique: str, *, kind: str = "CloudTrail", org: str | None = None) -> str:
    """CloudTrail's own layout and file name."""
    root = f"AWSLogs/{org}/{account}" if org else f"AWSLogs/{account}"
    day = f"{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}"
    return f"{root}/{kind}/{REGION}/{day}/{account}_{kind}_{REGION}_{stamp}_{unique}.json.gz"


def s3_event(*keys: str, bucket: str = BUCKET) -> dict:
    """An S3 ObjectCreated notification as Lambda receives it (keys URL-encoded)."""
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2023-07-10T12:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:cloudtrail"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "s3-ingest",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "sequencer": "0A1B2C3D4E5F678901"},
                },
            }
            for key in keys
        ]
    }


class Tally:
    """Every outcome the stages record, with its origin."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None, dict | None]] = []

    def __call__(self, stage, kind, reason, origin) -> None:
        self.seen.append((stage, kind, reason, origin))

    def __enter__(self) -> Tally:
        outcomes.add_listener(self)
        return self

    def __exit__(self, *exc) -> None:
        outcomes.remove_listener(self)

    def of(self, stage: str) -> list[tuple[str, str | None, dict | None]]:
        return [(k, r, o) for s, k, r, o in self.seen if s == stage]


class CapturedLog(logging.Handler):
    """Records the handler's logger emits (Powertools loggers do not propagate to the root)."""

    def __init__(self, name: str) -> None:
        super().__init__(level=logging.DEBUG)
        self.logger = logging.getLogger(name)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> CapturedLog:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)


@pytest.fixture
def s3_pipeline(local_pipeline) -> Iterator:
    """The local pipeline plus a moto bucket; the handler's lazily created S3 client is reset so
    it is created inside moto."""
    s3_source.reset_clients()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    yield local_pipeline
    s3_source.reset_clients()


def put(key: str, data: bytes) -> None:
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=data)


def log_file(records: list[dict]) -> bytes:
    return gzip.compress(orjson.dumps({"Records": records}))


def invoke(pipeline, event: dict) -> dict:
    spec = TOPOLOGY.function(S3_INGEST)
    return pipeline.handler(S3_INGEST)(
        event, LambdaContext(S3_INGEST, memory_limit_in_mb=spec.memory_mb, timeout_s=spec.timeout_s)
    )


def queue_depth(pipeline, url: str) -> int:
    attributes = pipeline.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def stored_event_ids(db_url: str, tenant_id) -> set[str]:
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant_id):
            return {row["event_id"] for row in conn.execute("SELECT event_id FROM dd0c.cost_events").fetchall()}
    finally:
        conn.close()


def rejects(pipeline) -> list[dict]:
    return [
        {
            "reason": m["MessageAttributes"]["reject_reason"]["StringValue"],
            "detail": m["MessageAttributes"]["reject_detail"]["StringValue"],
            "file": m["MessageAttributes"]["origin_file"]["StringValue"],
            "line": (m["MessageAttributes"].get("origin_line") or {}).get("StringValue"),
            "body": json.loads(m["Body"]),
        }
        for m in pipeline.take_dead_letters(INGEST)
    ]


# --- the happy path --------------------------------------------------------------------------


def test_cloudtrail_log_files_flow_from_s3_through_the_pipeline(s3_pipeline, operator_conn, db_url) -> None:
    tenant = operator.ensure_tenant(operator_conn, "invictus")
    operator.attach_accounts(operator_conn, tenant, {INVICTUS_ACCOUNT})
    records = invictus_records()
    # Two files as a trail would write them: consecutive records of one account and region.
    files = {
        log_key(INVICTUS_ACCOUNT, "20230710T1155Z", "a1B2c3D4e5F6g7H8"): records[510:670],
        log_key(INVICTUS_ACCOUNT, "20230710T1205Z", "Z9y8X7w6V5u4T3s2"): records[1170:1210],
    }
    for key, chunk in files.items():
        assert {r["recipientAccountId"] for r in chunk} == {INVICTUS_ACCOUNT}
        put(key, log_file(chunk))
    total = sum(len(chunk) for chunk in files.values())

    with Tally() as tally:
        result = invoke(s3_pipeline, s3_event(*files))
        assert [(o["key"], o["status"], o["records"], o["queued"]) for o in result["objects"]] == [
            (key, "queued", len(chunk), len(chunk)) for key, chunk in files.items()
        ]
        ingest_url = s3_pipeline.queues[INGEST].url
        assert queue_depth(s3_pipeline, ingest_url) == total
        s3_pipeline.drain()

    assert s3_pipeline.function_errors == []
    normalized = tally.of("normalize")
    assert len(normalized) == total
    assert [(k, r) for k, r, _ in normalized if k == "rejected"] == []
    # Every message came from S3, pointing at its file and record number.
    origins = {(o["file"], o["line"]) for _, _, o in normalized}
    assert origins == {(f"s3://{BUCKET}/{key}", i + 1) for key, chunk in files.items() for i in range(len(chunk))}
    assert all(o["source"] == "s3" for _, _, o in normalized)

    by_id = {r["eventID"]: r for chunk in files.values() for r in chunk}
    stored = stored_event_ids(db_url, tenant)
    assert stored and stored <= set(by_id)
    assert len(stored) == sum(1 for k, _, _ in normalized if k == "cost_event")
    # The launches and the termination that succeeded were priced; the failed launches were not.
    launched = {
        r["eventID"]
        for r in by_id.values()
        if r["eventName"] in {"RunInstances", "TerminateInstances"} and "errorCode" not in r
    }
    failed = {r["eventID"] for r in by_id.values() if r["eventName"] == "RunInstances" and "errorCode" in r}
    assert len(launched) == 3 and launched <= stored
    assert failed and not failed & stored
    assert [kind for kind, _, _ in tally.of(S3_INGEST)] == ["object_queued", "object_queued"]
    assert rejects(s3_pipeline) == []


def test_messages_are_grouped_by_account_carry_no_tenant_and_redelivery_is_harmless(
    s3_pipeline, operator_conn, db_url
) -> None:
    tenant = operator.ensure_tenant(operator_conn, "invictus")
    operator.attach_accounts(operator_conn, tenant, {INVICTUS_ACCOUNT})
    chunk = invictus_records()[515:530]  # includes a RunInstances that succeeded
    key = log_key(INVICTUS_ACCOUNT, "20230710T1155Z", "redeliver0000001")
    put(key, log_file(chunk))

    invoke(s3_pipeline, s3_event(key))
    url = s3_pipeline.queues[INGEST].url
    messages = s3_pipeline.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    for message in messages:
        assert message["Attributes"]["MessageGroupId"] == INVICTUS_ACCOUNT
        body = IngestMessage.model_validate_json(message["Body"])
        assert body.tenant_id is None and body.origin.source == "s3"

    # S3 may deliver a notification twice, and Lambda retries a failed invocation.
    invoke(s3_pipeline, s3_event(key))
    assert queue_depth(s3_pipeline, url) == len(chunk)  # same deduplication ids: SQS dropped the resend
    s3_pipeline.drain()
    first = stored_event_ids(db_url, tenant)
    assert first

    # After SQS's deduplication window the database's unique eventID still holds.
    with Tally() as tally:
        s3_pipeline.send_ingest(
            (INVICTUS_ACCOUNT, s3_source.message_for(s3_source.S3Object(BUCKET, key), i, r)[0] + " ")
            for i, r in enumerate(chunk)
        )
        s3_pipeline.drain()
    assert stored_event_ids(db_url, tenant) == first
    again = tally.of("normalize")
    assert len(again) == len(chunk)
    assert {kind for kind, _, _ in again} <= {"rejected", "not_cost_relevant"}
    assert {reason for kind, reason, _ in again if kind == "rejected"} == {"duplicate"}


def test_records_of_an_unconnected_account_are_rejected_by_the_normaliser_and_kept(s3_pipeline) -> None:
    chunk = invictus_records()[518:524]
    key = log_key(INVICTUS_ACCOUNT, "20230710T1155Z", "unknownAccount01")
    put(key, log_file(chunk))
    invoke(s3_pipeline, s3_event(key))
    s3_pipeline.drain()
    kept = rejects(s3_pipeline)
    assert len(kept) == len(chunk)
    assert {k["reason"] for k in kept} == {"unknown_account"}
    assert {k["file"] for k in kept} == {f"s3://{BUCKET}/{key}"}


# --- malformed objects: reported, never dropped --------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is not a CloudTrail log file", "not_json"),
        (gzip.compress(b"\x00\x01 binary garbage"), "not_json"),
        (gzip.compress(b'{"eventVersion": "1.08", "eventName": "RunInstances"}'), "no_records"),
        (gzip.compress(orjson.dumps({"Records": [{"eventName": "x"}] * 100}))[:12], "truncated_gzip"),
    ],
    ids=["not-gzip-not-json", "gzip-not-json", "no-records", "gzip-header-only"],
)
def test_a_malformed_object_is_logged_and_reported_not_dropped(s3_pipeline, data: bytes, reason: str) -> None:
    key = log_key(INVICTUS_ACCOUNT, "20230710T1200Z", "malformed0000001")
    put(key, data)
    with Tally() as tally, CapturedLog("dd0c-cost-s3_ingest") as log:
        result = invoke(s3_pipeline, s3_event(key))  # succeeds: retrying cannot fix the object
    assert result["objects"] == [
        {
            "bucket": BUCKET,
            "key": key,
            "status": "rejected",
            "records": 0,
            "queued": 0,
            "rejected_records": 0,
            "reason": reason,
        }
    ]
    assert queue_depth(s3_pipeline, s3_pipeline.queues[INGEST].url) == 0
    (kept,) = rejects(s3_pipeline)
    assert kept["reason"] == reason and kept["detail"]
    assert kept["file"] == f"s3://{BUCKET}/{key}"
    assert kept["body"]["bucket"] == BUCKET and kept["body"]["key"] == key and kept["body"]["source"] == "s3"
    assert [(k, r) for k, r, _ in tally.of(S3_INGEST)] == [("object_rejected", reason)]
    (error,) = [r for r in log.records if r.levelno == logging.ERROR]
    assert "rejected S3 object" in error.getMessage() and key in error.getMessage() and reason in error.getMessage()


def test_a_truncated_log_file_queues_every_complete_record_and_reports_the_cut_one(s3_pipeline) -> None:
    """Issue 7: a truncated .gz lost the whole file; now only the record it cuts is rejected."""
    records = [{"eventName": "x", "eventSource": "ec2.amazonaws.com", "n": i} for i in range(100)]
    key = log_key(INVICTUS_ACCOUNT, "20230710T1200Z", "truncated0000001")
    whole = gzip.compress(orjson.dumps({"Records": records}), mtime=0)
    put(key, whole[: len(whole) // 2])
    result = invoke(s3_pipeline, s3_event(key))
    (obj,) = result["objects"]
    assert obj["status"] == "queued" and obj["rejected_records"] == 1
    assert obj["records"] == obj["queued"] + 1 and obj["queued"] > 10
    (kept,) = rejects(s3_pipeline)
    assert kept["reason"] == "truncated_gzip" and kept["line"] == str(obj["records"])


def test_digest_files_are_skipped_and_the_rest_of_the_event_is_processed(s3_pipeline, operator_conn) -> None:
    digest = log_key(INVICTUS_ACCOUNT, "20230710T1200Z", "digest0000000001", kind="CloudTrail-Digest")
    put(digest, gzip.compress(b'{"awsAccountId": "123837392027", "digestStartTime": "2023-07-10T11:00:00Z"}'))
    chunk = invictus_records()[0:5]
    org_key = log_key(INVICTUS_ACCOUNT, "20230710T1200Z", "orgTrail00000001", org="o-a1b2c3d4e5")
    put(org_key, log_file(chunk))
    result = invoke(s3_pipeline, s3_event(digest, org_key))
    assert [(o["status"], o["reason"], o["queued"]) for o in result["objects"]] == [
        ("skipped", "CloudTrail-Digest", 0),
        ("queued", None, 5),
    ]
    assert rejects(s3_pipeline) == []


def test_records_contradicting_the_keys_account_or_too_large_are_reported_individually(s3_pipeline) -> None:
    chunk = [dict(r) for r in invictus_records()[0:4]]
    chunk[1]["recipientAccountId"] = "999988887777"
    chunk[2]["requestParameters"] = {"padding": "x" * (256 * 1024)}
    key = log_key(INVICTUS_ACCOUNT, "20230710T1200Z", "mixedRecords0001")
    put(key, log_file(chunk))
    result = invoke(s3_pipeline, s3_event(key))
    assert [(o["status"], o["records"], o["queued"], o["rejected_records"]) for o in result["objects"]] == [
        ("queued", 4, 2, 2)
    ]
    assert queue_depth(s3_pipeline, s3_pipeline.queues[INGEST].url) == 2
    kept = sorted(rejects(s3_pipeline), key=lambda k: k["line"])
    assert [(k["reason"], k["line"]) for k in kept] == [("account_mismatch", "2"), ("too_large", "3")]
    assert all(k["body"]["key"] == key for k in kept)


# --- failures Lambda must retry ----------------------------------------------------------------


def test_without_a_rejects_queue_a_malformed_object_fails_the_invocation(s3_pipeline, monkeypatch) -> None:
    key = log_key(INVICTUS_ACCOUNT, "20230710T1200Z", "noRejectsQueue01")
    put(key, b"garbage")
    monkeypatch.delenv("REJECTS_QUEUE_URL")
    reset_settings()
    with pytest.raises(RuntimeError, match="not ingested") as failed:
        invoke(s3_pipeline, s3_event(key))
    assert "REJECTS_QUEUE_URL is not configured" in str(failed.value.__cause__)


def test_a_missing_object_fails_the_invocation_so_lambda_retries_it(s3_pipeline) -> None:
    with pytest.raises(RuntimeError, match="not ingested") as failed:
        invoke(s3_pipeline, s3_event(log_key(INVICTUS_ACCOUNT, "20230710T1200Z", "neverWritten0001")))
    assert "NoSuchKey" in str(failed.value.__cause__)
    assert rejects(s3_pipeline) == []
