"""Where an anomaly's Slack message is, and which revision of it was posted (inside a tenant
transaction); the notify stage and the Slack actions read and write these, nothing else does."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import psycopg


def slack_message_of(conn: psycopg.Connection, anomaly_id: UUID) -> tuple[str | None, str | None]:
    row = conn.execute("SELECT slack_channel, slack_ts FROM dd0c.anomalies WHERE id = %s", [anomaly_id]).fetchone()
    return (row["slack_channel"], row["slack_ts"]) if row else (None, None)


def mark_notified(
    conn: psycopg.Connection, anomaly_id: UUID, revision: int, channel: str | None, ts: str | None
) -> bool:
    """Record a post; False if this revision was already posted (redelivered notify message)."""
    row = conn.execute(
        """UPDATE dd0c.anomalies SET notified_revision = %s, notify_withheld = NULL,
               slack_channel = COALESCE(%s, slack_channel), slack_ts = COALESCE(%s, slack_ts)
           WHERE id = %s AND notified_revision < %s RETURNING id""",
        [revision, channel, ts, anomaly_id, revision],
    ).fetchone()
    return row is not None


def notified_revision(conn: psycopg.Connection, anomaly_id: UUID) -> int | None:
    row = conn.execute("SELECT notified_revision FROM dd0c.anomalies WHERE id = %s", [anomaly_id]).fetchone()
    return row["notified_revision"] if row else None


def newest_event_time(conn: psycopg.Connection) -> datetime | None:
    """The event time of the newest event seen for the tenant (any of its accounts): a snooze
    runs from here, not from the wall clock."""
    row = conn.execute("SELECT max(last_event_at) AS t FROM dd0c.connected_accounts").fetchone()
    return row["t"] if row else None
