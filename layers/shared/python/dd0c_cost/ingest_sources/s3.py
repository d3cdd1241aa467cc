"""CloudTrail log files delivered to S3 -> the ingest queue.

A trail writes ``AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz``:
one gzipped JSON object ``{"Records": [...]}`` per file. For each ObjectCreated notification
this module reads the object, and sends each record to the ingest queue as an ``IngestMessage``
with no tenant (the normaliser resolves the tenant from the record's account), origin
``s3://bucket/key`` + record number, message group = the record's account, and deduplication
id = a digest of (object key, record index), so a retried invocation resends the same ids.

Nothing is dropped silently:
- an object that cannot be read as a log file (not gzip/JSON, no ``Records`` list, too large)
  is logged as an error and reported to the rejects queue (the ingest DLQ) with its bucket, key
  and reason; the invocation then succeeds (retrying cannot fix the object);
- a record too large for SQS, or whose account contradicts the key's account, is reported the
  same way, with its index (the record itself stays in the bucket);
- anything else (S3 or SQS unavailable, no permission, no rejects queue configured) raises, so
  Lambda retries the invocation and finally sends the event to the function's failure queue.
Digest and Insights files (``CloudTrail-Digest/``, ``CloudTrail-Insight/``) share the
notification filter but hold no API calls: they are skipped, and logged.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import orjson

from dd0c_cost import outcomes, queues
from dd0c_cost.events.cloudtrail import RecordRejected, unwrap
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.ingest_sources.sender import IngestBatchSender, group_of
from dd0c_cost.topology_names import INGEST, S3_INGEST

# CloudTrail files are small (KBs to a few MB); these bound one invocation's memory (parsed,
# 64 MB of JSON takes several hundred MB: the function has 1 GB, see topology.py).
MAX_OBJECT_BYTES = 32 * 1024 * 1024
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
# AWSLogs/<account>/<kind>/... or, for organisation trails, AWSLogs/<o-id>/<account>/<kind>/...
_LOG_KEY = re.compile(r"(?:^|/)AWSLogs/(?:o-[a-z0-9]{10,32}/)?(\d{12})/(CloudTrail[A-Za-z-]*)/")
_RECORDS_KIND = "CloudTrail"
_RECORDS_PREFIX = re.compile(rb'\A\s*\{\s*"Records"\s*:\s*\[')

logger = logging.getLogger(__name__)


class ObjectRejected(Exception):
    """An object that can never be read as a CloudTrail log file."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class ObjectResult:
    object: S3Object
    status: str  # "queued", "skipped", "rejected"
    records: int = 0
    queued: int = 0
    rejected: list[dict] = field(default_factory=list)  # per-record rejects (index, reason)
    reason: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict:
        return {
            "bucket": self.object.bucket,
            "key": self.object.key,
            "status": self.status,
            "records": self.records,
            "queued": self.queued,
            "rejected_records": len(self.rejected),
            "reason": self.reason,
        }


# --- clients -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def s3_client():
    import boto3

    return boto3.client("s3")


def reset_clients() -> None:
    s3_client.cache_clear()


# --- the S3 event --------------------------------------------------------------------------


