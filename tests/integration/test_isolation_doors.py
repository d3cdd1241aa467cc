"""Isolation in depth (migrations 008 and 019): every door a runtime session could use to reach another
tenant, tried as the application role.

Reproduces issue 7: any dd0c_app session could turn an account id into its tenant id;
scoring_load/scoring_save read and wrote another tenant's baselines given its id, with no tenant
setting at all; a tenant could insert a scoring_feedback row pointing at another tenant's anomaly
(and then the victim's own feedback failed); a WITH CHECK made always true went unnoticed."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dd0c_cost.db import operator
from dd0c_cost.db.connection import NORMALIZER_ROLE, open_connection, tenant_for_account, tenant_transaction
from dd0c_cost.db.migrate import ensure_app_login
from dd0c_cost.topology import DATABASE_ROLES

A_ACCOUNT, B_ACCOUNT = "111111111111", "222222222222"
EMPTY_LOAD = json.dumps({"series": ["x:ec2:instance"], "events": [], "accounts": [], "types": [], "novelty": {}})
SAVE = json.dumps(
    {
        "series": [
            {"k": "x:ec2:instance", "n": 99, "mean": 1, "m2": 0, "w": 1, "level": 1, "first": 0, "last": 0, "state": {}}
        ],
        "tenant": {"n": 99, "mean": 1, "m2": 0, "w": 1, "level": 1, "first": 0, "last": 0, "state": {}},
        "novelty": [],
        "events": [],
    }
)
_ANOMALY = """INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, event_ids, actor,
                  detected_at, score, severity, estimated_hourly_usd, summary)
              VALUES (%s, %s, 'us-east-1', 'ec2', 'ec2:instance', '{e-1}', 'alice', now(), 0.9, 'high', 20, 's')"""


@pytest.fixture
def two_tenants(db_url, operator_conn):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    operator.attach_accounts(operator_conn, a, {A_ACCOUNT})
    operator.attach_accounts(operator_conn, b, {B_ACCOUNT})
    conn = open_connection(db_url)
    anomalies = {}
    for tenant, account in ((a, A_ACCOUNT), (b, B_ACCOUNT)):
        with tenant_transaction(conn, tenant):
            conn.execute(_ANOMALY, [tenant, account])
            anomalies[tenant] = conn.execute("SELECT id FROM dd0c.anomalies").fetchone()["id"]
            conn.execute(
                "INSERT INTO dd0c.spend_baselines (tenant_id, series_key, n) VALUES (%s, 'x:ec2:instance', 1)", [tenant]
            )
    yield a, b, conn, anomalies
    conn.close()


def _refused(conn, tenant, statement, params=()):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        if tenant is None:
            with conn.transaction():
                conn.execute(statement, params)
        else:
            with tenant_transaction(conn, tenant):
                conn.execute(statement, params)


def _login(db_url, role):
    name = f"login_{uuid.uuid4().hex[:8]}"
    ensure_app_login(db_url, name, "trust-auth-ignores-it", role=role)
    params = conninfo_to_dict(db_url)
    params["user"] = name
    return name, make_conninfo(**params)


def _drop_login(db_url, name):
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(f'DROP OWNED BY "{name}"')
        admin.execute(f'DROP ROLE "{name}"')


# --- account -> tenant: the normaliser's door, not the API's ---------------------------------


def test_the_application_role_cannot_resolve_accounts_to_tenants(two_tenants, db_url):
    a, b, conn, _ = two_tenants
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        tenant_for_account(conn, B_ACCOUNT)
    normaliser = open_connection(db_url, NORMALIZER_ROLE)
    try:
        assert tenant_for_account(normaliser, A_ACCOUNT) == a
        assert tenant_for_account(normaliser, B_ACCOUNT) == b
    finally:
        normaliser.close()


def test_an_api_login_cannot_become_the_normaliser_but_the_normaliser_login_can_resolve(db_url, two_tenants):
    a, _, _, _ = two_tenants
    api_name, api_url = _login(db_url, "dd0c_app")
    norm_name, norm_url = _login(db_url, NORMALIZER_ROLE)
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            open_connection(api_url, NORMALIZER_ROLE)
        api = open_connection(api_url)
        try:
            _refused(api, None, "SELECT dd0c.tenant_for_account(%s)", [A_ACCOUNT])
        finally:
            api.close()
        normaliser = open_connection(norm_url, NORMALIZER_ROLE)
        try:
            assert tenant_for_account(normaliser, A_ACCOUNT) == a
        finally:
            normaliser.close()
    finally:
        _drop_login(db_url, api_name)
        _drop_login(db_url, norm_name)


# --- every cross-tenant door belongs to one role, whose only member is one function's login ----

# How each role's door is called (topology.DATABASE_ROLES names the door).
DOOR_CALLS = {
    "dd0c.tenant_for_account": ("SELECT dd0c.tenant_for_account(%s)", [A_ACCOUNT]),
    "dd0c.unsent_alerts": ("SELECT * FROM dd0c.unsent_alerts(10)", []),
    "dd0c.zombie_scan_targets": ("SELECT * FROM dd0c.zombie_scan_targets()", []),
    "dd0c.usage_poll_targets": ("SELECT * FROM dd0c.usage_poll_targets()", []),
    "dd0c.all_tenant_ids": ("SELECT * FROM dd0c.all_tenant_ids()", []),
    "dd0c.disable_slack_workspace": ("SELECT dd0c.disable_slack_workspace(NULL, 'T-NOBODY', 'uninstalled', NULL)", []),
}


@pytest.mark.parametrize("spec", DATABASE_ROLES, ids=lambda spec: spec.role)
def test_each_cross_tenant_door_opens_for_its_role_only(spec, two_tenants, db_url):
    _, _, conn, _ = two_tenants
    statement, params = DOOR_CALLS[spec.door]
    _refused(conn, None, statement, params)  # the application role
    own = open_connection(db_url, spec.role)
    try:
        with own.transaction():
            own.execute(statement, params)
    finally:
        own.close()


@pytest.mark.parametrize("spec", DATABASE_ROLES, ids=lambda spec: spec.role)
def test_each_role_adds_exactly_its_one_door_to_the_application_role(spec, db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT 'dd0c.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'dd0c' AND p.prosecdef
                 AND has_function_privilege(%s, p.oid, 'EXECUTE')
                 AND NOT has_function_privilege('dd0c_app', p.oid, 'EXECUTE')""",
            [spec.role],
        ).fetchall()
    assert [r[0] for r in rows] == [spec.door]


