"""Row-level security: the runtime role sees one tenant at a time and cannot switch it off."""

from __future__ import annotations

import psycopg
import pytest

from dd0c_cost.db import operator
from dd0c_cost.db.connection import (
    NORMALIZER_ROLE,
    open_connection,
    tenant_for_account,
    tenant_read,
    tenant_transaction,
)
from dd0c_cost.events.models import Actor, CostAction, CostEvent
from dd0c_cost.events.store import insert_cost_event

TABLES = ["tenants", "api_keys", "connected_accounts", "cost_events", "spend_baselines", "anomalies"]


def _event(tenant_id, account, event_id="e-1"):
    from datetime import UTC, datetime

    return CostEvent(
        tenant_id=tenant_id,
        account_id=account,
        region="us-east-1",
        event_id=event_id,
        event_time=datetime(2026, 11, 2, tzinfo=UTC),
        event_source="ec2.amazonaws.com",
        event_name="RunInstances",
        actor=Actor(display_name="alice"),
        service="ec2",
        resource_type="ec2:instance",
        resource_ids=["i-1"],
        action=CostAction.CREATE,
        quantity=1,
        estimated_usd_per_hour=0.096,
    )


@pytest.fixture
def two_tenants(db_url, operator_conn):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    operator.attach_accounts(operator_conn, a, {"111111111111"})
    operator.attach_accounts(operator_conn, b, {"222222222222"})
    operator.create_api_key(operator_conn, a)
    operator.create_api_key(operator_conn, b)
    conn = open_connection(db_url)
    for tenant, account in ((a, "111111111111"), (b, "222222222222")):
        with tenant_transaction(conn, tenant):
            insert_cost_event(conn, _event(tenant, account))
            conn.execute(
                "INSERT INTO dd0c.spend_baselines (tenant_id, series_key, n) VALUES (%s, %s, 1)",
                [tenant, f"{account}:ec2"],
            )
            conn.execute(
                """INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, event_ids, actor,
                   detected_at, score, severity, estimated_hourly_usd, summary)
                   VALUES (%s, %s, 'us-east-1', 'ec2', 'ec2:instance', '{e-1}', 'alice', now(), 0.9, 'high', 20, 's')""",
                [tenant, account],
            )
    yield a, b, conn
    conn.close()


def test_tenant_a_cannot_see_tenant_b_rows(two_tenants):
    a, _b, conn = two_tenants
    for table in TABLES:
        with tenant_transaction(conn, a):
            rows = conn.execute(f"SELECT * FROM dd0c.{table}").fetchall()
        assert rows, f"tenant A sees none of its own {table}"
        owners = {r.get("tenant_id", r.get("id")) for r in rows}
        assert owners == {a}, f"{table}: tenant A saw rows of {owners - {a}}"


def test_without_a_tenant_nothing_is_visible(two_tenants):
    _, _, conn = two_tenants
    for table in TABLES:
        with conn.transaction():
            assert conn.execute(f"SELECT count(*) AS n FROM dd0c.{table}").fetchone()["n"] == 0, table


def test_a_tenant_read_in_one_round_trip_sees_one_tenant_and_leaves_none_behind(two_tenants):
    """``tenant_read``: no BEGIN/COMMIT, the tenant set in the pipeline's implicit transaction. It sees its
    tenant's rows only, the setting ends with the block (the next statement sees no tenant), the connection
    is idle and back in its own autocommit mode afterwards, also after a failed statement."""
    a, b, conn = two_tenants
    for tenant in (a, b, a):
        for table in TABLES:
            with tenant_read(conn, tenant):
                rows = conn.execute(f"SELECT * FROM dd0c.{table}").fetchall()
            assert rows and {r.get("tenant_id", r.get("id")) for r in rows} == {tenant}, table
            assert conn.autocommit is False and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            with conn.transaction():  # what a next request on this connection would see without a tenant
                assert conn.execute("SELECT dd0c.current_tenant() AS t").fetchone()["t"] is None
                assert conn.execute(f"SELECT count(*) AS n FROM dd0c.{table}").fetchone()["n"] == 0, table
    with pytest.raises(psycopg.errors.DivisionByZero), tenant_read(conn, a):
        conn.execute("SELECT 1 / 0").fetchall()
    assert conn.autocommit is False and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with tenant_read(conn, b):
        assert {r["tenant_id"] for r in conn.execute("SELECT tenant_id FROM dd0c.anomalies").fetchall()} == {b}
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_read(conn, a):  # RLS refuses foreign writes
        conn.execute("UPDATE dd0c.anomalies SET tenant_id = %s", [b]).fetchall()
    with conn.transaction():
        conn.execute("SELECT set_config('dd0c.tenant_id', %s, true)", [str(a)])
        assert conn.execute("SELECT count(*) AS n FROM dd0c.anomalies").fetchone()["n"] == 1
    # inside another transaction it would not be one round trip
    with pytest.raises(RuntimeError, match="idle"), conn.transaction(), tenant_read(conn, a):
        pass


