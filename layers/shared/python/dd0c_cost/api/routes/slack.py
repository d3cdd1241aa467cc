"""Slack routes: the OAuth install flow, Slack's events and interactions, and the tenant's own
view of its Slack (installation, routes, account names).

Browser-facing (no API key; the OAuth state is the credential):
  GET  /slack/install?state=…        -> 302 to Slack's consent screen, state pinned in a cookie
  GET  /slack/oauth_redirect         -> the installation is saved for the state's tenant
Slack-facing (Slack's request signature):
  POST /slack/interactions           -> buttons, selects and modals (notify.registry.dispatch)
  POST /slack/events                 -> url_verification; app_uninstalled / tokens_revoked
Tenant API (API key):
  POST   /v1/slack/install           -> an install link (expires in 10 minutes, works once)
  GET    /v1/slack                   -> installation status, how alerts are delivered, routes
  DELETE /v1/slack                   -> forget the installation (alerts become undelivered)
  PUT    /v1/slack/routes            -> replace the routes (default + by account/service/severity)
"""

from __future__ import annotations

import json
import logging
from typing import Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from pydantic import Field, field_validator

from dd0c_cost.api.auth import authenticated_tenant, raw_body
from dd0c_cost.api.errors import ApiError
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.model import Model
from dd0c_cost.settings import get_settings

router = APIGatewayHttpRouter()
logger = logging.getLogger(__name__)

CHANNEL_PATTERN = r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,20})$"
SEVERITIES = ("low", "medium", "high", "critical")


# --- models ------------------------------------------------------------------------------------
class InstallLinkOut(Model):
    install_url: str = Field(description="open in a browser signed in to the Slack workspace; works once")
    expires_at: str


class SlackRoutes(Model):
    """Where alerts go. The most specific match wins: account, then service, then severity, then
    the default; without a default, the channel picked when the app was installed."""

    default: str | None = Field(default=None, pattern=CHANNEL_PATTERN, description="'#channel-name' or a channel ID")
    account: dict[str, str] = Field(default_factory=dict, description="12-digit account id -> channel")
    service: dict[str, str] = Field(default_factory=dict, description="service (ec2, rds, …) -> channel")
    severity: dict[str, str] = Field(default_factory=dict, description="low|medium|high|critical -> channel")

    @field_validator("account", "service", "severity")
    @classmethod
    def _channels(cls, value: dict[str, str], info) -> dict[str, str]:
        import re

        for key, channel in value.items():
            if info.field_name == "account" and not re.fullmatch(r"\d{12}", key):
                raise ValueError(f"{key!r} is not a 12-digit account id")
            if info.field_name == "severity" and key not in SEVERITIES:
                raise ValueError(f"{key!r} is not one of {', '.join(SEVERITIES)}")
            if info.field_name == "service" and not re.fullmatch(r"[a-z0-9-]{1,40}", key):
                raise ValueError(f"{key!r} is not a service name (lower case, e.g. ec2)")
            if not re.fullmatch(CHANNEL_PATTERN, channel):
                raise ValueError(f"{channel!r} is not '#channel-name' or a channel ID")
        return value


class SlackStatus(Model):
    delivery: Literal["installation", "env", "outbox", "none"] = Field(
        description="how this tenant's alerts reach Slack now; 'none' means they are kept undelivered"
    )
    undelivered_reason: str | None = Field(default=None, description="why, when delivery is 'none'")
    installation: dict | None = Field(default=None, description="the current (or last) installation; never the token")
    routes: SlackRoutes


# --- helpers -----------------------------------------------------------------------------------
def _public_url() -> str:
    settings = get_settings()
    if settings.public_url:
        return settings.public_url.rstrip("/")
    headers = router.current_event.headers or {}
    host = headers.get("host") or router.current_event.request_context.domain_name or "localhost"
    local = host.split(":")[0] in ("localhost", "127.0.0.1")
    return f"{'http' if local else 'https'}://{host}"


def _cookie(name: str) -> str | None:
    event = router.current_event
    raw = list(event.get("cookies") or [])
    header = (event.headers or {}).get("cookie")
    if header:
        raw.extend(header.split(";"))
    for item in raw:
        key, _, value = item.strip().partition("=")
        if key == name:
            return value
    return None


def _html(status: int, page: str, *, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=page, cookies=cookies or [])


def _routes_model(routes) -> SlackRoutes:
    model = SlackRoutes()
    for route in routes:
        if route.kind == "default":
            model.default = route.channel
        else:
            getattr(model, route.kind)[route.value] = route.channel
    return model


# --- OAuth install -----------------------------------------------------------------------------
@router.get("/slack/install")
def slack_install() -> Response[str]:
    from dd0c_cost.notify.oauth import (
        REDIRECT_PATH,
        STATE_COOKIE,
        STATE_TTL_S,
        InstallError,
        authorize_url,
        page_renderer,
    )

    state = router.current_event.get_query_string_value("state")
    try:
        url = authorize_url(
            get_connection(), state, settings=get_settings(), redirect_uri=_public_url() + REDIRECT_PATH
        )
    except InstallError as exc:
        return _html(exc.status, page_renderer().render_failure_page(exc.reason))
    cookie = Cookie(
        STATE_COOKIE,
        state or "",
        path="/slack",
        secure=True,
        http_only=True,
        max_age=STATE_TTL_S,
        same_site=SameSite.LAX_MODE,
    )
    return Response(status_code=302, headers={"Location": url}, body="", cookies=[cookie])


