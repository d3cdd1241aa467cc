"""SQL for remediation (inside the tenant's transaction): who may act, and the requests' states.

A request moves requested -> confirmed -> running -> succeeded | failed, or to refused / expired.
Each transition is one conditional UPDATE, so two confirmations of one dialog, or two workers on
one message, cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg.types.json import Jsonb

from dd0c_cost.db.connection import Connection

DIALOG_TTL_S = 15 * 60  # an unconfirmed dialog expires (wall time: it is about a person, now)


@dataclass(frozen=True)
class Settings:
    allowed_users: tuple[str, ...]
    allowed_groups: tuple[str, ...]


@dataclass(frozen=True)
class Remediation:
    id: UUID
    tenant_id: UUID
    subject_kind: str
    subject_id: str
    action: str
    account_id: str
    region: str
    resource_ids: list[str]
    params: dict
    status: str
    step: str | None
    requested_by: str
    confirmed_by: str | None
    requested_at: datetime
    hourly_usd_saved: float | None
    result: dict | None
    error: str | None
    slack_channel: str | None
    slack_ts: str | None

    def public(self) -> dict:
        return {
            "id": str(self.id),
            "action": self.action,
            "status": self.status,
            "step": self.step,
            "resource_ids": self.resource_ids,
            "requested_by": self.requested_by,
            "confirmed_by": self.confirmed_by,
            "error": self.error,
            "summary": (self.result or {}).get("summary"),
        }


_COLUMNS = """id, tenant_id, subject_kind, subject_id, action, account_id, region, resource_ids, params, status, step,
    requested_by, confirmed_by, requested_at, hourly_usd_saved, result, error, slack_channel, slack_ts"""


def _row(row: dict | None) -> Remediation | None:
    return Remediation(**row) if row else None


def settings(conn: Connection) -> Settings | None:
    row = conn.execute(
        """SELECT allowed_users, allowed_groups FROM dd0c.remediation_settings
           WHERE tenant_id = dd0c.current_tenant()"""
    ).fetchone()
    if row is None:
        return None
    return Settings(tuple(row["allowed_users"]), tuple(row["allowed_groups"]))


def set_settings(
    conn: Connection,
    tenant_id: UUID,
    *,
    allowed_users: list[str],
    allowed_groups: list[str],
    by: str,
) -> Settings:
    conn.execute(
        """INSERT INTO dd0c.remediation_settings (tenant_id, allowed_users, allowed_groups, updated_by)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (tenant_id) DO UPDATE SET
               allowed_users = EXCLUDED.allowed_users, allowed_groups = EXCLUDED.allowed_groups,
               updated_by = EXCLUDED.updated_by, updated_at = now()""",
        [tenant_id, allowed_users, allowed_groups, by],
    )
    found = settings(conn)
    assert found is not None
    return found


def disable(conn: Connection) -> bool:
    row = conn.execute(
        "DELETE FROM dd0c.remediation_settings WHERE tenant_id = dd0c.current_tenant() RETURNING tenant_id"
    ).fetchone()
    return row is not None


def open_request(
    conn: Connection,
    tenant_id: UUID,
    *,
    subject_kind: str,
    subject_id: str,
    action: str,
    account_id: str,
    region: str,
    resource_ids: list[str],
    params: dict,
    requested_by: str,
    slack_channel: str | None,
    slack_ts: str | None,
) -> tuple[Remediation, bool]:
    """(the open request for this subject and action, True if this call made it). An unconfirmed
    request older than the dialog's life expires first, so a new click starts afresh."""
    conn.execute(
        """UPDATE dd0c.remediations SET status = 'expired', finished_at = now()
           WHERE tenant_id = %s AND subject_kind = %s AND subject_id = %s AND action = %s AND status = 'requested'
             AND requested_at < now() - make_interval(secs => %s)""",
        [tenant_id, subject_kind, subject_id, action, DIALOG_TTL_S],
    )
    row = conn.execute(
        f"""INSERT INTO dd0c.remediations (tenant_id, subject_kind, subject_id, action, account_id, region, resource_ids,
                params, requested_by, slack_channel, slack_ts)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (tenant_id, subject_kind, subject_id, action)
                WHERE status IN ('requested', 'confirmed', 'running') DO NOTHING
            RETURNING {_COLUMNS}""",
        [
            tenant_id,
            subject_kind,
            subject_id,
            action,
            account_id,
            region,
            resource_ids,
            Jsonb(params),
            requested_by,
            slack_channel,
            slack_ts,
        ],
    ).fetchone()
    if row is not None:
        return Remediation(**row), True
    existing = conn.execute(
        f"""SELECT {_COLUMNS} FROM dd0c.remediations
            WHERE tenant_id = %s AND subject_kind = %s AND subject_id = %s AND action = %s
              AND status IN ('requested', 'confirmed', 'running')""",
        [tenant_id, subject_kind, subject_id, action],
    ).fetchone()
    return Remediation(**existing), False


