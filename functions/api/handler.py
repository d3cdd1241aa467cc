"""api Lambda: API Gateway HTTP API -> the dd0c_cost.api resolver (ingest, dashboard, Slack)."""

from aws_lambda_powertools import Logger, Tracer

from dd0c_cost.api.app import app

logger = Logger(service="dd0c-cost-api")
tracer = Tracer(service="dd0c-cost-api")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
