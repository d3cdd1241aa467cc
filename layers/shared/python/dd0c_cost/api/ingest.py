"""Batch ingest: validate the request, then queue each record for the normalizer.

Limits keep one request from starving others, and every record is checked against SQS's
256 KB message limit so nothing is lost to an oversized send (batching: the shared
``dd0c_cost.ingest_sources.sender``)."""

from __future__ import annotations

from uuid import UUID

import orjson

from dd0c_cost import queues
from dd0c_cost.api.models import IngestAccepted, IngestRejection
from dd0c_cost.events.documents import DocumentItem, iter_document
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.ingest_sources.sender import SQS_MAX_BATCH, SQS_MAX_MESSAGE_BYTES, IngestBatchSender, group_of
from dd0c_cost.topology_names import INGEST

__all__ = ["SQS_MAX_BATCH", "SQS_MAX_MESSAGE_BYTES", "IngestRequestError", "parse_ingest_request", "queue_records"]


class IngestRequestError(ValueError):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def parse_ingest_request(body: bytes, *, max_body_bytes: int, max_records: int) -> list[DocumentItem]:
    """The records of a request body: ``{"Records": [...]}`` (a CloudTrail log file), a JSON
    array of records/envelopes, or JSON Lines. One record that cannot be read (too deep, not
    JSON, too large) is an item with its problem, and the others are still read; the request as
    a whole is refused (4xx) only when nothing in it can be read."""
    if len(body) > max_body_bytes:
        raise IngestRequestError(
            413, "body_too_large", f"request body is {len(body):,} bytes; the limit is {max_body_bytes:,}"
        )
    if not body.strip():
        raise IngestRequestError(400, "empty_body", 'request body is empty; send {"Records": [...]}')
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestRequestError(400, "not_utf8", f"the body is not UTF-8 (byte {exc.start}); send UTF-8") from None
    try:
        whole = orjson.loads(body)
    except orjson.JSONDecodeError:
        whole = None
    if whole is not None and not isinstance(whole, (dict, list)):
        raise IngestRequestError(400, "bad_shape", 'expected {"Records": [...]}, a JSON array, or JSON Lines')
    items = list(iter_document(body))
    if len(items) > max_records:
        raise IngestRequestError(
            413, "too_many_records", f"{len(items):,} records; the limit is {max_records:,} per request"
        )
    if items and all(item.problem is not None for item in items):
        first = items[0].problem
        assert first is not None
        if first.reason == "malformed_json":
            raise IngestRequestError(400, "malformed_json", f"body is neither JSON nor JSON Lines: {first.detail}")
        raise IngestRequestError(400, first.reason, first.detail)
    return items


def queue_records(tenant_id: UUID, items: list, request_id: str) -> IngestAccepted:
    """Queue each readable record (``DocumentItem``s, or plain records); list the others."""
    from dd0c_cost.settings import get_settings

    sender = IngestBatchSender(get_settings().queue_url(INGEST))
    rejected: list[IngestRejection] = []
    for index, item in enumerate(items):
        if not isinstance(item, DocumentItem):
            item = DocumentItem(index + 1, value=item)
        if item.problem is not None:
            rejected.append(IngestRejection(index=index, reason=item.problem.reason, detail=item.problem.detail))
            continue
        record = item.value
        body = IngestMessage(
            tenant_id=tenant_id, origin=Origin(source="api", file=request_id, line=index + 1), record=record
        ).model_dump_json()
        if not sender.add(index, body, group=group_of(record), deduplication=queues.dedup_id(tenant_id, body)):
            size = sender.oversized[-1].size
            rejected.append(IngestRejection(index=index, reason="too_large", detail=f"{size:,} bytes > 256 KB"))
    sender.flush()
    return IngestAccepted(accepted=sender.accepted, rejected=rejected)
