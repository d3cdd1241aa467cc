"""GET /health: liveness."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

router = APIGatewayHttpRouter()


@router.get("/health")
def health() -> dict:
    return {"status": "ok"}
