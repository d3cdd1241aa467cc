"""SQL of the sizing path (every function runs inside a tenant transaction: RLS applies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from dd0c_cost.db.connection import Connection


@dataclass(frozen=True)
class Key:
    """Where one batched describe call goes: an account, a region, a resource type."""

    account_id: str
    region: str
    resource_type: str

    def args(self) -> list[str]:
        return [self.account_id, self.region, self.resource_type]


def _on(alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return f"{p}account_id = %s AND {p}region = %s AND {p}resource_type = %s"


_KEY = _on()


def request(conn: Connection, tenant_id: Any, key: Key, ids: list[str], event_id: str, record: dict) -> list[str]:
    """Record that ``event_id`` waits for these resources' sizes; return those still unanswered
    (new, or asked before and not answered yet). A resource refused before (denied, account not
    connected, a region this botocore does not know) is asked again: that may have changed since. Idempotent by natural key."""
    conn.execute(
        """INSERT INTO dd0c.resource_sizes (tenant_id, account_id, region, resource_type, resource_id)
            SELECT %s, %s, %s, %s, unnest(%s::text[])
            ON CONFLICT (tenant_id, account_id, region, resource_type, resource_id) DO UPDATE
               SET status = 'pending', next_try_at = NULL
             WHERE dd0c.resource_sizes.status IN ('denied', 'not_connected', 'unknown_region')""",
        [tenant_id, *key.args(), ids],
    )
    pending = [
        r["resource_id"]
        for r in conn.execute(
            f"SELECT resource_id FROM dd0c.resource_sizes WHERE {_KEY} AND resource_id = ANY(%s) AND status = 'pending'"
            " ORDER BY resource_id",
            [*key.args(), ids],
        ).fetchall()
    ]
    if pending:
        conn.execute(
            """INSERT INTO dd0c.sizing_waits (tenant_id, event_id, account_id, region, resource_type, resource_ids, record)
               VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, event_id) DO NOTHING""",
            [tenant_id, event_id, *key.args(), ids, Jsonb(record)],
        )
    return pending


def waiting_request(conn: Connection, event_id: str) -> tuple[Key, list[str]] | None:
    """For a redelivered ingest message: the event's resources still unanswered, if it waits."""
    row = conn.execute(
        "SELECT account_id, region, resource_type, resource_ids FROM dd0c.sizing_waits"
        " WHERE event_id = %s AND status = 'waiting'",
        [event_id],
    ).fetchone()
    if row is None:
        return None
    key = Key(row["account_id"], row["region"], row["resource_type"])
    pending = conn.execute(
        f"SELECT resource_id FROM dd0c.resource_sizes WHERE {_KEY} AND resource_id = ANY(%s) AND status = 'pending'"
        " ORDER BY resource_id",
        [*key.args(), row["resource_ids"]],
    ).fetchall()
    return (key, [r["resource_id"] for r in pending]) if pending else None


def pending_batch(conn: Connection, key: Key, first: list[str], limit: int) -> list[str]:
    """Up to ``limit`` unanswered resources of this account, region and type, the message's own
    first: one describe call answers every request waiting there."""
    rows = conn.execute(
        f"""SELECT resource_id FROM dd0c.resource_sizes WHERE {_KEY} AND status = 'pending'
            ORDER BY resource_id = ANY(%s) DESC, requested_at, resource_id LIMIT %s""",
        [*key.args(), first, limit],
    ).fetchall()
    return [r["resource_id"] for r in rows]


def mark(conn: Connection, key: Key, ids: list[str], status: str, error: str | None) -> None:
    """Denied or not connected: an answer of sorts (the waiting events stay priced on their shape)."""
    conn.execute(
        f"""UPDATE dd0c.resource_sizes SET status = %s, last_error = %s, attempts = attempts + 1,
                   answered_at = now(), next_try_at = NULL
             WHERE {_KEY} AND resource_id = ANY(%s) AND status = 'pending'""",
        [status, error, *key.args(), ids],
    )


