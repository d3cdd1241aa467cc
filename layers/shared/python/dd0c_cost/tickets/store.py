"""SQL for tickets (inside the tenant's transaction). One row per subject: the natural key that
makes a second click, a double submission or a redelivered queue message land on the same ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dd0c_cost.db.connection import Connection


@dataclass(frozen=True)
class Ticket:
    id: UUID
    tenant_id: UUID
    subject_kind: str
    subject_id: str
    target_name: str
    target_kind: str
    project: str | None
    title: str
    body: str
    status: str  # queued | created | failed
    attempts: int
    last_error: str | None
    external_key: str | None
    external_url: str | None
    requested_by: str
    slack_channel: str | None
    slack_ts: str | None
    updated_at: datetime

    def public(self) -> dict:
        return {
            "id": str(self.id),
            "status": self.status,
            "target": self.target_name,
            "kind": self.target_kind,
            "project": self.project,
            "key": self.external_key,
            "url": self.external_url,
            "error": self.last_error,
            "attempts": self.attempts,
        }


_COLUMNS = """id, tenant_id, subject_kind, subject_id, target_name, target_kind, project, title, body, status,
    attempts, last_error, external_key, external_url, requested_by, slack_channel, slack_ts, updated_at"""


def _ticket(row: dict | None) -> Ticket | None:
    return Ticket(**row) if row else None


def ticket_for(conn: Connection, subject_kind: str, subject_id: str) -> Ticket | None:
    row = conn.execute(
        f"""SELECT {_COLUMNS} FROM dd0c.tickets
            WHERE tenant_id = dd0c.current_tenant() AND subject_kind = %s AND subject_id = %s""",
        [subject_kind, subject_id],
    ).fetchone()
    return _ticket(row)


def get_ticket(conn: Connection, ticket_id: UUID) -> Ticket | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM dd0c.tickets WHERE tenant_id = dd0c.current_tenant() AND id = %s", [ticket_id]
    ).fetchone()
    return _ticket(row)


def request_ticket(
    conn: Connection,
    tenant_id: UUID,
    *,
    subject_kind: str,
    subject_id: str,
    target_name: str,
    target_kind: str,
    project: str | None,
    title: str,
    body: str,
    requested_by: str,
    slack_channel: str | None,
    slack_ts: str | None,
) -> tuple[Ticket, bool]:
    """(the subject's ticket, True if this call queued it). A subject with a queued or created
    ticket keeps it; a failed one is queued again with the new details."""
    row = conn.execute(
        f"""INSERT INTO dd0c.tickets AS t (tenant_id, subject_kind, subject_id, target_name, target_kind, project, title,
                body, requested_by, slack_channel, slack_ts)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (tenant_id, subject_kind, subject_id) DO UPDATE SET
                target_name = EXCLUDED.target_name, target_kind = EXCLUDED.target_kind, project = EXCLUDED.project,
                title = EXCLUDED.title, body = EXCLUDED.body, requested_by = EXCLUDED.requested_by,
                slack_channel = COALESCE(EXCLUDED.slack_channel, t.slack_channel),
                slack_ts = COALESCE(EXCLUDED.slack_ts, t.slack_ts),
                status = 'queued', attempts = 0, last_error = NULL, updated_at = now()
            WHERE t.status = 'failed'
            RETURNING {_COLUMNS}""",
        [
            tenant_id,
            subject_kind,
            subject_id,
            target_name,
            target_kind,
            project,
            title,
            body,
            requested_by,
            slack_channel,
            slack_ts,
        ],
    ).fetchone()
    if row is not None:
        return Ticket(**row), True
    existing = ticket_for(conn, subject_kind, subject_id)
    assert existing is not None
    return existing, False


def start_attempt(conn: Connection, ticket_id: UUID) -> Ticket | None:
    """Count an attempt and lock the row; None unless the ticket is still to be created."""
    row = conn.execute(
        f"""UPDATE dd0c.tickets SET attempts = attempts + 1, updated_at = now()
            WHERE tenant_id = dd0c.current_tenant() AND id = %s AND status IN ('queued', 'failed')
            RETURNING {_COLUMNS}""",
        [ticket_id],
    ).fetchone()
    return _ticket(row)


def mark_created(conn: Connection, ticket_id: UUID, key: str, url: str | None) -> Ticket | None:
    row = conn.execute(
        f"""UPDATE dd0c.tickets SET status = 'created', external_key = %s, external_url = %s, last_error = NULL,
                updated_at = now()
            WHERE tenant_id = dd0c.current_tenant() AND id = %s RETURNING {_COLUMNS}""",
        [key, url, ticket_id],
    ).fetchone()
    return _ticket(row)


def mark_failed_attempt(conn: Connection, ticket_id: UUID, error: str, *, failed: bool) -> Ticket | None:
    """Record the target's refusal; ``failed``: the ticket is now shown as failed (a human must act)."""
    row = conn.execute(
        f"""UPDATE dd0c.tickets SET last_error = %s, status = CASE WHEN %s THEN 'failed' ELSE status END,
                updated_at = now()
            WHERE tenant_id = dd0c.current_tenant() AND id = %s AND status <> 'created' RETURNING {_COLUMNS}""",
        [error[:1000], failed, ticket_id],
    ).fetchone()
    return _ticket(row)


__all__ = [
    "Ticket",
    "get_ticket",
    "mark_created",
    "mark_failed_attempt",
    "request_ticket",
    "start_attempt",
    "ticket_for",
]
