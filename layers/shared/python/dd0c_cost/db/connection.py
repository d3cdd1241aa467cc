"""Runtime database access: one lazily opened connection per process, every transaction scoped
to one tenant.

Each connection runs ``SET ROLE dd0c_app`` as soon as it opens, so whatever login the process
uses, its queries are subject to row-level security. ``tenant_transaction`` sets the tenant
with ``set_config(..., is_local => true)``, so the setting dies with the transaction and can
never leak into the next tenant's work on a warm Lambda.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row

from dd0c_cost.settings import Settings, get_settings

# Every runtime connection returns rows as dicts (``dict_row``); annotate with this.
Connection = psycopg.Connection[DictRow]

# One connection per thread and per database role the process uses, reused across warm
# invocations: a Lambda process has one thread; a threaded local server (the dashboard benchmark)
# gives each request thread its own.
_local = threading.local()
# A connection bound to the current thread/context (``bound_connection``): `dd0c-cost serve` binds
# its API connection around each (serialised) resolver call and its pipeline connection around
# each drain, so its pool of request threads does not open one connection each.
_bound: ContextVar[dict[str, Connection] | None] = ContextVar("dd0c_bound_connection", default=None)

# The runtime role plus the one cross-tenant door the normaliser needs (dd0c.tenant_for_account,
# migration 008). Only the normalize function's login is a member; the API's is not.
NORMALIZER_ROLE = "dd0c_normalizer"


def resolve_database_url(settings: Settings, *, admin: bool = False) -> str:
    """DATABASE_URL wins; in AWS the URL is built from a Secrets Manager secret (RDS JSON)."""
    if settings.database_url:
        return settings.database_url
    arn = settings.database_admin_secret_arn if admin else settings.database_secret_arn
    if not arn:
        raise RuntimeError(
            "no database configured: set DATABASE_URL, or DATABASE_SECRET_ARN in AWS "
            "(the dd0c-cost CLI starts an embedded PostgreSQL when neither is set)"
        )
    from aws_lambda_powertools.utilities.parameters import get_secret

    secret = json.loads(get_secret(arn, max_age=300))
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=secret["host"],
        port=secret.get("port", 5432),
        user=secret["username"],
        password=secret["password"],
        dbname=secret.get("dbname", "dd0c"),
        sslmode="require",
    )


def open_connection(url: str, app_role: str = "dd0c_app") -> Connection:
    conn = psycopg.connect(url, row_factory=dict_row, autocommit=False)
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(app_role)))
    conn.commit()
    return conn


def _thread_connections() -> dict[str, Connection]:
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    return connections


def get_connection(settings: Settings | None = None, *, role: str | None = None) -> Connection:
    """The thread's connection for ``role`` (default: settings.database_app_role), reused
    across warm invocations; reopened if it broke (or the connection bound to this context for
    that role, if any: ``bound_connection``)."""
    settings = settings or get_settings()
    role = role or settings.database_app_role
    bound = _bound.get()
    if bound is not None and role in bound:
        return bound[role]
    connections = _thread_connections()
    conn = connections.get(role)
    if conn is None or conn.closed or conn.broken:
        conn = connections[role] = open_connection(resolve_database_url(settings), role)
    return conn


@contextmanager
def bound_connection(conn: Connection, *, role: str | None = None) -> Iterator[Connection]:
    """Within the block, ``get_connection(role=role)`` in this thread returns ``conn`` (``role``
    defaults to the settings' application role, as in ``get_connection``)."""
    role = role or get_settings().database_app_role
    token = _bound.set({**(_bound.get() or {}), role: conn})
    try:
        yield conn
    finally:
        _bound.reset(token)


def close_connection() -> None:
    connections = _thread_connections()
    for conn in list(connections.values()):
        if not conn.closed:
            conn.close()
    connections.clear()


@contextmanager
def tenant_transaction(conn: Connection, tenant_id: UUID | str) -> Iterator[Connection]:
    """A transaction that can see and write only ``tenant_id``'s rows."""
    with conn.transaction():
        conn.execute("SELECT set_config('dd0c.tenant_id', %s, true)", [str(tenant_id)])
        yield conn


@contextmanager
def tenant_read(conn: Connection, tenant_id: UUID | str) -> Iterator[Connection]:
    """``tenant_transaction`` for reads, in one round trip: no BEGIN or COMMIT. The statements are
    pipelined, and the extended query protocol runs everything up to the pipeline's Sync (sent when the
    block ends) in one implicit transaction, which the tenant setting (``is_local``) lasts for. Inside,
    only execute and fetch: anything that syncs the pipeline (commit, a nested transaction, changing
    autocommit) ends that transaction, and what follows would see no tenant, so no rows (RLS)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("tenant_read needs an idle connection")
    autocommit = conn.autocommit
    conn.autocommit = True  # no BEGIN: the pipeline's implicit transaction instead
    try:
        with conn.pipeline():
            conn.execute("SELECT set_config('dd0c.tenant_id', %s, true)", [str(tenant_id)])
            yield conn
    finally:
        conn.autocommit = autocommit


def tenant_for_account(conn: Connection, account_id: str) -> UUID | None:
    """The tenant an approved account belongs to. Needs a ``NORMALIZER_ROLE`` connection."""
    with conn.transaction():
        row = conn.execute("SELECT dd0c.tenant_for_account(%s) AS t", [account_id]).fetchone()
    return row["t"] if row else None


def tenant_for_api_key(conn: Connection, key_hash: bytes) -> UUID | None:
    with conn.transaction():
        row = conn.execute("SELECT dd0c.tenant_for_api_key(%s) AS t", [key_hash]).fetchone()
    return row["t"] if row else None