def test_a_tenants_rows_in_one_round_trip_are_its_own_and_leave_no_tenant_behind(two_tenants, db_url):
    """``db.one_trip.tenant_rows`` (the list's fast path: the tenant, the prepared statement and one Sync on the
    libpq handle): its tenant's rows only, with parameters bound as psycopg binds them; the next statement sees
    no tenant; the connection is idle afterwards, also after a failed statement; foreign writes are refused."""
    from dd0c_cost.db.one_trip import _prepared, tenant_rows

    a, b, conn = two_tenants
    for tenant in (a, b, a):  # prepared once, then reused
        for table in TABLES:
            rows = tenant_rows(conn, tenant, f"SELECT to_jsonb(t) ->> %s FROM dd0c.{table} t", ["id"])
            owner = "id" if table == "tenants" else "tenant_id"
            mine = tenant_rows(conn, tenant, f"SELECT {owner} FROM dd0c.{table} WHERE {owner} = %s", [tenant])
            assert rows and len(rows) == len(mine) and {r[0] for r in mine} == {tenant}, table
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            with conn.transaction():  # what a next request on this connection would see without a tenant
                assert conn.execute("SELECT dd0c.current_tenant() AS t").fetchone()["t"] is None
                assert conn.execute(f"SELECT count(*) AS n FROM dd0c.{table}").fetchone()["n"] == 0, table
    assert len(_prepared[conn]) == 2 * len(TABLES) + 1  # and the tenant's set_config, prepared once too
    with conn.transaction():
        kinds = conn.execute(
            "SELECT count(*) FILTER (WHERE statement LIKE '%%set_config%%') AS tenant, count(*) AS n"
            " FROM pg_prepared_statements WHERE name LIKE 'dd0c_%%'"
        ).fetchone()
    assert (kinds["tenant"], kinds["n"]) == (1, 2 * len(TABLES) + 1)
    _prepared[conn].clear()  # prepared, though it does not know: prepared statements outlive what forgot them
    assert tenant_rows(conn, b, "SELECT tenant_id FROM dd0c.anomalies WHERE tenant_id = %s", [b]) == [(b,)]
    for _ in range(2):  # prepared by the first call even though it failed: the second reuses it
        with pytest.raises(psycopg.errors.DivisionByZero):
            tenant_rows(conn, a, "SELECT 1 / %s", [0])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE and not conn.closed
    assert tenant_rows(conn, a, "SELECT 1 / %s", [1]) == [(1,)]
    assert tenant_rows(conn, b, "SELECT tenant_id FROM dd0c.anomalies", []) == [(b,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # RLS refuses foreign writes
        tenant_rows(conn, a, "UPDATE dd0c.anomalies SET tenant_id = %s RETURNING id", [b])
    conn.execute("DEALLOCATE ALL")  # a statement prepared before is gone: prepared again
    conn.commit()
    assert tenant_rows(conn, b, "SELECT tenant_id FROM dd0c.anomalies", []) == [(b,)]
    with pytest.raises(RuntimeError, match="idle"), conn.transaction():
        tenant_rows(conn, a, "SELECT 1", [])
    with psycopg.connect(db_url, autocommit=True) as admin:  # the server goes away: a dependency failure
        admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
    with pytest.raises(psycopg.OperationalError):
        tenant_rows(conn, a, "SELECT 1", [])
    assert conn.closed or conn.broken  # get_connection opens a new one


def test_writing_another_tenants_row_is_refused(two_tenants):
    a, b, conn = two_tenants
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_transaction(conn, a):
        insert_cost_event(conn, _event(b, "222222222222", "e-2"))
    with tenant_transaction(conn, a):
        # An UPDATE aimed at B's anomaly silently matches nothing.
        changed = conn.execute(
            "UPDATE dd0c.anomalies SET status = 'acknowledged' WHERE tenant_id = %s RETURNING id", [b]
        ).fetchall()
    assert changed == []


def test_runtime_role_cannot_bypass_or_disable_rls(two_tenants, db_url):
    _, _, conn = two_tenants
    with conn.transaction():
        role = conn.execute(
            "SELECT current_user AS u, rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert role == {"u": "dd0c_app", "rolbypassrls": False, "rolsuper": False}
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("SET LOCAL row_security = off")
        conn.execute("SELECT * FROM dd0c.cost_events").fetchall()
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("ALTER TABLE dd0c.cost_events DISABLE ROW LEVEL SECURITY")


def test_runtime_login_cannot_reach_the_operator_role(db_url):
    """In AWS the functions log in as a role that is a member of dd0c_app only (as here)."""
    import uuid

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from dd0c_cost.db.migrate import ensure_app_login

    login = f"app_login_{uuid.uuid4().hex[:8]}"
    ensure_app_login(db_url, login, "not-used-with-trust-auth")
    params = conninfo_to_dict(db_url)
    params["user"] = login
    conn = open_connection(make_conninfo(**params))
    try:
        for attempt in ("SET ROLE dd0c_operator", "SET ROLE postgres"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(attempt)
        with conn.transaction():
            conn.execute("RESET ROLE")  # back to the login itself, which is no better off
            assert conn.execute("SELECT count(*) AS n FROM dd0c.cost_events").fetchone()["n"] == 0
    finally:
        conn.close()
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{login}"')
            admin.execute(f'DROP ROLE "{login}"')


def test_account_lookup_reveals_only_a_tenant_id(two_tenants, db_url):
    a, b, _ = two_tenants
    conn = open_connection(db_url, NORMALIZER_ROLE)  # the normaliser's door only (migration 008)
    try:
        assert tenant_for_account(conn, "111111111111") == a
        assert tenant_for_account(conn, "222222222222") == b
        assert tenant_for_account(conn, "333333333333") is None
    finally:
        conn.close()


def test_every_tenant_table_has_forced_rls(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'dd0c' AND c.relkind = 'r'"""
        ).fetchall()
    assert {r[0] for r in rows} >= set(TABLES)
    assert all(r[1] and r[2] for r in rows), [r for r in rows if not (r[1] and r[2])]
