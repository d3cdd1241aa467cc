"""The HTTP API behind API Gateway: the resolver, its error shape, and one router per concern
(``dd0c_cost.api.routes``): health, ingest, anomalies, accounts, Slack interactions.

Tenant API keys authenticate ingest and dashboard routes (``api.auth``); Slack interactions are
verified by Slack's signature instead.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    Response,
    content_types,
)

from dd0c_cost.api.errors import ApiError
from dd0c_cost.api.models import ErrorBody
from dd0c_cost.api.routes import accounts, anomalies, health, ingest, slack

app = APIGatewayHttpResolver(enable_validation=True)

# Order is the OpenAPI document's order.
for _routes in (health, ingest, anomalies, accounts, slack):
    app.include_router(_routes.router)


@app.exception_handler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return Response(
        status_code=exc.status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=exc.error, message=exc.message).model_dump_json(),
    )


def openapi_document() -> str:
    return app.get_openapi_json_schema(
        title="dd0c/cost API", version="1", description="Ingest CloudTrail, read anomalies, receive Slack actions."
    )


__all__ = ["ApiError", "app", "openapi_document"]
