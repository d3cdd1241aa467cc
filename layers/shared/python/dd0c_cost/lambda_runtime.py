"""The one shape every SQS FIFO consumer shares: Powertools batch processing with partial
failures, logging, tracing and metrics around a per-record domain function."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def sqs_fifo_handler(stage: str, body_function: Callable[[str], object]) -> Callable[[dict, object], dict]:
    """Build a Lambda handler that feeds each record's body to ``body_function``."""
    # Within a batch, a failed message holds back only its own message group (order is kept
    # per group); the other groups in the batch carry on.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    logger = Logger(service=f"dd0c-cost-{stage}")
    tracer = Tracer(service=f"dd0c-cost-{stage}")
    metrics = Metrics(namespace="dd0c-cost", service=stage)

    @tracer.capture_method
    def record_handler(record: SQSRecord) -> None:
        body_function(record.body)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict, context) -> dict:
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

    return handler
