"""The one shape every SQS FIFO consumer shares: partial batch failures with FIFO group skipping,
logging, tracing and metrics around a domain function of one record's body (``sqs_fifo_handler``: normalize, notify), of a
whole record (``sqs_fifo_record_handler``: tickets, remediate) or of a whole batch's bodies
(``sqs_fifo_batch_handler``: score).

The batch response is Lambda's ``{"batchItemFailures": [{"itemIdentifier": messageId}]}``, built
here rather than by Powertools' batch utility, whose import (its record data classes for every
event source, and the parser) cost a quarter of a second of every cold start for the dozen lines
below. Behaviour is the same as ``SqsFifoPartialProcessor(skip_group_on_error=True)`` with
``process_partial_response``: records are handled in order; a failed record fails only its own
message group for the rest of the batch (FIFO order is kept per group, the other groups carry
on); if every record failed, the invocation raises ``BatchProcessingFailed`` so that Lambda
retries the whole batch and the error is visible as a function error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from dd0c_cost import observability, outcomes


class BatchProcessingFailed(Exception):
    """Every record of the batch failed; ``errors`` holds (messageId, exception) per handled record."""

    def __init__(self, errors: list[tuple[str, BaseException]]) -> None:
        first = errors[0][1] if errors else None
        super().__init__(f"all {len(errors)} records failed; first: {first!r}")
        self.errors = errors


def fifo_partial_response(records: list[dict], record_handler: Callable[[dict], object], log=None) -> dict:
    """Handle ``records`` in order with FIFO group skipping; Lambda's partial batch response."""
    failed_groups: set[str] = set()
    failures: list[dict[str, str]] = []
    errors: list[tuple[str, BaseException]] = []
    for record in records:
        group = (record.get("attributes") or {}).get("MessageGroupId")
        message_id = record["messageId"]
        if group is not None and group in failed_groups:
            failures.append({"itemIdentifier": message_id})  # skipped: an earlier message of its group failed
            continue
        try:
            record_handler(record)
        except Exception as exc:
            if log is not None:
                log.exception("record failed", extra={"message_id": message_id, "message_group_id": group})
            errors.append((message_id, exc))
            failures.append({"itemIdentifier": message_id})
            if group is not None:
                failed_groups.add(group)
    if records and len(failures) == len(records):
        raise BatchProcessingFailed(errors)
    return {"batchItemFailures": failures}


def sqs_fifo_handler(stage: str, body_function: Callable[[str], object]) -> Callable[[dict, object], dict]:
    """Build a Lambda handler that feeds each record's body to ``body_function``."""

    def per_record(_event: dict) -> Callable[[dict], None]:
        return lambda record: body_function(record["body"])

    return _fifo_handler(stage, per_record)


class SqsRecordAttributes:
    """The ``attributes`` of an SQS record, read as Powertools' ``SQSRecordAttributes`` reads them."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict) -> None:
        self._raw = raw

    @property
    def approximate_receive_count(self) -> str:
        return self._raw["ApproximateReceiveCount"]


class SqsRecord:
    """One SQS record with the part of Powertools' ``SQSRecord`` the tickets and remediate workers
    use (body, message id, receipt handle, receive count), read the same way. Importing Powertools'
    class imports its data classes for every event source (about 65 M instructions of a cold start,
    more than the rest of ``lambda_runtime``)."""

    __slots__ = ("raw_event",)

    def __init__(self, raw_event: dict) -> None:
        self.raw_event = raw_event

    @property
    def body(self) -> str:
        return self.raw_event["body"]

    @property
    def message_id(self) -> str:
        return self.raw_event["messageId"]

    @property
    def receipt_handle(self) -> str:
        return self.raw_event["receiptHandle"]

    @property
    def attributes(self) -> SqsRecordAttributes:
        return SqsRecordAttributes(self.raw_event["attributes"])


def sqs_fifo_record_handler(stage: str, record_function: Callable) -> Callable[[dict, object], dict]:
    """Build a Lambda handler that hands each whole SQS record, as an ``SqsRecord``, to
    ``record_function`` (tickets, remediate: they need the receive count and the receipt handle
    to back off)."""

    def per_record(_event: dict) -> Callable[[dict], object]:
        return lambda record: record_function(SqsRecord(record))

    return _fifo_handler(stage, per_record)


def back_off(record, queue_name: str, seconds: int) -> None:
    """Make a failed record (an ``SqsRecord``) visible again only after ``seconds`` (best effort:
    without it, the queue's visibility timeout applies)."""
    _delay_retry(queue_name, record.receipt_handle, record.message_id, seconds)


def _delay_retry(queue_name: str, receipt_handle: str, message_id: str, seconds: int) -> None:
    from dd0c_cost import queues
    from dd0c_cost.settings import get_settings

    try:
        queues.sqs_client().change_message_visibility(
            QueueUrl=get_settings().queue_url(queue_name),
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(seconds, 43_200)),
        )
    except Exception:  # noqa: BLE001 - backing off is an optimisation; the retry happens anyway
        observability.logger("backoff").warning("could not delay the retry of %s", message_id)


