"""The console's sign-in: an API key exchanged for a short-lived session cookie (HttpOnly,
SameSite=Strict, Secure over HTTPS) and a CSRF token the console sends with every write."""

from __future__ import annotations

import hmac
from datetime import datetime
from uuid import UUID

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from dd0c_cost import auth
from dd0c_cost.api.auth import check_body_size, principal
from dd0c_cost.api.errors import ApiError
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.model import Model

router = APIGatewayHttpRouter()


class SignIn(Model):
    key: str = Field(min_length=8, max_length=200, description="a tenant API key")


class SessionView(Model):
    tenant_id: UUID
    tenant_name: str
    scope: str
    via: str
    csrf_token: str | None = Field(description="send as x-csrf-token with every write made with the cookie")
    expires_at: datetime | None = None


def _secure(event) -> bool:
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    host = headers.get("host", "")
    local = host.startswith(("127.0.0.1", "localhost", "[::1]"))
    return headers.get("x-forwarded-proto", "https" if not local else "http") == "https"


def _tenant_name(tenant_id: UUID) -> str:
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        row = conn.execute("SELECT name FROM dd0c.tenants WHERE id = %s", [tenant_id]).fetchone()
    return row["name"] if row else ""


@router.post("/v1/session")
def sign_in(body: SignIn) -> Response[SessionView]:
    check_body_size(router.current_event)
    try:
        session = auth.open_session(get_connection(), body.key)
    except auth.AuthError as exc:
        raise ApiError(exc.status, exc.error, exc.message) from None
    view = SessionView(
        tenant_id=session.tenant_id,
        tenant_name=_tenant_name(session.tenant_id),
        scope=session.scope,
        via="session",
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
    )
    cookie = auth.session_cookie(session.secret, max_age=auth.SESSION_TTL_S, secure=_secure(router.current_event))
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=view.model_dump(mode="json"),
        headers={"cache-control": "no-store"},
        cookies=[cookie],
    )


@router.get("/v1/session")
def current_session() -> SessionView:
    who = principal(router.current_event)
    return SessionView(
        tenant_id=who.tenant_id,
        tenant_name=_tenant_name(who.tenant_id),
        scope=who.scope,
        via=who.via,
        csrf_token=who.csrf_token,
    )


@router.delete("/v1/session")
def sign_out() -> Response[dict]:
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    secret = auth.session_secret(headers, event.get("cookies"))
    who = principal(event)
    if secret and who.via == "session":
        # a cross-site page may not end someone's session either (any scope may sign out)
        if not who.csrf_token or not hmac.compare_digest(
            headers.get("x-csrf-token", "").encode(), who.csrf_token.encode()
        ):
            raise ApiError(403, "csrf_token_mismatch", "send the session's CSRF token as x-csrf-token")
        auth.end_session(get_connection(), secret)
    expired = auth.session_cookie("", max_age=0, secure=_secure(event))
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body={"ok": True}, cookies=[expired])
