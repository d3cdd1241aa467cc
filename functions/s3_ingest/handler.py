"""s3_ingest Lambda: S3 ObjectCreated notification -> dd0c_cost.ingest_sources.s3.handle_s3_event
(CloudTrail log files -> ingest queue; malformed objects reported to the rejects queue)."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.ingest_sources import s3

logger = observability.logger("s3_ingest")
tracer = observability.tracer("s3_ingest")
metrics = observability.metrics("s3_ingest")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context) -> dict:
    return s3.handle_s3_event(event, log=logger)


dd0c_cost.cold_start_done()