def mark_throttled(conn: Connection, key: Key, ids: list[str], error: str, next_try_at: datetime) -> None:
    conn.execute(
        f"""UPDATE dd0c.resource_sizes SET attempts = attempts + 1, last_error = %s, next_try_at = %s
             WHERE {_KEY} AND resource_id = ANY(%s) AND status = 'pending'""",
        [error, next_try_at, *key.args(), ids],
    )


def record_answers(conn: Connection, key: Key, ids: list[str], found: dict[str, dict], api: str) -> None:
    """The call's answer for every id asked: sized (with its attributes) or not found."""
    sized = [rid for rid in ids if rid in found]
    if sized:
        conn.execute(
            f"""UPDATE dd0c.resource_sizes AS s SET status = 'sized', attributes = a.attributes, api = %s,
                       attempts = s.attempts + 1, last_error = NULL, next_try_at = NULL, answered_at = now()
                  FROM jsonb_each(%s::jsonb) AS a(resource_id, attributes)
                 WHERE {_on("s")} AND s.resource_id = a.resource_id""",
            [api, Jsonb({rid: found[rid] for rid in sized}), *key.args()],
        )
    missing = [rid for rid in ids if rid not in found]
    if missing:
        conn.execute(
            f"""UPDATE dd0c.resource_sizes SET status = 'not_found', api = %s, attempts = attempts + 1,
                       last_error = NULL, next_try_at = NULL, answered_at = now()
                 WHERE {_KEY} AND resource_id = ANY(%s)""",
            [api, *key.args(), missing],
        )


def ready_waits(conn: Connection, key: Key) -> list[dict[str, Any]]:
    """Events of this account, region and type none of whose resources is still unanswered (locked)."""
    return conn.execute(
        f"""SELECT w.event_id, w.record FROM dd0c.sizing_waits w
             WHERE {_on("w")}
               AND w.status = 'waiting'
               AND NOT EXISTS (SELECT 1 FROM dd0c.resource_sizes s
                                WHERE s.account_id = w.account_id AND s.region = w.region
                                  AND s.resource_type = w.resource_type AND s.resource_id = ANY(w.resource_ids)
                                  AND s.status = 'pending')
             ORDER BY w.event_id FOR UPDATE""",
        key.args(),
    ).fetchall()


def resolve(conn: Connection, event_id: str, sized_event_id: str | None) -> None:
    conn.execute(
        """UPDATE dd0c.sizing_waits SET status = %s, sized_event_id = %s, resolved_at = now()
            WHERE event_id = %s AND status = 'waiting'""",
        ["repriced" if sized_event_id else "unsized", sized_event_id, event_id],
    )


def unscored_sized_events(conn: Connection, key: Key, limit: int = 500) -> list[dict[str, Any]]:
    """Re-priced events never scored (a crash between commit and send, or sent and not yet
    scored): their payloads, to send (again: the scorer claims each once)."""
    return conn.execute(
        f"""SELECT c.payload FROM dd0c.sizing_waits w
              JOIN dd0c.cost_events c ON c.event_id = w.sized_event_id
             WHERE {_on("w")}
               AND w.status = 'repriced' AND c.scored_at IS NULL
             ORDER BY c.event_time, c.event_id LIMIT %s""",
        [*key.args(), limit],
    ).fetchall()


def cached_sizes(conn: Connection, key: Key, resource_ids: list[str]) -> dict[str, Any]:
    """The account's answer for any of these resources (the first sized one by id), or {}."""
    row = conn.execute(
        f"""SELECT attributes FROM dd0c.resource_sizes
            WHERE {_KEY} AND resource_id = ANY(%s) AND status = 'sized'
            ORDER BY resource_id LIMIT 1""",
        [*key.args(), resource_ids],
    ).fetchone()
    return dict(row["attributes"]) if row else {}
