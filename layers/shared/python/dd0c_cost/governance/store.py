"""SQL of governance: the append-only audit log, what is in force at an event time, the tenant's
clock. Every function runs inside the caller's tenant transaction (``tenant_transaction``), so
row-level security scopes it; the global-panic writers run on an operator connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from dd0c_cost.db.connection import Connection
from dd0c_cost.governance.models import SOURCES, GovernanceState, Mode

# A change made before the tenant has any event applies to all of its history.
BEFORE_ANY_EVENT = datetime(1970, 1, 1, tzinfo=UTC)

MODE_ACTION = "governance.mode"
PANIC_ACTION = "governance.panic"
TENANT_SUBJECT = "tenant"
GLOBAL_SUBJECT = "global"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    tenant_id: UUID | None
    at: datetime
    recorded_at: datetime
    actor: str
    source: str
    action: str
    subject: str
    state: str | None
    reason: str
    detail: dict[str, Any]


_ENTRY_COLUMNS = "id, tenant_id, at, recorded_at, actor, source, action, subject, state, reason, detail"


def rule_subject(rule: str) -> str:
    if not rule or len(rule) > 200:
        raise ValueError("a rule name is 1 to 200 characters")
    return f"rule:{rule}"


def tenant_clock(conn: Connection) -> datetime | None:
    """The tenant's clock: event time of the newest record seen from any of its accounts."""
    row = conn.execute(
        "SELECT max(last_event_at) AS t FROM dd0c.connected_accounts WHERE tenant_id = dd0c.current_tenant()"
    ).fetchone()
    return row["t"] if row else None


def append(
    conn: Connection,
    tenant_id: UUID | None,
    action: str,
    *,
    actor: str,
    source: str,
    at: datetime | None = None,
    subject: str = TENANT_SUBJECT,
    state: str | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. ``at`` defaults to the tenant's clock (event time), so a change takes
    effect for everything decided from now on, in replays too."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    if at is None:
        at = (tenant_clock(conn) if tenant_id is not None else None) or (
            BEFORE_ANY_EVENT if tenant_id is not None else datetime.now(UTC)
        )
    row = conn.execute(
        f"""INSERT INTO dd0c.audit_log (tenant_id, at, actor, source, action, subject, state, reason, detail)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_ENTRY_COLUMNS}""",
        [tenant_id, at, (actor or "unknown")[:200], source, action, subject, state, reason[:2000], Jsonb(detail or {})],
    ).fetchone()
    return AuditEntry(**row)


def state_at(
    conn: Connection, tenant_id: UUID, at: datetime, *, rule: str | None = None, default_mode: Mode
) -> GovernanceState:
    """Mode and panic in force for the tenant (and rule) at event time ``at``: the newest entry at
    or before it. Global panic is an operator's emergency stop and holds from the moment it is
    set until lifted, whatever the event time."""
    row = conn.execute(
        """SELECT tm.state AS tenant_mode, tm.at AS tenant_mode_since, rm.state AS rule_mode,
                  coalesce(tp.state = 'on', false) AS tenant_panic, coalesce(gp.state = 'on', false) AS global_panic
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (SELECT state, at FROM dd0c.audit_log
                              WHERE tenant_id = %(t)s AND subject = 'tenant' AND action = 'governance.mode'
                                AND at <= %(at)s ORDER BY at DESC, id DESC LIMIT 1) tm ON true
           LEFT JOIN LATERAL (SELECT state FROM dd0c.audit_log
                              WHERE %(rule)s::text IS NOT NULL AND tenant_id = %(t)s AND subject = %(rule)s
                                AND action = 'governance.mode' AND at <= %(at)s
                              ORDER BY at DESC, id DESC LIMIT 1) rm ON true
           LEFT JOIN LATERAL (SELECT state FROM dd0c.audit_log
                              WHERE tenant_id = %(t)s AND subject = 'tenant' AND action = 'governance.panic'
                                AND at <= %(at)s ORDER BY at DESC, id DESC LIMIT 1) tp ON true
           LEFT JOIN LATERAL (SELECT state FROM dd0c.audit_log
                              WHERE tenant_id IS NULL AND subject = 'global' AND action = 'governance.panic'
                              ORDER BY at DESC, id DESC LIMIT 1) gp ON true""",
        {"t": tenant_id, "at": at, "rule": rule_subject(rule) if rule else None},
    ).fetchone()
    rule_mode = row["rule_mode"]
    return GovernanceState(
        at=at,
        tenant_mode=Mode(row["tenant_mode"]) if row["tenant_mode"] else default_mode,
        tenant_mode_since=row["tenant_mode_since"],
        rule=rule,
        rule_mode=Mode(rule_mode) if rule_mode and rule_mode != "inherit" else None,
        tenant_panic=row["tenant_panic"],
        global_panic=row["global_panic"],
    )


def global_panic(conn: Connection) -> bool:
    row = conn.execute(
        """SELECT state FROM dd0c.audit_log WHERE tenant_id IS NULL AND subject = 'global'
           AND action = 'governance.panic' ORDER BY at DESC, id DESC LIMIT 1"""
    ).fetchone()
    return bool(row and row["state"] == "on")


def rule_modes(conn: Connection, tenant_id: UUID, at: datetime) -> dict[str, Mode]:
    """Every rule with a mode of its own in force at ``at``."""
    rows = conn.execute(
        """SELECT DISTINCT ON (subject) subject, state FROM dd0c.audit_log
           WHERE tenant_id = %s AND action = 'governance.mode' AND subject LIKE 'rule:%%' AND at <= %s
           ORDER BY subject, at DESC, id DESC""",
        [tenant_id, at],
    ).fetchall()
    return {r["subject"][5:]: Mode(r["state"]) for r in rows if r["state"] != "inherit"}


def list_entries(
    conn: Connection,
    *,
    limit: int = 100,
    before_id: int | None = None,
    subject: str | None = None,
    action_prefix: str | None = None,
) -> list[AuditEntry]:
    """Newest first (the tenant's entries and the global ones), keyset-paginated by id."""
    clauses, params = ["(tenant_id = dd0c.current_tenant() OR tenant_id IS NULL)"], []
    if before_id is not None:
        clauses.append("id < %s")
        params.append(before_id)
    if subject is not None:
        clauses.append("subject = %s")
        params.append(subject)
    if action_prefix is not None:
        clauses.append("action LIKE %s")
        params.append(action_prefix.replace("%", r"\%").replace("_", r"\_") + "%")
    rows = conn.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM dd0c.audit_log WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT %s",
        [*params, limit],
    ).fetchall()
    return [AuditEntry(**r) for r in rows]


def mark_withheld(conn: Connection, anomaly_id: UUID, revision: int, why: str) -> bool:
    """A notification decided against: consumed (a redelivery or a sweep will not post it) and
    marked with why. False if that revision was already handled."""
    row = conn.execute(
        """UPDATE dd0c.anomalies SET notified_revision = %s, notify_withheld = %s
           WHERE id = %s AND notified_revision < %s RETURNING id""",
        [revision, why, anomaly_id, revision],
    ).fetchone()
    return row is not None
