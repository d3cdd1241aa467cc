"""Reading CloudTrail: input shapes (raw record, EventBridge envelope, S3 log file), validation,
and the reasons a record is rejected.

A record that only looks like CloudTrail (S3 notifications, DynamoDB/Kinesis stream records,
Alibaba ActionTrail) is rejected here, by name, so nothing downstream has to guess.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from dd0c_cost.events.models import Origin

CLOUDTRAIL_DETAIL_TYPE_SUFFIX = "via CloudTrail"

_EVENT_SOURCE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")
# Lambda's API-version suffixes: CreateFunction20150331, UpdateFunctionConfiguration20150331v2.
_API_VERSION_SUFFIX = re.compile(r"20\d{6}(v\d+)?$")
_NANOS = re.compile(r"(\.\d{6})\d+")


class RejectReason(StrEnum):
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    NOT_CLOUDTRAIL = "not_cloudtrail"
    MISSING_EVENT_ID = "missing_event_id"
    BAD_EVENT_TIME = "bad_event_time"
    BAD_ACCOUNT_ID = "bad_account_id"
    BAD_REGION = "bad_region"
    UNKNOWN_ACCOUNT = "unknown_account"
    ACCOUNT_NOT_CONNECTED = "account_not_connected"
    MALFORMED_MESSAGE = "malformed_message"
    DUPLICATE = "duplicate"
    PROCESSING_FAILED = "processing_failed"
    # One record that cannot be read or stored (dd0c_cost.events.documents); the rest still is.
    NOT_UTF8 = "not_utf8"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    NUL_CHARACTER = "nul_character"
    TRUNCATED_GZIP = "truncated_gzip"
    CORRUPT_GZIP = "corrupt_gzip"
    UNSTORABLE = "unstorable"  # PostgreSQL refused a value (a data exception), with its message
    INVALID_VALUE = "invalid_value"  # a value the cost event cannot hold (e.g. a negative quantity)


class RecordRejected(Exception):
    """A record that can never become a cost event; carries a reason a person can act on."""

    def __init__(self, reason: RejectReason, detail: str):
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CloudTrailEvent:
    """A validated CloudTrail management event; ``raw`` is the record exactly as received."""

    raw: dict
    event_id: str
    event_time: datetime
    event_source: str
    event_name: str  # normalised: trimmed, API-version suffix removed
    account_id: str
    region: str
    error_code: str | None

    @property
    def failed(self) -> bool:
        # Client.DryRunOperation is also an error code: the call would have succeeded but created nothing.
        return self.error_code is not None


# validate() runs for every record. A frozen dataclass's generated __init__ sets each field
# through object.__setattr__ (~1 us for eight fields, half of validate()); setting the slots
# directly gives the same, still frozen, instance at a third of the cost.
_FIELDS = ("raw", "event_id", "event_time", "event_source", "event_name", "account_id", "region", "error_code")
assert tuple(f.name for f in fields(CloudTrailEvent)) == _FIELDS
_set_raw, _set_id, _set_time, _set_source, _set_name, _set_account, _set_region, _set_error = (
    getattr(CloudTrailEvent, name).__set__ for name in _FIELDS
)


def _new_event(raw, event_id, event_time, event_source, event_name, account_id, region, error_code) -> CloudTrailEvent:
    event = object.__new__(CloudTrailEvent)
    _set_raw(event, raw)
    _set_id(event, event_id)
    _set_time(event, event_time)
    _set_source(event, event_source)
    _set_name(event, event_name)
    _set_account(event, account_id)
    _set_region(event, region)
    _set_error(event, error_code)
    return event


# The hot path sees few distinct sources, names, regions and accounts: memoise the checks
# (bounded, so hostile input cannot grow memory).
@lru_cache(maxsize=4096)
def normalise_event_name(name: str) -> str:
    return _API_VERSION_SUFFIX.sub("", name.strip())


@lru_cache(maxsize=4096)
def _is_event_source(value: str) -> bool:
    return _EVENT_SOURCE.match(value) is not None


@lru_cache(maxsize=4096)
def _is_account(value: str) -> bool:
    return _ACCOUNT.match(value) is not None


@lru_cache(maxsize=4096)
def _is_region(value: str) -> bool:
    return _REGION.match(value) is not None


def parse_event_time(value: Any) -> datetime:
    """CloudTrail's ISO form plus the variants seen in the wild (space separator, nanoseconds)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"eventTime is {value!r}")
    if len(value) == 20 and value[10] == "T" and value[19] == "Z":
        return datetime.fromisoformat(value)  # the canonical form, already UTC (fast path)
    text = _NANOS.sub(r"\1", value.strip())
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def unwrap(obj: Any) -> tuple[dict, dict | None]:
    """Return (CloudTrail record, EventBridge envelope or None)."""
    if not isinstance(obj, dict):
        raise RecordRejected(RejectReason.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
    if "detail-type" in obj and "detail" in obj:
        detail_type = obj.get("detail-type")
        if not isinstance(detail_type, str) or not detail_type.endswith(CLOUDTRAIL_DETAIL_TYPE_SUFFIX):
            raise RecordRejected(
                RejectReason.NOT_CLOUDTRAIL,
                f"EventBridge event with detail-type {detail_type!r} is not from CloudTrail",
            )
        detail = obj.get("detail")
        if not isinstance(detail, dict):
            raise RecordRejected(RejectReason.NOT_CLOUDTRAIL, "EventBridge envelope without a detail object")
        return detail, obj
    return obj, None


def validate(record: dict, envelope: dict | None = None) -> CloudTrailEvent:
    """Check that ``record`` is a CloudTrail event we can place in time, account and region."""
    source = record.get("eventSource")
    name = record.get("eventName")
    if not isinstance(source, str) or not _is_event_source(source):
        raise RecordRejected(RejectReason.NOT_CLOUDTRAIL, f"eventSource {source!r} is not an AWS service endpoint")
    if not isinstance(name, str) or not name.strip():
        raise RecordRejected(RejectReason.NOT_CLOUDTRAIL, "eventName is missing")
    if "userIdentity" not in record and "eventVersion" not in record:
        raise RecordRejected(RejectReason.NOT_CLOUDTRAIL, "neither userIdentity nor eventVersion is present")

    event_id = record.get("eventID")
    if event_id is None:
        # Documentation excerpts and some exporters drop eventID. A digest of the record is a
        # stable natural key, so a redelivered copy is still recognised as a duplicate.
        event_id = "sha256:" + hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()[:40]
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 128:
        raise RecordRejected(RejectReason.MISSING_EVENT_ID, f"eventID is {event_id!r}")

    # Logstash-shipped trails replace eventTime with @timestamp.
    raw_time = record.get("eventTime", record.get("@timestamp"))
    try:
        event_time = parse_event_time(raw_time)
    except ValueError:
        raise RecordRejected(RejectReason.BAD_EVENT_TIME, f"eventTime {raw_time!r} is not a timestamp") from None

    account = record.get("recipientAccountId") or (envelope or {}).get("account")
    if not account:
        identity = record.get("userIdentity")
        account = identity.get("accountId") if isinstance(identity, dict) else None
    if not isinstance(account, str) or not _is_account(account):
        raise RecordRejected(RejectReason.BAD_ACCOUNT_ID, f"account id {account!r} is not 12 digits")

    region = record.get("awsRegion") or (envelope or {}).get("region")
    if not isinstance(region, str) or not _is_region(region):
        raise RecordRejected(RejectReason.BAD_REGION, f"awsRegion {region!r} is not a region name")

    error_code = record.get("errorCode")
    return _new_event(
        record,
        event_id.strip(),
        event_time,
        source,
        normalise_event_name(name),
        account,
        region,
        error_code if isinstance(error_code, str) and error_code else None,
    )


def parse(obj: Any) -> CloudTrailEvent:
    record, envelope = unwrap(obj)
    return validate(record, envelope)


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileItem:
    """One item read from an input file: a parsed JSON value, or the reason it could not be."""

    origin: Origin
    value: Any = None
    rejected: RecordRejected | None = None


def iter_file(path: Path) -> Iterator[FileItem]:
    """Yield every record in a file: JSON Lines of records or envelopes, a JSON array, or a
    CloudTrail S3 log file (``{"Records": [...]}``, plain or gzip). A record that cannot be read
    (bad line, not UTF-8, too deep, too large, cut off by a truncated gzip stream) is yielded as
    rejected, with its line, and every other record is still read (``events.documents``)."""
    from dd0c_cost.events.documents import gunzip_partial, is_gzip, iter_document

    name = str(path)
    data = path.read_bytes()
    cut = None
    if is_gzip(data):
        data, cut = gunzip_partial(data)
    for item in iter_document(data, cut=cut):
        origin = Origin(source="replay", file=name, line=item.line)
        if item.problem is not None:
            yield FileItem(origin, rejected=RecordRejected(RejectReason(item.problem.reason), item.problem.detail))
        else:
            yield FileItem(origin, value=item.value)


def event_time_or_none(obj: Any) -> datetime | None:
    """Best-effort event time for ordering a replay; None when the record has none."""
    try:
        record, _ = unwrap(obj)
        return parse_event_time(record.get("eventTime", record.get("@timestamp")))
    except (RecordRejected, ValueError, AttributeError):
        return None
