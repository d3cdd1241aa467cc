"""Batch ingest: validate the request, then queue each record for the normalizer.

Limits keep one request from starving others, and every record is checked against SQS's
256 KB message limit so nothing is lost to an oversized send."""

from __future__ import annotations

from uuid import UUID

import orjson

from dd0c_cost import queues
from dd0c_cost.api.models import IngestAccepted, IngestRejection
from dd0c_cost.events.cloudtrail import RecordRejected, unwrap
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.topology import INGEST

SQS_MAX_MESSAGE_BYTES = 256 * 1024
SQS_MAX_BATCH = 10


class IngestRequestError(ValueError):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def parse_ingest_request(body: bytes, *, max_body_bytes: int, max_records: int) -> list:
    """The records of a request body: ``{"Records": [...]}`` (a CloudTrail log file), a JSON
    array of records/envelopes, or JSON Lines."""
    if len(body) > max_body_bytes:
        raise IngestRequestError(413, "body_too_large", f"request body is {len(body):,} bytes; the limit is {max_body_bytes:,}")
    if not body.strip():
        raise IngestRequestError(400, "empty_body", "request body is empty; send {\"Records\": [...]}")
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
        raise IngestRequestError(400, "bad_shape", "expected {\"Records\": [...]}, a JSON array, or JSON Lines")
    if len(records) > max_records:
        raise IngestRequestError(413, "too_many_records", f"{len(records):,} records; the limit is {max_records:,} per request")
    return records


def _group_of(record) -> str:
    try:
        inner, envelope = unwrap(record)
    except RecordRejected:
        return "unknown"
    account = inner.get("recipientAccountId") or (envelope or {}).get("account")
    return account if isinstance(account, str) and account else "unknown"


def queue_records(tenant_id: UUID, records: list, request_id: str) -> IngestAccepted:
    from dd0c_cost.settings import get_settings

    url = get_settings().queue_url(INGEST)
    rejected: list[IngestRejection] = []
    batch: list[dict] = []
    batch_bytes = 0
    accepted = 0

    def flush() -> None:
        nonlocal batch, batch_bytes, accepted
        if batch:
            response = queues.sqs_client().send_message_batch(QueueUrl=url, Entries=batch)
            for failure in response.get("Failed", []):
                raise RuntimeError(f"SQS refused message {failure['Id']}: {failure.get('Message')}")
            accepted += len(batch)
        batch, batch_bytes = [], 0

    for index, record in enumerate(records):
        body = IngestMessage(tenant_id=tenant_id, origin=Origin(source="api", file=request_id, line=index + 1), record=record).model_dump_json()
        size = len(body.encode())
        if size > SQS_MAX_MESSAGE_BYTES:
            rejected.append(IngestRejection(index=index, reason="record_too_large", detail=f"{size:,} bytes > 256 KB"))
            continue
        if len(batch) == SQS_MAX_BATCH or batch_bytes + size > SQS_MAX_MESSAGE_BYTES:
            flush()
        batch.append(
            {
                "Id": str(len(batch)),
                "MessageBody": body,
                "MessageGroupId": queues.group_id(_group_of(record)),
                "MessageDeduplicationId": queues.dedup_id(tenant_id, body),
            }
        )
        batch_bytes += size
    flush()
    return IngestAccepted(accepted=accepted, rejected=rejected)
