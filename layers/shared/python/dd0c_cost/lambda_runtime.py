"""The one shape every SQS FIFO consumer shares: Powertools batch processing with partial
failures, logging, tracing and metrics around a domain function of one record's body
(``sqs_fifo_handler``: normalize, notify), of a whole record (``sqs_fifo_record_handler``: tickets,
remediate) or of a whole batch's bodies (``sqs_fifo_batch_handler``: score)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dd0c_cost import observability, outcomes


def sqs_fifo_handler(stage: str, body_function: Callable[[str], object]) -> Callable[[dict, object], dict]:
    """Build a Lambda handler that feeds each record's body to ``body_function``."""

    def per_record(_event: dict) -> Callable[[SQSRecord], None]:
        return lambda record: body_function(record.body)

    return _fifo_handler(stage, per_record)


def sqs_fifo_record_handler(
    stage: str, record_function: Callable[[SQSRecord], object]
) -> Callable[[dict, object], dict]:
    """Build a Lambda handler that hands each whole SQS record to ``record_function`` (tickets,
    remediate: they need the receive count and the receipt handle to back off)."""

    def per_record(_event: dict) -> Callable[[SQSRecord], object]:
        return record_function

    return _fifo_handler(stage, per_record)


def back_off(record: SQSRecord, queue_name: str, seconds: int) -> None:
    """Make a failed record visible again only after ``seconds`` (best effort: without it, the
    queue's visibility timeout applies)."""
    from dd0c_cost import queues
    from dd0c_cost.settings import get_settings

    try:
        queues.sqs_client().change_message_visibility(
            QueueUrl=get_settings().queue_url(queue_name),
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=max(0, min(seconds, 43_200)),
        )
    except Exception:  # noqa: BLE001 - backing off is an optimisation; the retry happens anyway
        observability.logger("backoff").warning("could not delay the retry of %s", record.message_id)


def sqs_fifo_batch_handler(
    stage: str, batch_function: Callable[[list[str]], list[BaseException | None]]
) -> Callable[[dict, object], dict]:
    """Build a Lambda handler that hands the whole batch's bodies to ``batch_function`` (one
    database round trip for the batch) and reports the records it says failed, through the same
    Powertools processor, so partial failures and FIFO group skipping behave as per record."""

    def whole_batch(event: dict) -> Callable[[SQSRecord], None]:
        records = event.get("Records", [])
        try:
            results = batch_function([r["body"] for r in records])
        except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable: every record failed, by name
            results = [exc] * len(records)
        errors = dict(zip((r["messageId"] for r in records), results, strict=True))

        def record_handler(record: SQSRecord) -> None:
            error = errors.get(record.message_id)
            if error is not None:
                raise error

        return record_handler

    return _fifo_handler(stage, whole_batch)


def _naming_failures(stage: str, record_handler: Callable[[SQSRecord], None]) -> Callable[[SQSRecord], None]:
    """A failed record is retried (then moved to the DLQ), never counted as bad input; its failure
    is counted by name (metric ``<stage>.failed.<Exception>``), with a digest of the body so a
    local replay can say why each message in a DLQ is there."""

    def named(record: SQSRecord) -> None:
        try:
            record_handler(record)
        except Exception as exc:
            digest = hashlib.sha256(record.body.encode()).hexdigest()
            group = (record.raw_event.get("attributes") or {}).get("MessageGroupId")
            outcomes.record(stage, "failed", type(exc).__name__, {"body_sha256": digest, "group": group})
            raise

    return named


def _fifo_handler(stage: str, make_record_handler: Callable[[dict], Callable[[SQSRecord], None]]):
    # Within a batch, a failed message holds back only its own message group (order is kept
    # per group); the other groups in the batch carry on.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    logger = observability.logger(stage)
    tracer = observability.tracer(stage)
    metrics = observability.metrics(stage)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict, context) -> dict:
        record_handler = tracer.capture_method(_naming_failures(stage, make_record_handler(event)))
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler
