"""SQL for the Slack surface: where an anomaly's message is and which revision of it was posted;
installations, OAuth state, routes, delivery outcomes, account names.

Functions taking a connection run inside the caller's transaction; unless noted, that is a
``tenant_transaction`` (row-level security decides what they see). The few that must work
before a tenant is known (OAuth redirect, Slack events) call the narrow SECURITY DEFINER doors
of migration 010.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dd0c_cost.db.connection import Connection

ROUTE_KINDS = ("account", "service", "severity", "default")  # also the precedence, most specific first


@dataclass(frozen=True)
class InstallationRow:
    id: UUID
    tenant_id: UUID
    app_id: str | None
    enterprise_id: str | None
    enterprise_name: str | None
    team_id: str | None
    team_name: str | None
    is_enterprise_install: bool
    bot_id: str | None
    bot_user_id: str | None
    bot_scopes: list[str]
    bot_token_sealed: bytes | None
    installer_user_id: str | None
    default_channel_id: str | None
    default_channel_name: str | None
    installed_at: datetime
    status: str
    disabled_at: datetime | None

    def public(self) -> dict:
        """What the API and CLI show: never the token."""
        return {
            "status": self.status,
            "team_id": self.team_id,
            "team_name": self.team_name,
            "enterprise_id": self.enterprise_id,
            "enterprise_name": self.enterprise_name,
            "is_enterprise_install": self.is_enterprise_install,
            "bot_user_id": self.bot_user_id,
            "scopes": list(self.bot_scopes),
            "installed_by": self.installer_user_id,
            "default_channel": self.default_channel_id,
            "default_channel_name": self.default_channel_name,
            "installed_at": self.installed_at.isoformat(),
            "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None,
        }


_INSTALLATION_COLUMNS = """id, tenant_id, app_id, enterprise_id, enterprise_name, team_id, team_name, is_enterprise_install,
    bot_id, bot_user_id, bot_scopes, bot_token_sealed, installer_user_id, default_channel_id, default_channel_name,
    installed_at, status, disabled_at"""


def _installation(row: dict | None) -> InstallationRow | None:
    if row is None:
        return None
    values = dict(row)
    if values["bot_token_sealed"] is not None:
        values["bot_token_sealed"] = bytes(values["bot_token_sealed"])
    return InstallationRow(**values)


def save_installation(conn: Connection, tenant_id: UUID, fields: dict, sealed_token: bytes) -> InstallationRow:
    """The tenant's new active installation; the previous one (if any) becomes ``replaced``."""
    conn.execute(
        """UPDATE dd0c.slack_installations SET status = 'replaced', disabled_at = now(), bot_token_sealed = NULL
           WHERE tenant_id = %s AND status = 'active'""",
        [tenant_id],
    )
    columns = [
        "app_id",
        "enterprise_id",
        "enterprise_name",
        "team_id",
        "team_name",
        "is_enterprise_install",
        "bot_id",
        "bot_user_id",
        "bot_scopes",
        "installer_user_id",
        "default_channel_id",
        "default_channel_name",
    ]
    row = conn.execute(
        f"""INSERT INTO dd0c.slack_installations (tenant_id, bot_token_sealed, {", ".join(columns)})
            VALUES (%s, %s, {", ".join(["%s"] * len(columns))}) RETURNING {_INSTALLATION_COLUMNS}""",
        [tenant_id, sealed_token, *[fields.get(c) for c in columns]],
    ).fetchone()
    return _installation(row)


def active_installation(conn: Connection) -> InstallationRow | None:
    row = conn.execute(
        f"""SELECT {_INSTALLATION_COLUMNS} FROM dd0c.slack_installations
            WHERE tenant_id = dd0c.current_tenant() AND status = 'active'"""
    ).fetchone()
    return _installation(row)


def latest_installation(conn: Connection) -> InstallationRow | None:
    """The active installation, else the most recent one (to say why delivery stopped)."""
    row = conn.execute(
        f"""SELECT {_INSTALLATION_COLUMNS} FROM dd0c.slack_installations
            WHERE tenant_id = dd0c.current_tenant() ORDER BY (status = 'active') DESC, installed_at DESC, id LIMIT 1"""
    ).fetchone()
    return _installation(row)


def remove_installation(conn: Connection) -> bool:
    """Forget the tenant's active installation (an operator or the tenant asked)."""
    row = conn.execute(
        """UPDATE dd0c.slack_installations SET status = 'removed', disabled_at = now(), bot_token_sealed = NULL
           WHERE tenant_id = dd0c.current_tenant() AND status = 'active' RETURNING id"""
    ).fetchone()
    return row is not None


