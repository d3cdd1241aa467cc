"""The web console (a static single-page app) and the API viewer, served by the API function:
``/`` and ``/console/<asset>``, ``/docs`` and ``/docs/<asset>``. Not in the OpenAPI document."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.errors import ApiError
from dd0c_cost.console import asset

router = APIGatewayHttpRouter()

# The console talks only to its own origin; nothing is loaded from elsewhere.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _serve(name: str, *, cache: str) -> Response:
    found = asset(name)
    if found is None:
        raise ApiError(404, "not_found", "no such console file")
    body, content_type = found
    if content_type.startswith(("text/", "application/json")):
        body = body.decode()  # text as text (bytes would be base64-encoded for API Gateway)
    headers = {
        "cache-control": cache,
        "x-content-type-options": "nosniff",
        "content-security-policy": _CSP,
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
    }
    return Response(status_code=200, content_type=content_type, body=body, headers=headers)


@router.get("/", include_in_schema=False)
def console_index():
    return _serve("index.html", cache="no-cache")


@router.get("/console/<name>", include_in_schema=False)
def console_asset(name: str):
    return _serve(name, cache="public, max-age=300")


@router.get("/docs", include_in_schema=False)
def docs_index():
    return _serve("docs/index.html", cache="no-cache")


@router.get("/docs/<name>", include_in_schema=False)
def docs_asset(name: str):
    return _serve(f"docs/{name}", cache="public, max-age=3600")
