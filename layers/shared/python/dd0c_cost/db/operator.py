"""Operator actions across tenants (CLI: tenants, accounts, keys). They run as dd0c_operator,
never as the runtime role."""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

import psycopg

from dd0c_cost.db.connection import open_connection

API_KEY_PREFIX = "dd0c_"


def open_operator_connection(url: str) -> psycopg.Connection:
    return open_connection(url, app_role="dd0c_operator")


def hash_api_key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def ensure_tenant(conn: psycopg.Connection, name: str) -> UUID:
    """The tenant called ``name``, created if new."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO dd0c.tenants (name) VALUES (%s) ON CONFLICT (name) DO NOTHING RETURNING id", [name]
        ).fetchone()
        if row is None:
            row = conn.execute("SELECT id FROM dd0c.tenants WHERE name = %s", [name]).fetchone()
    return row["id"]


def find_tenant(conn: psycopg.Connection, name: str) -> UUID | None:
    with conn.transaction():
        row = conn.execute("SELECT id FROM dd0c.tenants WHERE name = %s", [name]).fetchone()
    return row["id"] if row else None


def list_tenants(conn: psycopg.Connection) -> list[dict]:
    with conn.transaction():
        return conn.execute(
            """SELECT t.id, t.name, count(a.account_id) AS accounts
               FROM dd0c.tenants t LEFT JOIN dd0c.connected_accounts a ON a.tenant_id = t.id
               GROUP BY t.id, t.name ORDER BY t.name"""
        ).fetchall()


def attach_accounts(conn: psycopg.Connection, tenant_id: UUID, account_ids: set[str]) -> tuple[list[str], list[str]]:
    """Connect accounts to a tenant; return (newly attached, refused). An account already
    connected to another tenant is refused: one account, one tenant."""
    added: list[str] = []
    refused: list[str] = []
    with conn.transaction():
        for account_id in sorted(account_ids):
            row = conn.execute(
                """INSERT INTO dd0c.connected_accounts (account_id, tenant_id, external_id)
                   VALUES (%s, %s, %s) ON CONFLICT (account_id) DO NOTHING RETURNING account_id""",
                [account_id, tenant_id, secrets.token_urlsafe(24)],
            ).fetchone()
            if row:
                added.append(account_id)
                continue
            owner = conn.execute(
                "SELECT tenant_id FROM dd0c.connected_accounts WHERE account_id = %s", [account_id]
            ).fetchone()
            if owner["tenant_id"] != tenant_id:
                refused.append(account_id)
    return added, refused


def create_api_key(conn: psycopg.Connection, tenant_id: UUID) -> str:
    """A new API key for the tenant; only its hash is stored, so the secret is shown once."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute(
            "INSERT INTO dd0c.api_keys (tenant_id, key_hash, key_prefix) VALUES (%s, %s, %s)",
            [tenant_id, hash_api_key(secret), secret[:12]],
        )
    return secret


__all__ = [
    "attach_accounts",
    "create_api_key",
    "ensure_tenant",
    "find_tenant",
    "hash_api_key",
    "list_tenants",
    "open_operator_connection",
]
