"""The shared ingest sender (API + S3) and the S3 log-file reader's pure parts."""

from __future__ import annotations

import gzip
import json
import uuid

import orjson
import pytest

from dd0c_cost import queues
from dd0c_cost.events.models import IngestMessage
from dd0c_cost.ingest_sources import s3
from dd0c_cost.ingest_sources.sender import SQS_MAX_BATCH, SQS_MAX_MESSAGE_BYTES, IngestBatchSender, group_of
from tests.records import envelope, run_instances


class FakeSqs:
    def __init__(self, fail_ids: set[str] = frozenset()):
        self.batches: list[list[dict]] = []
        self.fail_ids = fail_ids

    def send_message_batch(self, QueueUrl, Entries):
        self.batches.append([dict(e) for e in Entries])
        return {"Failed": [{"Id": e["Id"], "Message": "no"} for e in Entries if e["Id"] in self.fail_ids]}


def _body(size: int) -> str:
    return json.dumps({"pad": "x" * (size - 11)})


# --- sender ----------------------------------------------------------------------------------


def test_batches_stay_within_ten_messages_and_256_kb() -> None:
    fake = FakeSqs()
    sender = IngestBatchSender("https://q", client=fake)
    sizes = [40_000] * 7 + [100] * 15 + [200_000, 100_000, 60_000]
    for i, size in enumerate(sizes):
        assert sender.add(i, _body(size), group="111122223333", deduplication=f"d{i}")
    sender.flush()
    assert sender.accepted == len(sizes)
    assert sum(len(b) for b in fake.batches) == len(sizes)
    for batch in fake.batches:
        assert 1 <= len(batch) <= SQS_MAX_BATCH
        assert sum(len(e["MessageBody"].encode()) for e in batch) <= SQS_MAX_MESSAGE_BYTES
        assert [e["Id"] for e in batch] == [str(i) for i in range(len(batch))]
    # order is kept across batches (FIFO within a group)
    assert [e["MessageDeduplicationId"] for b in fake.batches for e in b] == [f"d{i}" for i in range(len(sizes))]


def test_an_oversized_message_is_refused_and_recorded_not_sent() -> None:
    fake = FakeSqs()
    sender = IngestBatchSender("https://q", client=fake)
    assert sender.add(0, _body(100), group="g", deduplication="a")
    assert not sender.add(1, _body(SQS_MAX_MESSAGE_BYTES + 1), group="g", deduplication="b")
    assert sender.add(2, _body(SQS_MAX_MESSAGE_BYTES), group="g", deduplication="c")  # exactly the limit fits
    sender.flush()
    assert [(o.index, o.size) for o in sender.oversized] == [(1, SQS_MAX_MESSAGE_BYTES + 1)]
    assert [[e["MessageDeduplicationId"] for e in b] for b in fake.batches] == [["a"], ["c"]]


def test_a_refused_entry_raises_so_the_caller_retries() -> None:
    sender = IngestBatchSender("https://q", client=FakeSqs(fail_ids={"1"}))
    for i in range(3):
        sender.add(i, _body(100), group="g", deduplication=str(i))
    with pytest.raises(RuntimeError, match="SQS refused message 1"):
        sender.flush()


def test_long_group_ids_are_hashed_and_group_of_reads_the_account() -> None:
    fake = FakeSqs()
    sender = IngestBatchSender("https://q", client=fake)
    sender.add(0, "{}", group="g" * 200, deduplication="x")
    sender.flush()
    assert fake.batches[0][0]["MessageGroupId"] == queues.group_id("g" * 200) != "g" * 200
    record = run_instances("444455556666")
    assert group_of(record) == "444455556666"
    assert group_of(envelope(run_instances("444455556666"))) == "444455556666"
    assert group_of("not a record") == "unknown" and group_of({"eventName": "X"}) == "unknown"


def test_api_queue_records_behaviour_is_unchanged(monkeypatch) -> None:
    """What the API sends: one IngestMessage per record (tenant, origin api/request/line),
    grouped by account, deduplicated by (tenant, body); oversized records are rejected by index."""
    from dd0c_cost.api.ingest import queue_records
    from dd0c_cost.settings import reset_settings

    fake = FakeSqs()
    monkeypatch.setenv("QUEUE_URL_INGEST", "https://q/ingest")
    reset_settings()
    monkeypatch.setattr(queues, "sqs_client", lambda: fake)
    tenant = uuid.uuid4()
    records = [run_instances("111122223333") for _ in range(12)]
    records[3] = envelope(run_instances("444455556666"))
    records[5]["pad"] = "y" * (SQS_MAX_MESSAGE_BYTES + 10)
    try:
        result = queue_records(tenant, records, "req-7")
    finally:
        reset_settings()
    assert result.accepted == 11
    assert [(r.index, r.reason) for r in result.rejected] == [(5, "too_large")]
    assert result.rejected[0].detail.endswith("bytes > 256 KB")
    entries = [e for b in fake.batches for e in b]
    assert [len(b) for b in fake.batches] == [10, 1]
    for entry, index in zip(entries, [i for i in range(12) if i != 5], strict=True):
        message = IngestMessage.model_validate_json(entry["MessageBody"])
        assert message.tenant_id == tenant
        assert (message.origin.source, message.origin.file, message.origin.line) == ("api", "req-7", index + 1)
        assert entry["MessageGroupId"] == ("444455556666" if index == 3 else "111122223333")
        assert entry["MessageDeduplicationId"] == queues.dedup_id(tenant, entry["MessageBody"])


