"""Operator actions across tenants (CLI: tenants, accounts, keys). They run as dd0c_operator,
never as the runtime role."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

from dd0c_cost.db.connection import Connection, open_connection

API_KEY_PREFIX = "dd0c_"


def open_operator_connection(url: str) -> Connection:
    return open_connection(url, app_role="dd0c_operator")


def hash_api_key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def ensure_tenant(conn: Connection, name: str) -> UUID:
    """The tenant called ``name``, created if new."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO dd0c.tenants (name) VALUES (%s) ON CONFLICT (name) DO NOTHING RETURNING id", [name]
        ).fetchone()
        if row is None:
            row = conn.execute("SELECT id FROM dd0c.tenants WHERE name = %s", [name]).fetchone()
    return row["id"]


def find_tenant(conn: Connection, name: str) -> UUID | None:
    with conn.transaction():
        row = conn.execute("SELECT id FROM dd0c.tenants WHERE name = %s", [name]).fetchone()
    return row["id"] if row else None


def list_tenants(conn: Connection) -> list[dict]:
    with conn.transaction():
        return conn.execute(
            """SELECT t.id, t.name, count(a.account_id) AS accounts
               FROM dd0c.tenants t LEFT JOIN dd0c.connected_accounts a ON a.tenant_id = t.id
               GROUP BY t.id, t.name ORDER BY t.name"""
        ).fetchall()


def attach_accounts(conn: Connection, tenant_id: UUID, account_ids: set[str]) -> tuple[list[str], list[str]]:
    """Connect accounts to a tenant (``connect_account`` for each); return (newly attached,
    refused). An account already connected to another tenant is refused: one account, one tenant."""
    added: list[str] = []
    refused: list[str] = []
    for account_id in sorted(account_ids):
        try:
            if connect_account(conn, tenant_id, account_id).created:
                added.append(account_id)
        except AccountOwnedByAnotherTenant:
            refused.append(account_id)
    return added, refused


def account_owners(conn: Connection, account_ids: list[str]) -> dict[str, str]:
    """account id -> name of the tenant it is connected to (operator view, every tenant)."""
    if not account_ids:
        return {}
    with conn.transaction():
        rows = conn.execute(
            """SELECT ca.account_id, t.name FROM dd0c.connected_accounts ca JOIN dd0c.tenants t ON t.id = ca.tenant_id
               WHERE ca.account_id = ANY(%s)""",
            [list(account_ids)],
        ).fetchall()
    return {row["account_id"]: row["name"] for row in rows}


def list_accounts(conn: Connection, tenant_name: str | None = None) -> list[dict]:
    """Connected and requested accounts, with their tenant (operator view)."""
    with conn.transaction():
        return conn.execute(
            """SELECT ca.account_id, t.name AS tenant, ca.regions, ca.last_event_at, ca.approved_at, ca.requested_via
                 FROM dd0c.connected_accounts ca JOIN dd0c.tenants t ON t.id = ca.tenant_id
                WHERE %(tenant)s::text IS NULL OR t.name = %(tenant)s
                ORDER BY t.name, ca.account_id""",
            {"tenant": tenant_name},
        ).fetchall()


def new_external_id() -> str:
    """The sts:ExternalId dd0c presents when it assumes a customer's role: 32 URL-safe characters
    (within IAM's ExternalId alphabet ``[\\w+=,.@:/-]``)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class AccountConnection:
    account_id: str
    tenant_id: UUID
    external_id: str
    regions: tuple[str, ...]
    created: bool  # False: the account was already connected to this tenant


class AccountOwnedByAnotherTenant(ValueError):
    """One account, one tenant: the account is already connected elsewhere."""


def connect_account(
    conn: Connection, tenant_id: UUID, account_id: str, regions: list[str] | tuple[str, ...] = ()
) -> AccountConnection:
    """Connect one account to a tenant, or update the existing connection: the regions are added
    to those already recorded (order kept) and the existing external id is returned unchanged
    (the customer's role trusts it). An operator connecting also approves a tenant's pending API
    request for the account. Raises AccountOwnedByAnotherTenant if another tenant has it."""
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO dd0c.connected_accounts (account_id, tenant_id, external_id, regions)
               VALUES (%s, %s, %s, %s) ON CONFLICT (account_id) DO NOTHING
               RETURNING account_id, tenant_id, external_id, regions""",
            [account_id, tenant_id, new_external_id(), list(dict.fromkeys(regions))],
        ).fetchone()
        if row is not None:
            return AccountConnection(account_id, tenant_id, row["external_id"], tuple(row["regions"]), created=True)
        existing = conn.execute(
            "SELECT tenant_id, external_id, regions FROM dd0c.connected_accounts WHERE account_id = %s FOR UPDATE",
            [account_id],
        ).fetchone()
        if existing["tenant_id"] != tenant_id:
            raise AccountOwnedByAnotherTenant(f"account {account_id} is already connected to another tenant")
        merged = list(dict.fromkeys([*existing["regions"], *regions]))
        row = conn.execute(
            """UPDATE dd0c.connected_accounts
               SET regions = %s, external_id = COALESCE(external_id, %s), approved_at = COALESCE(approved_at, now())
               WHERE account_id = %s RETURNING external_id, regions""",
            [merged, new_external_id(), account_id],
        ).fetchone()
    return AccountConnection(account_id, tenant_id, row["external_id"], tuple(row["regions"]), created=False)


def create_api_key(conn: Connection, tenant_id: UUID) -> str:
    """A new API key for the tenant; only its hash is stored, so the secret is shown once."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute(
            "INSERT INTO dd0c.api_keys (tenant_id, key_hash, key_prefix) VALUES (%s, %s, %s)",
            [tenant_id, hash_api_key(secret), secret[:12]],
        )
    return secret


__all__ = [
    "AccountConnection",
    "AccountOwnedByAnotherTenant",
    "attach_accounts",
    "connect_account",
    "create_api_key",
    "ensure_tenant",
    "find_tenant",
    "hash_api_key",
    "list_tenants",
    "new_external_id",
    "open_operator_connection",
]
