"""Sending ingest messages to SQS in batches, within SQS's limits.

SendMessageBatch takes at most 10 entries whose bodies add up to at most 256 KB, and no single
message may exceed 256 KB. ``IngestBatchSender`` packs messages into batches within both limits
and refuses (records, never silently drops) a message that is too large on its own. The HTTP
API (``dd0c_cost.api.ingest.queue_records``) and the S3 log reader
(``dd0c_cost.ingest_sources.s3``) both send through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dd0c_cost import queues
from dd0c_cost.events.cloudtrail import RecordRejected, unwrap

SQS_MAX_MESSAGE_BYTES = 256 * 1024
SQS_MAX_BATCH = 10
UNKNOWN_GROUP = "unknown"


def group_of(record: Any) -> str:
    """The ingest queue's message group for a record: its source account (QueueSpec
    ``message_group``), or "unknown" when the record does not say (the normaliser rejects it)."""
    try:
        inner, envelope = unwrap(record)
    except RecordRejected:
        return UNKNOWN_GROUP
    account = inner.get("recipientAccountId") or (envelope or {}).get("account")
    return account if isinstance(account, str) and account else UNKNOWN_GROUP


@dataclass(frozen=True)
class Oversized:
    """A message that was not sent because it alone exceeds the SQS limit."""

    index: int
    size: int


@dataclass
class IngestBatchSender:
    """Accumulate messages for one queue; send a batch whenever the next message would break a
    limit, and the remainder on ``flush()``. A refused entry raises (the caller retries; FIFO
    deduplication ids make the resend safe)."""

    url: str
    client: Any = None  # an SQS client; default: dd0c_cost.queues.sqs_client(), on first send
    accepted: int = 0
    oversized: list[Oversized] = field(default_factory=list)
    _batch: list[dict] = field(default_factory=list, repr=False)
    _batch_bytes: int = field(default=0, repr=False)

    def add(self, index: int, body: str, *, group: str, deduplication: str) -> bool:
        """Queue one message body; False (and an ``oversized`` entry) if it is over 256 KB."""
        size = len(body.encode())
        if size > SQS_MAX_MESSAGE_BYTES:
            self.oversized.append(Oversized(index=index, size=size))
            return False
        if len(self._batch) == SQS_MAX_BATCH or self._batch_bytes + size > SQS_MAX_MESSAGE_BYTES:
            self.flush()
        self._batch.append(
            {
                "Id": str(len(self._batch)),
                "MessageBody": body,
                "MessageGroupId": queues.group_id(group),
                "MessageDeduplicationId": deduplication,
            }
        )
        self._batch_bytes += size
        return True

    def flush(self) -> None:
        if self._batch:
            client = self.client if self.client is not None else queues.sqs_client()
            response = client.send_message_batch(QueueUrl=self.url, Entries=self._batch)
            for failure in response.get("Failed", []):
                raise RuntimeError(f"SQS refused message {failure['Id']}: {failure.get('Message')}")
            self.accepted += len(self._batch)
        self._batch, self._batch_bytes = [], 0
