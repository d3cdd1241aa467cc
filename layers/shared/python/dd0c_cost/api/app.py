"""The HTTP API behind API Gateway: the resolver, its error shape, and one router per concern
(``dd0c_cost.api.routes``): health, ingest, anomalies, accounts, Slack (install, events,
interactions, routes).

Routers are imported on first need (``include_routers_for``): a request includes the routers that
serve its path (``ROUTERS``: their path prefixes), so a cold start imports only what its first
request needs, not every concern's models and stores. The api function's handler also imports the
anomaly list's router (the resolver's fast path) at cold start; slack_events, which serves only
Slack's requests with the same resolver, does not. The OpenAPI document includes them all, in
``ROUTERS``' order (docs/decisions.md: "Routers are imported on first need").

Tenant API keys authenticate ingest and dashboard routes (``api.auth``); Slack interactions are
verified by Slack's signature instead. Every answer that is not a success is an ``ErrorBody``:
unreadable bodies (``api.body_checks``), validation errors (422), unknown routes (404), a database
outage (503) and anything unexpected (500, logged).
"""

from __future__ import annotations

import importlib
import logging
import threading

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from dd0c_cost.api.auth import MAX_JSON_BODY_BYTES
from dd0c_cost.api.body_checks import body_problem
from dd0c_cost.api.errors import ApiError
from dd0c_cost.api.models import ErrorBody

logger = logging.getLogger(__name__)

# Router module (dd0c_cost.api.routes.<name>) -> the paths it serves: a prefix matches itself and what
# is below it ("/" only itself). In the OpenAPI document's order. tests/integration/test_api_routers.py
# checks that every route of every router is under one of its prefixes and that no two routers' routes
# can match one request.
ROUTERS: dict[str, tuple[str, ...]] = {
    "health": ("/health",),
    "session": ("/v1/session",),
    "ingest": ("/v1/ingest",),
    "anomalies": ("/v1/anomalies",),
    "zombies": ("/v1/zombies",),
    "spend": ("/v1/spend",),
    "bill": ("/v1/spend/bill",),
    "overview": ("/v1/accounts", "/v1/summary"),
    "accounts": ("/v1/accounts",),
    "governance": ("/v1/audit", "/v1/governance", "/v1/settings"),
    "slack": ("/v1/slack", "/slack"),
    "tickets": ("/v1/tickets",),
    "remediation": ("/v1/remediation",),
    "console": ("/", "/console", "/docs"),
}
_included: set[str] = set()
_including = threading.Lock()