def test_the_application_login_cannot_become_any_other_runtime_role(db_url):
    api_name, api_url = _login(db_url, "dd0c_app")
    try:
        for spec in DATABASE_ROLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                open_connection(api_url, spec.role)
    finally:
        _drop_login(db_url, api_name)


def test_the_sweeper_sees_ids_and_revisions_of_every_tenant(two_tenants, db_url):
    a, b, _, _ = two_tenants
    sweeper = open_connection(db_url, "dd0c_sweeper")
    try:
        with sweeper.transaction():
            rows = sweeper.execute("SELECT * FROM dd0c.unsent_alerts(10)").fetchall()
    finally:
        sweeper.close()
    assert sorted(r["tenant_id"] for r in rows) == sorted([a, b])
    assert set(rows[0]) == {"tenant_id", "anomaly_id", "revision"}


def test_an_explanation_cannot_point_at_another_tenants_anomaly(two_tenants):
    a, b, conn, anomalies = two_tenants
    with pytest.raises(psycopg.errors.ForeignKeyViolation), tenant_transaction(conn, a):
        conn.execute(
            "INSERT INTO dd0c.explanations (anomaly_id, tenant_id, status) VALUES (%s, %s, 'ok')", [anomalies[b], a]
        )
    with tenant_transaction(conn, a):
        conn.execute(
            "INSERT INTO dd0c.explanations (anomaly_id, tenant_id, status) VALUES (%s, %s, 'ok')", [anomalies[a], a]
        )


# --- the scorer's functions act for the transaction's tenant only ------------------------------


# (the call, its arguments after the tenant): scoring_save with the states apart is migration 032's
SCORING_CALLS = {
    "scoring_load": ("SELECT dd0c.scoring_load(%s::uuid, %s::json)", [EMPTY_LOAD]),
    "scoring_save": ("SELECT dd0c.scoring_save(%s::uuid, %s::jsonb)", [SAVE]),
    "scoring_save, states apart": (
        "SELECT dd0c.scoring_save(%s::uuid, %s::jsonb, %s::text[], %s::text)",
        [SAVE.replace('"state": {}', '"i": 1'), ["{}"], "{}"],
    ),
}


@pytest.mark.parametrize("function", list(SCORING_CALLS))
def test_scoring_functions_refuse_another_tenant_and_no_tenant(two_tenants, function):
    a, b, conn, _ = two_tenants
    call, arguments = SCORING_CALLS[function]
    _refused(conn, None, call, [str(b), *arguments])  # no tenant set at all
    _refused(conn, a, call, [str(b), *arguments])  # another tenant's id
    with tenant_transaction(conn, b):
        assert conn.execute("SELECT n FROM dd0c.spend_baselines").fetchone()["n"] == 1  # B untouched
    with tenant_transaction(conn, a):
        conn.execute(call, [str(a), *arguments])  # its own tenant: allowed
        if function != "scoring_load":
            assert conn.execute("SELECT n FROM dd0c.spend_baselines").fetchone()["n"] == 99


