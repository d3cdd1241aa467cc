"""The request body checked before any route sees it: no request can end in a 500, or in no
answer, because of its bytes. Each problem is a 4xx in the API's error shape (``ErrorBody``)."""

from __future__ import annotations

import base64
import binascii

import orjson

from dd0c_cost.events.documents import MAX_DEPTH, RecordProblem, check_depth
from dd0c_cost.settings import get_settings

# Routes that read their body themselves (record by record, or Slack's signed form): the generic
# JSON checks leave their bodies to them.
OWN_BODY_ROUTES = frozenset({"/v1/ingest", "/slack/interactions"})


def body_problem(event) -> tuple[int, str, str] | None:
    """Why the request's body cannot be read, as (status, error, message); None if it can."""
    body = event.get("body") if isinstance(event, dict) else None
    if not body:
        return None
    limit = get_settings().ingest_max_body_bytes
    if len(body) > limit * 4 // 3 + 4:
        return 413, "body_too_large", f"request body is over {limit:,} bytes"
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(body, validate=True)
        else:
            raw = body.encode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError):
        return 400, "bad_base64", "the body is marked base64 but is not valid base64"
    if len(raw) > limit:
        return 413, "body_too_large", f"request body is {len(raw):,} bytes; the limit is {limit:,}"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return 400, "not_utf8", f"the body is not UTF-8 (byte {exc.start}); send UTF-8"
    path = event.get("rawPath") or (event.get("requestContext") or {}).get("http", {}).get("path") or ""
    if path in OWN_BODY_ROUTES:
        return None
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    media = str(headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        return 415, "unsupported_content_type", f"send the body as application/json, not {media[:100]!r}"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            return 400, "too_deep", f"the body nests more than {MAX_DEPTH} levels"
        return None  # not JSON: the route's validation answers (422, in the error shape)
    try:
        check_depth(value)
    except RecordProblem:
        return 400, "too_deep", f"the body nests more than {MAX_DEPTH} levels"
    return None
