"""s3_ingest Lambda: S3 ObjectCreated notification -> dd0c_cost.ingest_sources.s3.handle_s3_event
(CloudTrail log files -> ingest queue; malformed objects reported to the rejects queue)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from dd0c_cost.ingest_sources import s3

logger = Logger(service="dd0c-cost-s3_ingest")
tracer = Tracer(service="dd0c-cost-s3_ingest")
metrics = Metrics(namespace="dd0c-cost", service="s3_ingest")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context) -> dict:
    return s3.handle_s3_event(event, log=logger)