@router.get("/slack/oauth_redirect")
def slack_oauth_redirect() -> Response[str]:
    from dd0c_cost.notify.oauth import REDIRECT_PATH, STATE_COOKIE, InstallError, complete_install, page_renderer

    event = router.current_event
    clear = Cookie(STATE_COOKIE, "", path="/slack", secure=True, http_only=True, max_age=0, same_site=SameSite.LAX_MODE)
    try:
        result = complete_install(
            get_connection(),
            code=event.get_query_string_value("code"),
            state=event.get_query_string_value("state"),
            cookie_state=_cookie(STATE_COOKIE),
            error=event.get_query_string_value("error"),
            settings=get_settings(),
            redirect_uri=_public_url() + REDIRECT_PATH,
        )
    except InstallError as exc:
        return _html(exc.status, page_renderer().render_failure_page(exc.reason), cookies=[clear])
    _redeliver(result.tenant_id, f"install:{result.installation.id}:{result.installation.installed_at.isoformat()}")
    return _html(200, result.page, cookies=[clear])


def _redeliver(tenant_id, trigger: str) -> None:
    """Alerts kept undelivered for want of an installation or a route go out now (notify.redeliver)."""
    from dd0c_cost.notify.redeliver import redeliver_undelivered

    count = redeliver_undelivered(get_connection(), tenant_id, trigger=trigger)
    if count:
        logger.info("queued %d undelivered alerts again (%s)", count, trigger.split(":", 1)[0])


# --- Slack's requests --------------------------------------------------------------------------
@router.post("/slack/interactions")
def slack_interactions() -> Response[dict]:
    from dd0c_cost.notify.interactions import InteractionRejected, parse_interaction
    from dd0c_cost.notify.registry import dispatch, known_actions

    settings = get_settings()
    try:
        action = parse_interaction(
            router.current_event.headers or {},
            raw_body(router.current_event),
            settings.slack_signing_secret or "",
            actions=known_actions(),
        )
    except InteractionRejected as exc:
        raise ApiError(exc.status, "slack_request_rejected", exc.reason) from None
    reply = dispatch(action, settings)
    if action.kind == "view_submission":
        body = reply.body  # Slack reads only response_action here; an empty body closes the modal
    else:
        body = {"ok": reply.ok, **({"error": reply.error, "message": reply.message} if not reply.ok else {})}
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


@router.post("/slack/events")
def slack_events() -> Response[dict]:
    from dd0c_cost.notify.events import SLACK_EVENTS_ROLE, handle_event
    from dd0c_cost.notify.interactions import InteractionRejected, verify_signature

    raw = raw_body(router.current_event)
    try:
        verify_signature(
            router.current_event.headers or {},
            raw.decode("utf-8", "replace"),
            get_settings().slack_signing_secret or "",
        )
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except InteractionRejected as exc:
        raise ApiError(exc.status, "slack_request_rejected", exc.reason) from None
    except ValueError:
        raise ApiError(400, "malformed_json", "Slack events are JSON objects") from None
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=handle_event(get_connection(role=SLACK_EVENTS_ROLE), payload),
    )


# --- the tenant's view -------------------------------------------------------------------------
@router.post("/v1/slack/install")
def create_install_link() -> Response[InstallLinkOut]:
    from dd0c_cost.notify.oauth import InstallError
    from dd0c_cost.notify.oauth import create_install_link as make_link

    tenant_id = authenticated_tenant(router.current_event, write=True)
    try:
        link = make_link(get_connection(), tenant_id, by="api", public_url=_public_url(), settings=get_settings())
    except InstallError as exc:
        raise ApiError(exc.status, exc.code, exc.reason) from None
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=InstallLinkOut(**link.as_json()))


def slack_status(conn, tenant_id) -> SlackStatus:
    from dd0c_cost.notify import delivery, store

    settings = get_settings()
    with tenant_transaction(conn, tenant_id):
        latest = store.latest_installation(conn)
        routes = store.list_routes(conn)
        try:
            workspace = delivery.workspace_for(conn, tenant_id, settings)
        except Exception:  # noqa: BLE001 - a token that does not open is reported, not fatal
            workspace = delivery.NoWorkspace(tenant_id, "slack_token_unreadable")
    if isinstance(workspace, delivery.NoWorkspace):
        mode, reason = "none", workspace.reason
    else:
        mode, reason = workspace.source, None
    return SlackStatus(
        delivery=mode,
        undelivered_reason=reason,
        installation=latest.public() if latest else None,
        routes=_routes_model(routes),
    )


@router.get("/v1/slack")
def get_slack() -> SlackStatus:
    return slack_status(get_connection(), authenticated_tenant(router.current_event))


@router.delete("/v1/slack")
def delete_slack() -> SlackStatus:
    from dd0c_cost.notify import store

    tenant_id = authenticated_tenant(router.current_event, write=True)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        store.remove_installation(conn)
    return slack_status(conn, tenant_id)


def replace_routes(conn, tenant_id, routes: SlackRoutes, *, by: str) -> None:
    from dd0c_cost.notify import store

    wanted = []
    if routes.default:
        wanted.append(store.Route("default", "", routes.default))
    for kind in ("account", "service", "severity"):
        wanted.extend(store.Route(kind, key, channel) for key, channel in sorted(getattr(routes, kind).items()))
    with tenant_transaction(conn, tenant_id):
        for existing in store.list_routes(conn):
            store.delete_route(conn, existing.kind, existing.value)
        for route in wanted:
            store.set_route(conn, tenant_id, route, by=by)


@router.put("/v1/slack/routes")
def put_routes(routes: SlackRoutes) -> SlackStatus:
    tenant_id = authenticated_tenant(router.current_event, write=True)
    conn = get_connection()
    replace_routes(conn, tenant_id, routes, by="api")
    status = slack_status(conn, tenant_id)
    _redeliver(tenant_id, "routes:" + status.routes.model_dump_json())
    return status


__all__ = ["router"]