def disable_workspace(
    conn: Connection,
    *,
    enterprise_id: str | None,
    team_id: str | None,
    status: str,
    bot_user_ids: list[str] | None,
) -> list[UUID]:
    """Slack told us the app is gone from a workspace: disable it for every tenant (no tenant
    transaction; needs an ``events.SLACK_EVENTS_ROLE`` connection)."""
    with conn.transaction():
        rows = conn.execute(
            "SELECT dd0c.disable_slack_workspace(%s, %s, %s, %s) AS tenant_id",
            [enterprise_id, team_id, status, bot_user_ids],
        ).fetchall()
    return [r["tenant_id"] for r in rows]


# --- the anomaly's message ---------------------------------------------------------------------
def slack_message_of(conn: Connection, anomaly_id: UUID) -> tuple[str | None, str | None]:
    row = conn.execute("SELECT slack_channel, slack_ts FROM dd0c.anomalies WHERE id = %s", [anomaly_id]).fetchone()
    return (row["slack_channel"], row["slack_ts"]) if row else (None, None)


def mark_notified(
    conn: Connection, anomaly_id: UUID, revision: int, channel: str | None, ts: str | None, *, again: bool = False
) -> bool:
    """Record a post; False if this revision was already posted (redelivered notify message).
    ``again``: an alert kept undelivered, posted now that the tenant has Slack or a route."""
    row = conn.execute(
        """UPDATE dd0c.anomalies SET notified_revision = %s, notify_withheld = NULL,
               slack_channel = COALESCE(%s, slack_channel), slack_ts = COALESCE(%s, slack_ts)
           WHERE id = %s AND (notified_revision < %s OR (%s AND delivery_status = 'undelivered')) RETURNING id""",
        [revision, channel, ts, anomaly_id, revision, again],
    ).fetchone()
    return row is not None


def undelivered_since(conn: Connection, since: datetime, limit: int) -> list[dict]:
    """Open anomalies kept undelivered, detected at or after ``since`` (event time), newest first:
    what to send again when the tenant installs Slack or changes its routes."""
    return conn.execute(
        """SELECT id, revision FROM dd0c.anomalies
           WHERE tenant_id = dd0c.current_tenant() AND delivery_status = 'undelivered' AND status = 'open'
             AND detected_at >= %s
           ORDER BY detected_at DESC, id LIMIT %s""",
        [since, limit],
    ).fetchall()


def is_undelivered(conn: Connection, anomaly_id: UUID) -> bool:
    row = conn.execute("SELECT delivery_status FROM dd0c.anomalies WHERE id = %s", [anomaly_id]).fetchone()
    return row is not None and row["delivery_status"] == "undelivered"


def notified_revision(conn: Connection, anomaly_id: UUID) -> int | None:
    row = conn.execute("SELECT notified_revision FROM dd0c.anomalies WHERE id = %s", [anomaly_id]).fetchone()
    return row["notified_revision"] if row else None


def newest_event_time(conn: Connection) -> datetime | None:
    """The event time of the newest event seen for the tenant (any of its accounts): a snooze
    runs from here, not from the wall clock."""
    row = conn.execute("SELECT max(last_event_at) AS t FROM dd0c.connected_accounts").fetchone()
    return row["t"] if row else None


# --- OAuth state -------------------------------------------------------------------------------
def state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


def insert_state(conn: Connection, tenant_id: UUID, state: str, *, by: str, expires_at: datetime) -> None:
    conn.execute(
        "INSERT INTO dd0c.slack_oauth_states (state_hash, tenant_id, created_by, expires_at) VALUES (%s, %s, %s, %s)",
        [state_hash(state), tenant_id, by, expires_at],
    )


def state_tenant(conn: Connection, state: str) -> UUID | None:
    """The tenant a live state belongs to, leaving it in place (no tenant transaction)."""
    with conn.transaction():
        row = conn.execute("SELECT dd0c.slack_oauth_state_tenant(%s) AS t", [state_hash(state)]).fetchone()
    return row["t"] if row else None


def consume_state(conn: Connection, state: str) -> UUID | None:
    """The tenant a live state belongs to; the state is gone afterwards (no tenant transaction)."""
    with conn.transaction():
        row = conn.execute("SELECT dd0c.consume_slack_oauth_state(%s) AS t", [state_hash(state)]).fetchone()
    return row["t"] if row else None


# --- routes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    kind: str  # account | service | severity | default
    value: str  # '' for default
    channel: str

    def as_json(self) -> dict:
        return {"kind": self.kind, "value": self.value or None, "channel": self.channel}


