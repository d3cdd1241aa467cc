"""api Lambda: API Gateway HTTP API -> the dd0c_cost.api resolver (ingest, dashboard, Slack)."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.api.app import app
from dd0c_cost.api.routes import anomalies  # noqa: F401  the list's fast path, warm for the first request

logger = observability.logger("api")
tracer = observability.tracer("api")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)


dd0c_cost.cold_start_done()