class _Resolver(APIGatewayHttpResolver):
    """Refuses oversized bodies (413) before anything parses them (ingest has its own limits), then
    any body that cannot be read (``api.body_checks``: not base64, not UTF-8, too deep, not JSON's
    media type): a 4xx in the error shape, never a 500 or no answer."""

    def resolve(self, event, context):
        method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "GET")
        path = event.get("rawPath") or ""
        if method == "GET" and path == "/v1/anomalies":
            # the dashboard's hot path answers plainly valid requests itself (docs/decisions.md: "The anomaly list skips ...");
            # the api function imports it at cold start, slack_events (never asked for it) does not
            from dd0c_cost.api.routes import anomalies

            fast = anomalies.list_fast(event)
            if fast is not None:
                return fast
        if method in ("POST", "PUT", "PATCH", "DELETE") and path != "/v1/ingest":
            size = len(event.get("body") or "")
            if size > MAX_JSON_BODY_BYTES * (4 / 3 if event.get("isBase64Encoded") else 1):
                body = ErrorBody(error="body_too_large", message=f"the body is limited to {MAX_JSON_BODY_BYTES} bytes")
                return {
                    "statusCode": 413,
                    "headers": {"Content-Type": "application/json"},
                    "body": body.model_dump_json(),
                    "isBase64Encoded": False,
                }
        include_routers_for(path)
        problem = body_problem(event)
        if problem is not None:
            status, error, message = problem
            return {
                "statusCode": status,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": ErrorBody(error=error, message=message).model_dump_json(),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


app = _Resolver(enable_validation=True)


def serves(prefixes: tuple[str, ...], path: str) -> bool:
    return any(path == p or (p != "/" and path.startswith(p + "/")) for p in prefixes)


def include_routers_for(path: str) -> None:
    """Import and include the routers that serve ``path`` (once each)."""
    if all(name in _included for name, prefixes in ROUTERS.items() if serves(prefixes, path)):
        return
    with _including:
        for name, prefixes in ROUTERS.items():
            if name not in _included and serves(prefixes, path):
                app.include_router(importlib.import_module(f"dd0c_cost.api.routes.{name}").router)
                _included.add(name)


def include_all_routers() -> None:
    """Every router, then the routes in ``ROUTERS``' order (as if included in that order at import): the
    OpenAPI document lists them in the order they are registered."""
    with _including:
        for name in ROUTERS:
            if name not in _included:
                app.include_router(importlib.import_module(f"dd0c_cost.api.routes.{name}").router)
                _included.add(name)
        rank: dict[tuple[str, str], int] = {}
        for name in ROUTERS:  # Powertools' Router keys routes by (rule, methods, ...) in registration order
            for rule, methods, *_ in importlib.import_module(f"dd0c_cost.api.routes.{name}").router._routes:
                for method in methods:
                    rank.setdefault((rule, method.upper()), len(rank))
        for routes in (app._static_routes, app._dynamic_routes):  # the resolver's own lists (the app's routes last)
            routes.sort(key=lambda r: rank.get((r.path, r.method), len(rank)))


def _error_response(status: int, error: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=error, message=message).model_dump_json(),
    )


@app.exception_handler(ApiError)
def _api_error(exc: ApiError):
    return Response(
        status_code=exc.status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=exc.error, message=exc.message, detail=exc.detail).model_dump_json(),
    )


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError):
    """Bad query parameters or bodies: 400 with the fields that were wrong (never a 500)."""
    detail = []
    for error in list(exc.errors())[:20]:
        loc = [str(part) for part in error.get("loc", ()) if part != "model"]
        detail.append({"field": ".".join(loc) or "body", "message": str(error.get("msg", "invalid"))[:200]})
    return _api_error(ApiError(400, "invalid_request", "the request has invalid fields", detail))


@app.not_found
def _not_found(exc: Exception):
    return _api_error(ApiError(404, "not_found", "no such route"))


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(exc: RequestUnsupportedContentType):
    return _api_error(ApiError(415, "unsupported_content_type", "send the body as application/json"))


@app.exception_handler(Exception)
def _unexpected(exc: Exception):
    """A database outage is 503; anything else unexpected 500, logged; both in the error shape."""
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        logger.exception("database unavailable")
        return _api_error(ApiError(503, "unavailable", "the database is unavailable; try again"))
    logger.exception("unhandled error")
    return _api_error(ApiError(500, "internal_error", f"{type(exc).__name__}; the request id is in the logs"))


@app.get("/openapi.json", include_in_schema=False)
def _openapi():
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=openapi_document(),
        headers={"cache-control": "public, max-age=300"},
    )


_document: str | None = None


def openapi_document() -> str:
    global _document
    if _document is None:
        include_all_routers()
        _document = app.get_openapi_json_schema(
            title="dd0c/cost API",
            version="1",
            description="Ingest CloudTrail; read anomalies, spend, accounts and the audit log; govern "
            "(shadow / audit / enforce, panic); install Slack per tenant and receive its actions; ticket targets. Authenticate with a tenant "
            "API key (Authorization: Bearer) or the console's session cookie (writes then need "
            "x-csrf-token). Errors: {error, message, detail[]} with a stable error code.",
        )
    return _document


__all__ = ["ApiError", "app", "openapi_document"]