# --- foreign keys carry tenant_id ------------------------------------------------------------


def test_feedback_cannot_point_at_another_tenants_anomaly(two_tenants):
    from dd0c_cost.scoring.feedback import record_feedback

    a, b, conn, anomalies = two_tenants
    with pytest.raises(psycopg.errors.ForeignKeyViolation), tenant_transaction(conn, a):
        conn.execute(
            """INSERT INTO dd0c.scoring_feedback (anomaly_id, tenant_id, status, account_id, resource_type, actor_key,
                   region, hourly_usd, event_time, created_by)
               VALUES (%s, %s, 'expected', %s, 'ec2:instance', 'alice', 'us-east-1', 1, now(), 'mallory')""",
            [anomalies[b], a, A_ACCOUNT],
        )
    with tenant_transaction(conn, b):  # the victim's own feedback still works
        assert record_feedback(conn, anomalies[b], "expected", "bob") is not None
        assert conn.execute("SELECT created_by FROM dd0c.scoring_feedback").fetchone()["created_by"] == "bob"


# Foreign keys between tenant tables without tenant_id, each with why no tenant can abuse it (to fix
# in the owning migration: the rule is that they carry tenant_id).
KNOWN_SINGLE_COLUMN_KEYS: dict[str, str] = {}  # migration 019 gave the last three tenant_id


def test_foreign_keys_between_tenant_tables_include_tenant_id(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT c.conname, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
                      ARRAY(SELECT a.attname FROM unnest(c.conkey) k JOIN pg_attribute a
                            ON a.attrelid = c.conrelid AND a.attnum = k) AS cols
               FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
               WHERE n.nspname = 'dd0c' AND c.contype = 'f' AND c.confrelid <> 'dd0c.tenants'::regclass
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.confrelid AND a.attname = 'tenant_id')"""
        ).fetchall()
    assert rows, "expected foreign keys between tenant tables (scoring_feedback -> anomalies at least)"
    missing = [(name, child, parent) for name, child, parent, cols in rows if "tenant_id" not in cols]
    assert [m for m in missing if m[0] not in KNOWN_SINGLE_COLUMN_KEYS] == []


# --- WITH CHECK: no row written or moved into another tenant ---------------------------------


def test_a_plain_insert_into_another_tenant_is_refused(two_tenants):
    a, b, conn, _ = two_tenants
    _refused(conn, a, "INSERT INTO dd0c.spend_baselines (tenant_id, series_key) VALUES (%s, 'planted')", [b])
    _refused(conn, a, _ANOMALY, [b, B_ACCOUNT])


def test_moving_a_row_to_another_tenant_is_refused(two_tenants):
    a, b, conn, _ = two_tenants
    _refused(conn, a, "UPDATE dd0c.anomalies SET tenant_id = %s", [b])
    _refused(conn, a, "UPDATE dd0c.spend_baselines SET tenant_id = %s", [b])
    with tenant_transaction(conn, b):
        assert conn.execute("SELECT count(*) AS n FROM dd0c.anomalies").fetchone()["n"] == 1


def test_every_tenant_policy_checks_writes_as_it_filters_reads(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT tablename, qual, with_check FROM pg_policies WHERE schemaname = 'dd0c' AND policyname = 'tenant_isolation'"
        ).fetchall()
    assert len(rows) >= 10
    assert [r for r in rows if r[2] != r[1]] == []


# --- no function picks its own tenant; cross-tenant functions are few and known ---------------


def test_no_function_sets_the_tenant_itself(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'dd0c' AND p.prosrc ILIKE '%set_config%dd0c.tenant_id%'"""
        ).fetchall()
    assert rows == []


# SECURITY DEFINER functions the application role may call, and why each reveals no other tenant.
KNOWN_DOORS = {
    "tenant_for_api_key": "needs the API key's secret (its hash); returns one tenant id",
    "request_account": "acts for dd0c.current_tenant() only; refuses an account another tenant holds",
    "authenticate_api_key": "needs the API key's secret (its hash); returns that key's tenant and scope",
    "open_console_session": "needs the API key's secret; opens a session for that key's own tenant",
    "authenticate_console_session": "needs the session token's secret (its hash); returns its tenant",
    "end_console_session": "needs the session token's secret (its hash); ends that session only",
    "slack_oauth_state_tenant": "needs the OAuth state's secret (its hash); returns one tenant id",
    "consume_slack_oauth_state": "needs the OAuth state's secret (its hash); returns one tenant id",
}


def test_the_application_roles_cross_tenant_functions_are_known(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'dd0c' AND p.prosecdef AND has_function_privilege('dd0c_app', p.oid, 'EXECUTE')"""
        ).fetchall()
    assert {r[0] for r in rows} <= set(KNOWN_DOORS), "a new SECURITY DEFINER door for dd0c_app"
