"""Scoped, expiring, revocable API keys and console sessions (the checks the authorizer runs)."""

from __future__ import annotations

import pytest

from dd0c_cost import auth
from dd0c_cost.auth import keys
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection


@pytest.fixture
def setup(db_url, operator_conn):
    tenant = operator.ensure_tenant(operator_conn, "tenant-a")
    conn = open_connection(db_url)
    auth.CACHE.clear()
    yield tenant, conn
    conn.close()


def test_keys_are_scoped_record_use_and_can_be_revoked(setup, operator_conn):
    tenant, conn = setup
    read, made = keys.create_key(operator_conn, tenant, scope="read", name="grafana")
    write, _ = keys.create_key(operator_conn, tenant)
    principal = auth.check_credentials(conn, {"Authorization": f"Bearer {read}"})
    assert (principal.tenant_id, principal.scope, principal.via) == (tenant, "read", "key")
    with pytest.raises(auth.AuthError) as refused:
        auth.require_write(principal, {})
    assert (refused.value.status, refused.value.error) == (403, "read_only_key")
    auth.require_write(auth.check_credentials(conn, {"x-api-key": write}), {})
    listed = {k["prefix"]: k for k in keys.list_keys(operator_conn, tenant)}
    assert listed[made["prefix"]]["last_used_at"] is not None and listed[made["prefix"]]["name"] == "grafana"
    assert keys.revoke_key(operator_conn, tenant, made["prefix"]) == 1
    with pytest.raises(auth.AuthError, match="revoked"):
        auth.check_credentials(conn, {"Authorization": f"Bearer {read}"})


def test_expired_keys_are_refused(setup, operator_conn):
    tenant, conn = setup
    secret, made = keys.create_key(operator_conn, tenant, expires_in_days=1)
    with operator_conn.transaction():
        operator_conn.execute(
            "UPDATE dd0c.api_keys SET expires_at = now() - interval '1 second' WHERE id = %s", [made["id"]]
        )
    with pytest.raises(auth.AuthError) as refused:
        auth.check_credentials(conn, {"Authorization": f"Bearer {secret}"})
    assert refused.value.error == "invalid_api_key"
    with pytest.raises(auth.AuthError):
        auth.open_session(conn, secret)


def test_sessions_need_the_csrf_token_for_writes_and_die_with_their_key(setup, operator_conn):
    tenant, conn = setup
    secret, made = keys.create_key(operator_conn, tenant)
    session = auth.open_session(conn, secret)
    cookie = str(auth.session_cookie(session.secret, max_age=3600, secure=True))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    principal = auth.check_credentials(conn, {"cookie": f"other=1; dd0c_session={session.secret}"})
    assert (principal.tenant_id, principal.via) == (tenant, "session")
    with pytest.raises(auth.AuthError, match="CSRF"):
        auth.require_write(principal, {})
    with pytest.raises(auth.AuthError, match="CSRF"):
        auth.require_write(principal, {"x-csrf-token": "guess"})
    auth.require_write(principal, {"X-CSRF-Token": session.csrf_token})
    keys.revoke_key(operator_conn, tenant, str(made["id"]))
    with pytest.raises(auth.AuthError) as refused:
        auth.check_credentials(conn, {"cookie": f"dd0c_session={session.secret}"})
    assert refused.value.error == "invalid_session"


def test_the_cache_answers_without_the_database_until_it_expires(setup, operator_conn):
    tenant, conn = setup
    secret, made = keys.create_key(operator_conn, tenant)
    headers = {"Authorization": f"Bearer {secret}"}
    assert auth.check_credentials(conn, headers, use_cache=True).tenant_id == tenant
    keys.revoke_key(operator_conn, tenant, made["prefix"])
    assert auth.check_credentials(conn, headers, use_cache=True).tenant_id == tenant  # cached
    auth.CACHE.clear()  # (what CACHE_TTL_S seconds do)
    with pytest.raises(auth.AuthError):
        auth.check_credentials(conn, headers, use_cache=True)