def objects_from_event(event: Any) -> list[S3Object]:
    """The created objects an S3 notification (as Lambda receives it) names. Keys arrive
    URL-encoded (spaces as '+'). Anything that is not an S3 notification raises ValueError."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("not an S3 notification: no Records list")
    found: list[S3Object] = []
    for record in records:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            raise ValueError(f"not an S3 notification record: eventSource {(record or {}).get('eventSource')!r}")
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            logger.info("ignoring S3 event %s", record.get("eventName"))
            continue
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        obj = s3.get("object") or {}
        if not isinstance(bucket, str) or not isinstance(obj.get("key"), str):
            raise ValueError("S3 notification record without bucket name or object key")
        size = obj.get("size")
        found.append(
            S3Object(bucket=bucket, key=unquote_plus(obj["key"]), size=size if isinstance(size, int) else None)
        )
    return found


def key_account(key: str) -> tuple[str | None, str | None]:
    """(account id, file kind) from a CloudTrail key layout; (None, None) for other keys."""
    match = _LOG_KEY.search(key)
    return (match.group(1), match.group(2)) if match else (None, None)


# --- the object ----------------------------------------------------------------------------


def _gunzip(data: bytes) -> bytes:
    """Decompress every gzip member, refusing output beyond MAX_DECOMPRESSED_BYTES."""
    out = bytearray()
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out += inflater.decompress(rest, MAX_DECOMPRESSED_BYTES + 1 - len(out))
            if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
                raise ObjectRejected("object_too_large", f"decompresses to more than {MAX_DECOMPRESSED_BYTES:,} bytes")
            if not inflater.eof:
                raise ObjectRejected("not_gzip", "gzip stream is truncated")
            rest = inflater.unused_data
            if rest and rest[:2] != _GZIP_MAGIC:
                break  # trailing padding after the last member, as gzip(1) tolerates
    except zlib.error as exc:
        raise ObjectRejected("not_gzip", f"corrupt gzip data: {exc}") from None
    return bytes(out)


def parse_log_object(data: bytes) -> list:
    """The ``Records`` of a CloudTrail log file (gzip, or plain JSON); ObjectRejected otherwise.

    Stricter than ``events.cloudtrail.iter_file`` (which also reads JSON Lines for replay): a
    trail only ever writes one ``{"Records": [...]}`` object per file."""
    compressed = data[:2] == _GZIP_MAGIC
    if compressed:
        data = _gunzip(data)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        what = "decompressed content is not JSON" if compressed else "neither gzip nor JSON"
        raise ObjectRejected("not_json", f"{what}: {exc}") from None
    if not isinstance(value, dict) or not isinstance(value.get("Records"), list):
        shape = f"object with keys {sorted(value)[:5]}" if isinstance(value, dict) else type(value).__name__
        raise ObjectRejected("no_records", f'expected {{"Records": [...]}}, got a JSON {shape}')
    return value["Records"]


def read_log_records(data: bytes) -> list:
    """The records of a log object, one ``documents.DocumentItem`` each. Like
    ``parse_log_object``, but a stream cut short (or one record nested past every limit) costs
    only the record it breaks: every complete record before it is still read."""
    from dd0c_cost.events.documents import DocumentItem, RecordProblem, check_depth, gunzip_partial, iter_document

    cut = None
    if data[:2] == _GZIP_MAGIC:
        data, cut = gunzip_partial(data, limit=MAX_DECOMPRESSED_BYTES)
        if cut is not None and cut.reason == "too_large":
            raise ObjectRejected("object_too_large", cut.detail)
        if cut is not None and not data.strip():
            raise ObjectRejected(cut.reason, cut.detail)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if _RECORDS_PREFIX.match(data[:256]):
            return list(iter_document(data, cut=cut))
        if cut is not None:
            raise ObjectRejected(cut.reason, f"{cut.detail}; what decompressed is not a log file") from None
        raise ObjectRejected("not_json", f"neither gzip nor JSON (or not JSON once decompressed): {exc}") from None
    if not isinstance(value, dict) or not isinstance(value.get("Records"), list):
        shape = f"object with keys {sorted(value)[:5]}" if isinstance(value, dict) else type(value).__name__
        raise ObjectRejected("no_records", f'expected {{"Records": [...]}}, got a JSON {shape}')
    items = []
    for index, record in enumerate(value["Records"], start=1):
        try:
            check_depth(record)
            items.append(DocumentItem(index, value=record))
        except RecordProblem as problem:
            items.append(DocumentItem(index, problem=problem))
    return items


def _record_account(record: Any) -> str | None:
    try:
        inner, envelope = unwrap(record)
    except RecordRejected:
        return None
    account = inner.get("recipientAccountId") or (envelope or {}).get("account")
    return account if isinstance(account, str) else None


# --- rejects -------------------------------------------------------------------------------


def report_reject(
    obj: S3Object, reason: str, detail: str, *, index: int | None = None, extra: dict | None = None
) -> None:
    """Send a reject to the rejects queue (the ingest DLQ): the body points at the object (and
    record index); attributes as ``queues.send_reject`` sets them. No queue configured raises:
    the invocation fails and is retried, then kept in the failure queue."""
    body = orjson.dumps(
        {
            "source": "s3",
            "bucket": obj.bucket,
            "key": obj.key,
            "index": index,
            "reason": reason,
            "detail": detail,
            **(extra or {}),
        }
    ).decode()
    queues.send_reject(body, reason, detail, {"file": obj.uri, "line": None if index is None else index + 1})


# --- one object ----------------------------------------------------------------------------


def message_for(obj: S3Object, index: int, record: Any) -> tuple[str, str, str]:
    """(body, message group, deduplication id) of the ingest message for one record."""
    body = IngestMessage(origin=Origin(source="s3", file=obj.uri, line=index + 1), record=record).model_dump_json()
    return body, group_of(record), queues.dedup_id(obj.key, index)


def ingest_object(obj: S3Object, *, client=None, ingest_url: str | None = None, log: Any = logger) -> ObjectResult:
    """Read one log object and queue its records. Deterministic problems are reported and
    returned; anything else raises (see the module docstring)."""
    key_acct, kind = key_account(obj.key)
    if kind is not None and kind != _RECORDS_KIND:
        log.info("skipping %s: a %s file holds no API call records", obj.uri, kind)
        outcomes.record(S3_INGEST, "object_skipped", kind, {"file": obj.uri})
        return ObjectResult(obj, "skipped", reason=kind)

    try:
        if obj.size is not None and obj.size > MAX_OBJECT_BYTES:
            raise ObjectRejected("object_too_large", f"{obj.size:,} bytes > {MAX_OBJECT_BYTES:,}")
        response = (client or s3_client()).get_object(Bucket=obj.bucket, Key=obj.key)
        length = response.get("ContentLength")
        if isinstance(length, int) and length > MAX_OBJECT_BYTES:
            raise ObjectRejected("object_too_large", f"{length:,} bytes > {MAX_OBJECT_BYTES:,}")
        items = read_log_records(response["Body"].read())
    except ObjectRejected as rejected:
        log.error(
            "rejected S3 object %s: %s: %s",
            obj.uri,
            rejected.reason,
            rejected.detail,
            extra={"bucket": obj.bucket, "key": obj.key, "reject_reason": rejected.reason},
        )
        report_reject(obj, rejected.reason, rejected.detail)
        outcomes.record(S3_INGEST, "object_rejected", rejected.reason, {"file": obj.uri})
        return ObjectResult(obj, "rejected", reason=rejected.reason, detail=rejected.detail)

    if ingest_url is None:
        from dd0c_cost.settings import get_settings

        ingest_url = get_settings().queue_url(INGEST)
    sender = IngestBatchSender(ingest_url)
    result = ObjectResult(obj, "queued", records=len(items))
    for index, item in enumerate(items):
        if item.problem is not None:
            # One record cut off by a truncated stream, or nested too deep: reported alone.
            report_reject(obj, item.problem.reason, item.problem.detail, index=index)
            result.rejected.append({"index": index, "reason": item.problem.reason})
            continue
        record = item.value
        account = _record_account(record)
        if key_acct is not None and account is not None and account != key_acct:
            detail = f"record account {account} is not the key's account {key_acct}"
            report_reject(obj, "account_mismatch", detail, index=index)
            result.rejected.append({"index": index, "reason": "account_mismatch"})
            continue
        body, group, deduplication = message_for(obj, index, record)
        if not sender.add(index, body, group=group, deduplication=deduplication):
            size = sender.oversized[-1].size
            report_reject(obj, "too_large", f"{size:,} bytes > 256 KB", index=index, extra={"size": size})
            result.rejected.append({"index": index, "reason": "too_large"})
    sender.flush()
    result.queued = sender.accepted
    if result.rejected:
        log.error(
            "%s: %d of %d records rejected (see the rejects queue)",
            obj.uri,
            len(result.rejected),
            len(items),
            extra={"bucket": obj.bucket, "key": obj.key},
        )
        for item in result.rejected:
            outcomes.record(S3_INGEST, "record_rejected", item["reason"], {"file": obj.uri, "line": item["index"] + 1})
    log.info("queued %d records from %s", result.queued, obj.uri, extra={"bucket": obj.bucket, "key": obj.key})
    outcomes.record(S3_INGEST, "object_queued", None, {"file": obj.uri})
    return result


# --- one invocation ------------------------------------------------------------------------


def handle_s3_event(event: dict, *, log: Any = logger) -> dict:
    """Every object of one S3 notification. Objects that fail for a reason other than their
    content are retried by failing the invocation after the others were processed (the
    deduplication ids make the resend of the successful ones harmless)."""
    results: list[ObjectResult] = []
    failures: list[tuple[S3Object, Exception]] = []
    for obj in objects_from_event(event):
        try:
            results.append(ingest_object(obj, log=log))
        except Exception as exc:  # logged here, re-raised below so Lambda retries
            log.exception("could not ingest %s; the invocation will be retried", obj.uri)
            failures.append((obj, exc))
    if failures:
        names = ", ".join(o.uri for o, _ in failures)
        raise RuntimeError(f"{len(failures)} S3 object(s) not ingested: {names}") from failures[0][1]
    return {"objects": [r.as_dict() for r in results]}