def _honouring_retry_after(stage: str, record_handler: Callable[[dict], None]) -> Callable[[dict], None]:
    """A failure that carries its dependency's ``retry_after`` in seconds (Slack's 429) is not
    retried sooner: when the wait asked for is longer than the source queue's visibility timeout,
    the message stays invisible that long. A shorter wait needs nothing, since SQS redelivers only
    after the visibility timeout; retrying sooner would spend the message's few receives."""

    def honouring(record: dict) -> None:
        try:
            record_handler(record)
        except Exception as exc:
            seconds = getattr(exc, "retry_after", None)
            queue = _source_queue(stage)
            if isinstance(seconds, int) and queue is not None and seconds > queue.visibility_timeout_s:
                _delay_retry(queue.name, record.get("receiptHandle", ""), record["messageId"], seconds)
            raise

    return honouring


def _source_queue(stage: str):
    from dd0c_cost.topology import TOPOLOGY

    name = next((f.source_queue for f in TOPOLOGY.functions if f.name == stage), None)
    return TOPOLOGY.queue(name) if name else None


def sqs_fifo_batch_handler(
    stage: str, batch_function: Callable[[list[str]], list[BaseException | None]]
) -> Callable[[dict, object], dict]:
    """Build a Lambda handler that hands the whole batch's bodies to ``batch_function`` (one
    database round trip for the batch) and reports the records it says failed, with the same
    partial failures and FIFO group skipping as per record."""

    def whole_batch(event: dict) -> Callable[[dict], None]:
        records = event.get("Records", [])
        try:
            results = batch_function([r["body"] for r in records])
        except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable: every record failed, by name
            results = [exc] * len(records)
        errors = dict(zip((r["messageId"] for r in records), results, strict=True))

        def record_handler(record: dict) -> None:
            error = errors.get(record["messageId"])
            if error is not None:
                raise error

        return record_handler

    return _fifo_handler(stage, whole_batch)


def _naming_failures(stage: str, record_handler: Callable[[dict], None]) -> Callable[[dict], None]:
    """A failed record is retried (then moved to the DLQ), never counted as bad input; its failure
    is counted by name (metric ``<stage>.failed.<Exception>``), with a digest of the body so a
    local replay can say why each message in a DLQ is there."""

    def named(record: dict) -> None:
        try:
            record_handler(record)
        except Exception as exc:
            digest = hashlib.sha256(record["body"].encode()).hexdigest()
            group = (record.get("attributes") or {}).get("MessageGroupId")
            outcomes.record(stage, "failed", type(exc).__name__, {"body_sha256": digest, "group": group})
            raise

    return named


def _fifo_handler(stage: str, make_record_handler: Callable[[dict], Callable[[dict], None]]):
    # Within a batch, a failed message holds back only its own message group (order is kept
    # per group); the other groups in the batch carry on (fifo_partial_response).
    logger = observability.logger(stage)
    tracer = observability.tracer(stage)
    metrics = observability.metrics(stage)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict, context) -> dict:
        record_handler = tracer.capture_method(
            _naming_failures(stage, _honouring_retry_after(stage, make_record_handler(event)))
        )
        return fifo_partial_response(event.get("Records", []), record_handler, log=logger)

    return handler
