"""Where one tenant's alerts go, and which Slack workspace may act on them.

A tenant's Slack ``Workspace`` is, in this order:

1. its active OAuth installation (bot token opened from its sealed form);
2. the single-workspace env token (``SLACK_BOT_TOKEN``), only if ``SLACK_TENANT`` names this
   tenant: the env token serves one named tenant, never all;
3. the local outbox file, only when the deployment has no Slack at all (the demo);

and otherwise none: the alert is kept and shown as undelivered, with the reason.

The channel comes from the tenant's routes, most specific first: account, service, severity,
then the tenant's default route; failing those, the channel the installer picked on Slack's
consent screen (an installation) or ``SLACK_CHANNEL`` (env token, outbox). No channel: undelivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from uuid import UUID

from dd0c_cost.crypto import Redacted
from dd0c_cost.db.connection import Connection
from dd0c_cost.notify import store
from dd0c_cost.notify.installation import open_bot_token, quiet_logger, workspace_matches
from dd0c_cost.notify.message import MessageContext
from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.settings import Settings

# Why an alert was not delivered (anomalies.delivery_detail; the API shows it).
NOT_INSTALLED = "slack_not_installed"
NO_ROUTE = "no_route"


@dataclass(frozen=True)
class Workspace:
    """A tenant's Slack (or the outbox), with what it takes to post there."""

    tenant_id: UUID
    kind: Literal["slack", "outbox"]
    source: Literal["installation", "env", "outbox"]
    token: Redacted | None = field(default=None, repr=False)
    team_id: str | None = None
    enterprise_id: str | None = None
    is_enterprise_install: bool = False
    default_channel: str | None = None

    @property
    def is_outbox(self) -> bool:
        return self.kind == "outbox"


@dataclass(frozen=True)
class NoWorkspace:
    tenant_id: UUID
    reason: str  # slack_not_installed | slack_uninstalled | slack_tokens_revoked | slack_removed


@dataclass(frozen=True)
class Target:
    """Where one anomaly's message goes."""

    workspace: Workspace
    channel: str
    route: str  # "account:1111…", "service:ec2", "severity:critical", "default", "installation", "env"


@dataclass(frozen=True)
class Undelivered:
    reason: str


@lru_cache(maxsize=8)
def _auth_test(token: str, base_url: str) -> tuple[str | None, str | None]:
    """(team_id, enterprise_id) of an env token, asked of Slack once per process."""
    from slack_sdk.web.base_client import BaseClient  # what WebClient.auth_test() calls (notify.slack)

    response = BaseClient(token=token, base_url=base_url, timeout=4, logger=quiet_logger()).api_call(
        "auth.test", params={}
    )
    return response.get("team_id"), response.get("enterprise_id")


def _base_url(settings: Settings) -> str:
    url = settings.slack_api_base_url
    return url if url.endswith("/") else url + "/"


def env_workspace_identity(settings: Settings) -> tuple[str | None, str | None]:
    if settings.slack_team_id or settings.slack_enterprise_id:
        return settings.slack_team_id, settings.slack_enterprise_id
    return _auth_test(settings.slack_bot_token or "", _base_url(settings))


def workspace_for(conn: Connection, tenant_id: UUID, settings: Settings) -> Workspace | NoWorkspace:
    """The tenant's Slack, inside a tenant transaction for ``tenant_id``."""
    row = store.latest_installation(conn)
    if row is not None and row.status == "active":
        token = open_bot_token(tenant_id, row)
        return Workspace(
            tenant_id=tenant_id,
            kind="slack",
            source="installation",
            token=token,
            team_id=row.team_id,
            enterprise_id=row.enterprise_id,
            is_enterprise_install=row.is_enterprise_install,
            default_channel=row.default_channel_id,
        )
    if (
        settings.slack_bot_token
        and settings.slack_tenant
        and store.tenant_name(conn, tenant_id) == settings.slack_tenant
    ):
        return Workspace(
            tenant_id=tenant_id,
            kind="slack",
            source="env",
            token=Redacted(settings.slack_bot_token),
            default_channel=settings.slack_channel,
        )
    if not settings.slack_configured:
        return Workspace(tenant_id=tenant_id, kind="outbox", source="outbox", default_channel=settings.slack_channel)
    if row is None:
        return NoWorkspace(tenant_id, NOT_INSTALLED)
    return NoWorkspace(tenant_id, f"slack_{row.status}")


