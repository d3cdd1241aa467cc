"""Operator actions on API keys (``dd0c-cost keys create|list|revoke``), on a dd0c_operator connection."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from dd0c_cost.auth import digest
from dd0c_cost.db.connection import Connection

API_KEY_PREFIX = "dd0c_"


def create_key(
    conn: Connection,
    tenant_id: UUID,
    *,
    scope: str = "write",
    name: str | None = None,
    expires_in_days: float | None = None,
) -> tuple[str, dict]:
    """A new key; only its hash is stored, so the secret is returned (and shown) once."""
    if scope not in ("read", "write"):
        raise ValueError("scope is read or write")
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO dd0c.api_keys (tenant_id, key_hash, key_prefix, scope, name, expires_at)
               VALUES (%s, %s, %s, %s, %s, %s)
               RETURNING id, key_prefix AS prefix, scope, name, created_at, expires_at""",
            [tenant_id, digest(secret), secret[:12], scope, name, expires],
        ).fetchone()
    return secret, dict(row)


def list_keys(conn: Connection, tenant_id: UUID) -> list[dict]:
    with conn.transaction():
        return conn.execute(
            """SELECT id, key_prefix AS prefix, scope, name, created_at, expires_at, last_used_at, revoked_at
               FROM dd0c.api_keys WHERE tenant_id = %s ORDER BY created_at, id""",
            [tenant_id],
        ).fetchall()


def revoke_key(conn: Connection, tenant_id: UUID, key: str) -> int:
    """Revoke by id or by prefix (``dd0c_AbCdEfG``); returns how many keys were revoked."""
    try:
        key_id = UUID(key)
    except ValueError:
        key_id = None
    with conn.transaction():
        rows = conn.execute(
            """UPDATE dd0c.api_keys SET revoked_at = now()
               WHERE tenant_id = %s AND revoked_at IS NULL AND (id = %s OR key_prefix = %s) RETURNING id""",
            [tenant_id, key_id, key],
        ).fetchall()
    return len(rows)
