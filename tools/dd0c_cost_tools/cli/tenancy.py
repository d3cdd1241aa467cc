"""Finding the tenant a command names, and the database the CLI uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from dd0c_cost_tools.cli.errors import CliError


def database_url() -> str:
    from dd0c_cost_tools.local.database import database_url_for_cli

    return database_url_for_cli()


def require_tenant(conn, name: str) -> UUID:
    """The tenant's id; a one-line error naming the command that creates it if there is none."""
    from dd0c_cost.db import operator

    tenant_id = operator.find_tenant(conn, name)
    if tenant_id is None:
        known = [row["name"] for row in operator.list_tenants(conn)]
        hint = f"known: {', '.join(known)}; " if known else ""
        raise CliError(f"no tenant named {name!r}", f"{hint}create it with: dd0c-cost tenants create {name}")
    return tenant_id


@contextmanager
def operator_connection(url: str | None = None) -> Iterator:
    from dd0c_cost.db import operator

    conn = operator.open_operator_connection(url or database_url())
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def tenant_connection(tenant: str, url: str | None = None) -> Iterator:
    """A runtime connection (row-level security on) inside the named tenant's transaction."""
    from dd0c_cost.db.connection import open_connection, tenant_transaction

    url = url or database_url()
    with operator_connection(url) as op:
        tenant_id = require_tenant(op, tenant)
    conn = open_connection(url)
    try:
        with tenant_transaction(conn, tenant_id):
            yield conn
    finally:
        conn.close()