def choose_channel(routes: list[store.Route], anomaly: Anomaly, fallback: str | None) -> tuple[str, str] | None:
    """(channel, which route chose it), most specific route first; None when nothing matches."""
    facts = {"account": anomaly.account_id, "service": anomaly.service.lower(), "severity": anomaly.severity.value}
    by_key = {(r.kind, r.value.lower() if r.kind == "service" else r.value): r for r in routes}
    for kind in ("account", "service", "severity"):
        route = by_key.get((kind, facts[kind]))
        if route is not None:
            return route.channel, f"{kind}:{route.value}"
    route = by_key.get(("default", ""))
    if route is not None:
        return route.channel, "default"
    if fallback:
        return fallback, "workspace_default"
    return None


def governance_rule(target: Target | Undelivered) -> str | None:
    """The governance rule named after the route that takes an alert (``route:service:ec2``,
    ``route:default``, ``route:workspace_default``): a mode set on it overrides the tenant's for
    the alerts on that route. None when nothing takes the alert."""
    return f"route:{target.route}" if isinstance(target, Target) else None


def target_for(conn: Connection, anomaly: Anomaly, settings: Settings) -> Target | Undelivered:
    """Where ``anomaly``'s message goes, inside a tenant transaction for its tenant."""
    workspace = workspace_for(conn, anomaly.tenant_id, settings)
    if isinstance(workspace, NoWorkspace):
        return Undelivered(workspace.reason)
    chosen = choose_channel(store.list_routes(conn), anomaly, workspace.default_channel)
    if chosen is None:
        return Undelivered(NO_ROUTE)
    return Target(workspace=workspace, channel=chosen[0], route=chosen[1])