def get(conn: Connection, remediation_id: UUID) -> Remediation | None:
    return _row(
        conn.execute(
            f"SELECT {_COLUMNS} FROM dd0c.remediations WHERE tenant_id = dd0c.current_tenant() AND id = %s",
            [remediation_id],
        ).fetchone()
    )


def for_subject(conn: Connection, subject_kind: str, subject_id: str) -> list[Remediation]:
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM dd0c.remediations
            WHERE tenant_id = dd0c.current_tenant() AND subject_kind = %s AND subject_id = %s
            ORDER BY requested_at, id""",
        [subject_kind, subject_id],
    ).fetchall()
    return [Remediation(**r) for r in rows]


def confirm(conn: Connection, remediation_id: UUID, *, by: str, params: dict) -> Remediation | None:
    """requested -> confirmed, once, within the dialog's life; None otherwise."""
    return _row(
        conn.execute(
            f"""UPDATE dd0c.remediations SET status = 'confirmed', confirmed_by = %s, confirmed_at = now(),
                    params = params || %s
                WHERE tenant_id = dd0c.current_tenant() AND id = %s AND status = 'requested'
                  AND requested_at >= now() - make_interval(secs => %s)
                RETURNING {_COLUMNS}""",
            [by, Jsonb(params), remediation_id, DIALOG_TTL_S],
        ).fetchone()
    )


def expire_if_stale(conn: Connection, remediation_id: UUID) -> bool:
    row = conn.execute(
        """UPDATE dd0c.remediations SET status = 'expired', finished_at = now()
           WHERE tenant_id = dd0c.current_tenant() AND id = %s AND status = 'requested'
             AND requested_at < now() - make_interval(secs => %s) RETURNING id""",
        [remediation_id, DIALOG_TTL_S],
    ).fetchone()
    return row is not None


def start(conn: Connection, remediation_id: UUID) -> Remediation | None:
    """confirmed|running -> running (locked for this transaction); None when there is nothing to run."""
    return _row(
        conn.execute(
            f"""UPDATE dd0c.remediations SET status = 'running', step = COALESCE(step, 'run')
                WHERE tenant_id = dd0c.current_tenant() AND id = %s AND status IN ('confirmed', 'running')
                RETURNING {_COLUMNS}""",
            [remediation_id],
        ).fetchone()
    )


def advance(conn: Connection, remediation_id: UUID, step: str, params: dict) -> None:
    conn.execute(
        """UPDATE dd0c.remediations SET step = %s, params = params || %s
           WHERE tenant_id = dd0c.current_tenant() AND id = %s AND status = 'running'""",
        [step, Jsonb(params), remediation_id],
    )


def finish(
    conn: Connection,
    remediation_id: UUID,
    status: str,
    *,
    result: dict | None = None,
    error: str | None = None,
    hourly_usd_saved: float | None = None,
) -> Remediation | None:
    return _row(
        conn.execute(
            f"""UPDATE dd0c.remediations SET status = %s, result = %s, error = %s, hourly_usd_saved = %s,
                    finished_at = now()
                WHERE tenant_id = dd0c.current_tenant() AND id = %s AND status IN ('requested', 'confirmed', 'running')
                RETURNING {_COLUMNS}""",
            [status, Jsonb(result) if result is not None else None, error, hourly_usd_saved, remediation_id],
        ).fetchone()
    )


__all__ = [
    "DIALOG_TTL_S",
    "Remediation",
    "Settings",
    "advance",
    "confirm",
    "disable",
    "expire_if_stale",
    "finish",
    "for_subject",
    "get",
    "open_request",
    "set_settings",
    "settings",
    "start",
]