def list_routes(conn: Connection) -> list[Route]:
    rows = conn.execute(
        """SELECT match_kind, match_value, channel FROM dd0c.slack_routes WHERE tenant_id = dd0c.current_tenant()
           ORDER BY array_position(%s::text[], match_kind), match_value""",
        [list(ROUTE_KINDS)],
    ).fetchall()
    return [Route(r["match_kind"], r["match_value"], r["channel"]) for r in rows]


def set_route(conn: Connection, tenant_id: UUID, route: Route, *, by: str) -> None:
    conn.execute(
        """INSERT INTO dd0c.slack_routes (tenant_id, match_kind, match_value, channel, updated_by)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, match_kind, match_value)
           DO UPDATE SET channel = EXCLUDED.channel, updated_by = EXCLUDED.updated_by, updated_at = now()""",
        [tenant_id, route.kind, route.value, route.channel, by],
    )


def delete_route(conn: Connection, kind: str, value: str) -> bool:
    row = conn.execute(
        """DELETE FROM dd0c.slack_routes
           WHERE tenant_id = dd0c.current_tenant() AND match_kind = %s AND match_value = %s RETURNING channel""",
        [kind, value],
    ).fetchone()
    return row is not None


# --- delivery and names ------------------------------------------------------------------------
def set_delivery(conn: Connection, anomaly_id: UUID, status: str, detail: str | None) -> None:
    conn.execute(
        "UPDATE dd0c.anomalies SET delivery_status = %s, delivery_detail = %s WHERE id = %s",
        [status, detail, anomaly_id],
    )


def delivery_of(conn: Connection, anomaly_id: UUID) -> dict | None:
    row = conn.execute(
        "SELECT delivery_status, delivery_detail, slack_channel, slack_ts FROM dd0c.anomalies WHERE id = %s",
        [anomaly_id],
    ).fetchone()
    if row is None:
        return None
    return {
        "status": row["delivery_status"] or "pending",
        "detail": row["delivery_detail"],
        "channel": row["slack_channel"],
        "ts": row["slack_ts"],
    }


def explanation_of(conn: Connection, anomaly_id: UUID) -> dict | None:
    return conn.execute("SELECT status, text FROM dd0c.explanations WHERE anomaly_id = %s", [anomaly_id]).fetchone()


def save_explanation(
    conn: Connection, tenant_id: UUID, anomaly_id: UUID, status: str, text: str | None, model: str | None
) -> None:
    conn.execute(
        """INSERT INTO dd0c.explanations (anomaly_id, tenant_id, status, text, model) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (anomaly_id) DO UPDATE SET status = EXCLUDED.status, text = EXCLUDED.text,
               model = EXCLUDED.model, created_at = now()""",
        [anomaly_id, tenant_id, status, text, model],
    )


def account_name(conn: Connection, account_id: str) -> str | None:
    row = conn.execute(
        "SELECT display_name FROM dd0c.connected_accounts WHERE account_id = %s", [account_id]
    ).fetchone()
    return row["display_name"] if row else None


def set_account_name(conn: Connection, account_id: str, name: str | None) -> bool:
    row = conn.execute(
        "UPDATE dd0c.connected_accounts SET display_name = %s WHERE account_id = %s RETURNING account_id",
        [name, account_id],
    ).fetchone()
    return row is not None


def tenant_name(conn: Connection, tenant_id: UUID) -> str | None:
    row = conn.execute("SELECT name FROM dd0c.tenants WHERE id = %s", [tenant_id]).fetchone()
    return row["name"] if row else None


def claim_slack_request(conn: Connection, tenant_id: UUID, request_key: str, slack_timestamp: int) -> bool:
    """True the first time this signed request is seen for the tenant, False on a replay (same
    timestamp and signature). Rows past any timestamp Slack's 5-minute window accepts are pruned."""
    conn.execute("DELETE FROM dd0c.slack_requests WHERE seen_at < now() - interval '1 hour'")
    row = conn.execute(
        """INSERT INTO dd0c.slack_requests (tenant_id, request_key, slack_timestamp) VALUES (%s, %s, %s)
           ON CONFLICT DO NOTHING RETURNING request_key""",
        [tenant_id, request_key, slack_timestamp],
    ).fetchone()
    return row is not None


def release_slack_request(conn: Connection, request_key: str | None) -> None:
    """Forget a claimed request whose action failed (inside its tenant transaction)."""
    if request_key:
        conn.execute("DELETE FROM dd0c.slack_requests WHERE request_key = %s", [request_key])