class ForeignWorkspace(Exception):
    """A click from a workspace that is not the tenant's: refused, nothing changes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def authorize_workspace(
    conn: Connection, tenant_id: UUID, settings: Settings, *, team_id: str | None, enterprise_id: str | None
) -> Workspace:
    """The tenant's workspace, if (team_id, enterprise_id) is it; else ForeignWorkspace.

    Inside a tenant transaction for ``tenant_id``."""
    workspace = workspace_for(conn, tenant_id, settings)
    if isinstance(workspace, NoWorkspace) or workspace.is_outbox:
        raise ForeignWorkspace("this tenant has no Slack workspace installed, so no workspace may act on its alerts")
    if workspace.source == "installation":
        row = store.active_installation(conn)
        if row is None or not workspace_matches(row, enterprise_id=enterprise_id, team_id=team_id):
            raise ForeignWorkspace("this alert belongs to a tenant installed in another Slack workspace")
        return workspace
    env_team, env_enterprise = env_workspace_identity(settings)
    if env_team and team_id == env_team:
        if env_enterprise and enterprise_id and env_enterprise != enterprise_id:
            raise ForeignWorkspace("this alert belongs to a tenant installed in another Slack workspace")
        return workspace
    raise ForeignWorkspace("this alert belongs to a tenant installed in another Slack workspace")


def message_context(
    conn: Connection, anomaly: Anomaly, settings: Settings, *, status_by: str | None = None
) -> MessageContext:
    """Everything the anomaly's message shows beyond the anomaly, inside its tenant's transaction:
    who changed its status, the account's name, the ticket and remediations so far, the buttons
    the tenant has set up (Create ticket, Remediate…), and the explanation if one arrived."""
    if status_by is None:
        row = conn.execute("SELECT status_changed_by FROM dd0c.anomalies WHERE id = %s", [anomaly.id]).fetchone()
        by = row["status_changed_by"] if row else None
        status_by = f"<@{by}>" if by and by[:1] in "UW" and by.isalnum() else by
    lines, elements = _ticket_parts(conn, anomaly)
    more_lines, more_elements = _remediation_parts(conn, anomaly)
    explained = conn.execute(
        "SELECT text FROM dd0c.explanations WHERE anomaly_id = %s AND status = 'ok'", [anomaly.id]
    ).fetchone()
    return MessageContext(
        dashboard_url=dashboard_link(settings, anomaly),
        status_by=status_by,
        account_name=store.account_name(conn, anomaly.account_id),
        status_lines=tuple(lines + more_lines),
        explanation=explained["text"] if explained else None,
        extra_elements=tuple(elements + more_elements),
    )


def _ticket_parts(conn: Connection, anomaly: Anomaly) -> tuple[list[str], list]:
    from dd0c_cost.notify.message import escape_mrkdwn
    from dd0c_cost.tickets import store as tickets
    from dd0c_cost.tickets.slack import link_text, ticket_button
    from dd0c_cost.tickets.targets import list_targets

    ticket = tickets.ticket_for(conn, "anomaly", str(anomaly.id))
    lines: list[str] = []
    if ticket is not None and ticket.status == "created":
        lines.append(f"🎫 Ticket {link_text(ticket)}")
    elif ticket is not None and ticket.status == "queued":
        lines.append(f"🎫 Creating a ticket in {escape_mrkdwn(ticket.target_kind)}…")
    elif ticket is not None:
        lines.append(f"⚠️ Ticket failed: {escape_mrkdwn((ticket.last_error or 'no detail')[:300])}")
    elements = []
    if (ticket is None or ticket.status == "failed") and list_targets(conn):
        elements.append(ticket_button("anomaly", str(anomaly.id), anomaly.tenant_id, retry=ticket is not None))
    return lines, elements


REMEDIATION_LINES = {
    "confirmed": "🛠 {label}: confirmed by <@{by}>, running…",
    "running": "🛠 {label}: confirmed by <@{by}>, running…",
    "succeeded": "✅ {summary} — confirmed by <@{by}>",
    "failed": "❌ {label} failed: {error}",
    "refused": "⛔ {label} not done: {error}",
}


def _remediation_parts(conn: Connection, anomaly: Anomaly) -> tuple[list[str], list]:
    from dd0c_cost.notify.message import escape_mrkdwn
    from dd0c_cost.notify.registry import Subject
    from dd0c_cost.remediation import store as remediation
    from dd0c_cost.remediation.actions import BY_ID, actions_for
    from dd0c_cost.remediation.slack import remediation_select
    from dd0c_cost.scoring.models import AnomalyStatus

    lines = []
    for request in remediation.for_subject(conn, "anomaly", str(anomaly.id)):
        template = REMEDIATION_LINES.get(request.status)
        if template is None:
            continue
        lines.append(
            template.format(
                label=BY_ID[request.action].label,
                by=request.confirmed_by or request.requested_by,
                summary=escape_mrkdwn(str((request.result or {}).get("summary") or BY_ID[request.action].label)),
                error=escape_mrkdwn((request.error or "no detail")[:300]),
            )
        )
    elements = []
    closed = anomaly.status in (AnomalyStatus.EXPECTED, AnomalyStatus.FALSE_POSITIVE)
    if not closed and anomaly.resource_ids and remediation.settings(conn) is not None:
        attrs = {**anomaly.attributes, "_actor": anomaly.actor}
        subject = Subject(
            kind="anomaly",
            id=str(anomaly.id),
            tenant_id=anomaly.tenant_id,
            title="",
            summary="",
            resource_ids=tuple(anomaly.resource_ids),
        )
        select = remediation_select(subject, actions_for(anomaly.resource_type, attrs))
        if select is not None:
            elements.append(select)
    return lines, elements


def dashboard_link(settings: Settings, anomaly: Anomaly) -> str | None:
    if not settings.dashboard_url:
        return None
    return f"{settings.dashboard_url.rstrip('/')}/anomalies/{anomaly.id}"


def reset_caches() -> None:
    _auth_test.cache_clear()


__all__ = [
    "NOT_INSTALLED",
    "NO_ROUTE",
    "ForeignWorkspace",
    "NoWorkspace",
    "Target",
    "Undelivered",
    "Workspace",
    "authorize_workspace",
    "choose_channel",
    "env_workspace_identity",
    "message_context",
    "reset_caches",
    "target_for",
    "workspace_for",
]
