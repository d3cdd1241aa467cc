"""Who is calling: the tenant of an API key, and the raw request body (for signatures and ingest)."""

from __future__ import annotations

import base64
from uuid import UUID

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from dd0c_cost.api.errors import ApiError
from dd0c_cost.db.connection import get_connection, tenant_for_api_key
from dd0c_cost.db.operator import hash_api_key


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def authenticated_tenant(event: APIGatewayProxyEventV2) -> UUID:
    """The tenant whose API key came as ``Authorization: Bearer`` or ``x-api-key``; 401 otherwise."""
    headers = event.headers or {}
    secret = headers.get("x-api-key") or ""
    authorization = headers.get("authorization") or ""
    if not secret and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    if not secret:
        raise ApiError(
            401, "missing_api_key", "send the tenant API key as 'Authorization: Bearer <key>' or 'x-api-key'"
        )
    tenant_id = tenant_for_api_key(get_connection(), hash_api_key(secret))
    if tenant_id is None:
        raise ApiError(401, "invalid_api_key", "the API key is unknown or revoked")
    return tenant_id
