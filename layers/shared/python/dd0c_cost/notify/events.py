"""Slack's Events API, as far as dd0c/cost needs it: the URL check, and the two events that
mean the app can no longer post in a workspace (``app_uninstalled``, ``tokens_revoked``).

Both disable every active installation in that workspace (every tenant that installed there)
and drop the sealed token; the tenant's alerts are then kept as undelivered, and
``GET /v1/slack`` says why. Slack retries events it thinks failed (``X-Slack-Retry-Num``);
disabling twice is a no-op, so retries are harmless.
"""

from __future__ import annotations

import logging

from dd0c_cost.db.connection import Connection
from dd0c_cost.notify import store

logger = logging.getLogger(__name__)

# Disabling a workspace crosses tenants (dd0c.disable_slack_workspace, migration 019): only the
# slack_events function's login is a member of this role, and only POST /slack/events reaches it.
SLACK_EVENTS_ROLE = "dd0c_slack_events"


def _is_enterprise_install(payload: dict) -> bool:
    if payload.get("is_enterprise_install") is True:
        return True
    authorizations = payload.get("authorizations")
    if isinstance(authorizations, list):
        return any(isinstance(a, dict) and a.get("is_enterprise_install") is True for a in authorizations)
    return False


def handle_event(conn: Connection, payload: dict) -> dict:
    """The response body for one (signature-verified) Events API request."""
    kind = payload.get("type")
    if kind == "url_verification":
        return {"challenge": str(payload.get("challenge") or "")}
    if kind != "event_callback":
        return {"ok": True, "ignored": f"type {kind!r}"}
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    event_type = event.get("type")
    enterprise_id = payload.get("enterprise_id") if isinstance(payload.get("enterprise_id"), str) else None
    team_id = payload.get("team_id") if isinstance(payload.get("team_id"), str) else None
    org_wide = _is_enterprise_install(payload)
    # An org-wide install is keyed by its enterprise; a workspace install by its team (even inside a Grid).
    where = {"enterprise_id": enterprise_id if org_wide else None, "team_id": None if org_wide else team_id}
    if event_type == "app_uninstalled":
        tenants = store.disable_workspace(conn, **where, status="uninstalled", bot_user_ids=None)
    elif event_type == "tokens_revoked":
        tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
        bots = [b for b in tokens.get("bot") or [] if isinstance(b, str)]
        if not bots:
            return {"ok": True, "disabled": 0}  # only user tokens were revoked; we hold none
        tenants = store.disable_workspace(conn, **where, status="tokens_revoked", bot_user_ids=bots)
    else:
        return {"ok": True, "ignored": f"event {event_type!r}"}
    logger.info(
        "Slack %s for workspace %s: disabled %d installation(s)", event_type, team_id or enterprise_id, len(tenants)
    )
    return {"ok": True, "disabled": len(tenants)}


__all__ = ["handle_event"]
