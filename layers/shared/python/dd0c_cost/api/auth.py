"""Who is calling: the principal of an API key or console session, and the raw request body.

In AWS a Lambda authorizer (``functions/authorizer``) runs ``dd0c_cost.auth.check_credentials``
and hands the principal over in ``requestContext.authorizer.lambda``; locally (``dd0c-cost
serve``, tests) nothing did, so the same check runs here. Writes need a write-scoped credential
and, with a session cookie, the session's CSRF token.
"""

from __future__ import annotations

import base64
from uuid import UUID

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from dd0c_cost import auth
from dd0c_cost.api.errors import ApiError
from dd0c_cost.db.connection import get_connection

MAX_JSON_BODY_BYTES = 64 * 1024  # every route's JSON body but ingest (which has its own limits)


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def principal(event: APIGatewayProxyEventV2 | dict, *, write: bool = False) -> auth.Principal:
    """The caller (401 without valid credentials); ``write``: 403 for a read key or a missing CSRF token.
    ``event``: the event, or its data class (the raw headers are read: the data class's case-insensitive
    copy costs more than the lower-cased one made here)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    context = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    try:
        if context.get("tenant_id"):
            who = auth.Principal.from_context(context)
        else:
            who = auth.check_credentials(get_connection(), headers, event.get("cookies"), use_cache=True)
        if write:
            auth.require_write(who, headers)
    except auth.AuthError as exc:
        raise ApiError(exc.status, exc.error, exc.message) from None
    return who


def authenticated_tenant(event: APIGatewayProxyEventV2, *, write: bool = False) -> UUID:
    return principal(event, write=write).tenant_id


def check_body_size(event: APIGatewayProxyEventV2) -> None:
    size = len(event.get("body") or "")
    if size > MAX_JSON_BODY_BYTES * (4 / 3 if event.get("isBase64Encoded") else 1):
        raise ApiError(413, "body_too_large", f"the body is limited to {MAX_JSON_BODY_BYTES} bytes")