# --- S3 events and keys ------------------------------------------------------------------------


def _notification(*keys: str, event_name: str = "ObjectCreated:Put") -> dict:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": event_name,
                "s3": {"bucket": {"name": "logs"}, "object": {"key": key, "size": 123}},
            }
            for key in keys
        ]
    }


def test_objects_from_event_decodes_keys_and_ignores_other_events() -> None:
    objects = s3.objects_from_event(_notification("AWSLogs/111122223333/CloudTrail/a+b%3Dc.json.gz"))
    assert objects == [s3.S3Object("logs", "AWSLogs/111122223333/CloudTrail/a b=c.json.gz", 123)]
    assert s3.objects_from_event(_notification("x", event_name="ObjectRemoved:Delete")) == []
    with pytest.raises(ValueError, match="not an S3 notification"):
        s3.objects_from_event({"Records": [{"eventSource": "aws:sqs"}]})
    with pytest.raises(ValueError):
        s3.objects_from_event({"detail-type": "Object Created"})


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/f.json.gz", ("111122223333", "CloudTrail")),
        ("AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2023/07/10/f.json.gz", ("111122223333", "CloudTrail")),
        (
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/f.json.gz",
            ("111122223333", "CloudTrail-Digest"),
        ),
        (
            "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2023/07/10/f.json.gz",
            ("111122223333", "CloudTrail-Insight"),
        ),
        ("manual/upload.json.gz", (None, None)),
    ],
)
def test_key_layout(key: str, expected: tuple) -> None:
    assert s3.key_account(key) == expected


# --- S3 objects ---------------------------------------------------------------------------------


def test_parse_log_object_reads_gzip_and_plain_json() -> None:
    records = [run_instances(), run_instances()]
    data = orjson.dumps({"Records": records})
    assert s3.parse_log_object(gzip.compress(data)) == records
    assert s3.parse_log_object(data) == records
    assert s3.parse_log_object(gzip.compress(b'{"Records": []}')) == []
    # two gzip members (as concatenated gzip files are) read as one stream
    half = len(data) // 2
    assert s3.parse_log_object(gzip.compress(data[:half]) + gzip.compress(data[half:])) == records


def _gz(data: bytes) -> bytes:
    # mtime=0: gzip's header carries a timestamp, and test ids must not depend on the clock.
    return gzip.compress(data, mtime=0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"this is not a log file", "not_json", id="plain-text"),
        pytest.param(_gz(b"<html>not json</html>"), "not_json", id="gzip-html"),
        pytest.param(_gz(b'{"records": []}'), "no_records", id="lowercase-records"),
        pytest.param(_gz(b'{"Records": {"a": 1}}'), "no_records", id="records-object"),
        pytest.param(_gz(b"[1, 2, 3]"), "no_records", id="bare-array"),
        pytest.param(_gz(b'{"Records": []}' * 50)[:30], "not_gzip", id="truncated-gzip"),
        pytest.param(b"\x1f\x8b" + b"\x00" * 40, "not_gzip", id="gzip-magic-then-zeros"),
    ],
)
def test_malformed_objects_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(s3.ObjectRejected) as caught:
        s3.parse_log_object(data)
    assert caught.value.reason == reason and caught.value.detail


def test_decompression_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(s3, "MAX_DECOMPRESSED_BYTES", 1000)
    with pytest.raises(s3.ObjectRejected) as caught:
        s3.parse_log_object(gzip.compress(b'{"Records": ["' + b"a" * 5000 + b'"]}'))
    assert caught.value.reason == "object_too_large"
    assert s3.parse_log_object(gzip.compress(b'{"Records": ["' + b"a" * 900 + b'"]}')) == ["a" * 900]


def test_message_for_a_record_carries_no_tenant_and_a_tenant_agnostic_dedup_id() -> None:
    obj = s3.S3Object("logs", "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/f.json.gz")
    record = run_instances("111122223333")
    body, group, dedup = s3.message_for(obj, 4, record)
    message = IngestMessage.model_validate_json(body)
    assert message.tenant_id is None and message.record == record
    assert (message.origin.source, message.origin.file, message.origin.line) == ("s3", obj.uri, 5)
    assert group == "111122223333"
    assert dedup == queues.dedup_id(obj.key, 4)
    assert s3.message_for(s3.S3Object("other-bucket", obj.key), 4, record)[2] == dedup
    assert s3.message_for(obj, 5, record)[2] != dedup
