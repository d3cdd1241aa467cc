"""Batch ingest: validate the request, then queue each record for the normalizer.

Limits keep one request from starving others, and every record is checked against SQS's
256 KB message limit so nothing is lost to an oversized send (batching: the shared
``dd0c_cost.ingest_sources.sender``)."""

from __future__ import annotations

from uuid import UUID

import orjson

from dd0c_cost import queues
from dd0c_cost.api.models import IngestAccepted, IngestRejection
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.ingest_sources.sender import SQS_MAX_BATCH, SQS_MAX_MESSAGE_BYTES, IngestBatchSender, group_of
from dd0c_cost.topology import INGEST

__all__ = ["SQS_MAX_BATCH", "SQS_MAX_MESSAGE_BYTES", "IngestRequestError", "parse_ingest_request", "queue_records"]


class IngestRequestError(ValueError):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def parse_ingest_request(body: bytes, *, max_body_bytes: int, max_records: int) -> list:
    """The records of a request body: ``{"Records": [...]}`` (a CloudTrail log file), a JSON
    array of records/envelopes, or JSON Lines."""
    if len(body) > max_body_bytes:
        raise IngestRequestError(
            413, "body_too_large", f"request body is {len(body):,} bytes; the limit is {max_body_bytes:,}"
        )
    if not body.strip():
        raise IngestRequestError(400, "empty_body", 'request body is empty; send {"Records": [...]}')
    try:
        value = orjson.loads(body)
        records = value["Records"] if isinstance(value, dict) and isinstance(value.get("Records"), list) else value
        if isinstance(records, dict):
            records = [records]
    except orjson.JSONDecodeError:
        try:
            records = [orjson.loads(line) for line in body.splitlines() if line.strip()]
        except orjson.JSONDecodeError as exc:
            raise IngestRequestError(400, "malformed_json", f"body is neither JSON nor JSON Lines: {exc}") from None
    if not isinstance(records, list):
        raise IngestRequestError(400, "bad_shape", 'expected {"Records": [...]}, a JSON array, or JSON Lines')
    if len(records) > max_records:
        raise IngestRequestError(
            413, "too_many_records", f"{len(records):,} records; the limit is {max_records:,} per request"
        )
    return records


def queue_records(tenant_id: UUID, records: list, request_id: str) -> IngestAccepted:
    from dd0c_cost.settings import get_settings

    sender = IngestBatchSender(get_settings().queue_url(INGEST))
    rejected: list[IngestRejection] = []
    for index, record in enumerate(records):
        body = IngestMessage(
            tenant_id=tenant_id, origin=Origin(source="api", file=request_id, line=index + 1), record=record
        ).model_dump_json()
        if not sender.add(index, body, group=group_of(record), deduplication=queues.dedup_id(tenant_id, body)):
            size = sender.oversized[-1].size
            rejected.append(IngestRejection(index=index, reason="record_too_large", detail=f"{size:,} bytes > 256 KB"))
    sender.flush()
    return IngestAccepted(accepted=sender.accepted, rejected=rejected)
