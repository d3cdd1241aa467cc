"""``dd0c-cost keys`` and ``dd0c-cost governance`` as an operator runs them."""

from __future__ import annotations

import pytest

from dd0c_cost import auth, governance
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost_tools.cli import main


@pytest.fixture
def cli_env(app_env, db_url, operator_conn):
    operator.ensure_tenant(operator_conn, "acme")
    other = operator.ensure_tenant(operator_conn, "globex")
    operator.attach_accounts(operator_conn, other, {"222222222222"})
    with tenant_transaction(operator_conn, other):
        operator_conn.execute("UPDATE dd0c.connected_accounts SET last_event_at = '2030-01-01Z'")
    auth.CACHE.clear()
    return db_url


def test_keys_create_list_revoke(cli_env, capsys):
    assert (
        main(["keys", "create", "--tenant", "acme", "--scope", "read", "--name", "grafana", "--expires-in-days", "30"])
        == 0
    )
    secret = capsys.readouterr().out.strip()
    conn = open_connection(cli_env)
    assert auth.check_credentials(conn, {"authorization": f"Bearer {secret}"}).scope == "read"
    assert main(["keys", "list", "--tenant", "acme"]) == 0
    listing = capsys.readouterr().out
    assert "grafana" in listing and "read" in listing and "active" in listing and "last used" in listing
    assert main(["keys", "revoke", secret[:12], "--tenant", "acme"]) == 0
    auth.CACHE.clear()
    with pytest.raises(auth.AuthError):
        auth.check_credentials(conn, {"authorization": f"Bearer {secret}"})
    with pytest.raises(SystemExit):
        main(["keys", "revoke", secret[:12], "--tenant", "acme"])
    conn.close()


def test_governance_mode_panic_and_global(cli_env, capsys, operator_conn):
    assert main(["governance", "mode", "shadow", "--tenant", "acme", "--reason", "new customer"]) == 0
    assert "mode shadow" in capsys.readouterr().out
    assert main(["governance", "mode", "enforce", "--tenant", "acme", "--rule", "stop-gpu"]) == 0
    assert "rule stop-gpu: enforce" in capsys.readouterr().out
    assert main(["governance", "panic", "--tenant", "acme", "--reason", "drill"]) == 0
    assert "panic ON" in capsys.readouterr().out
    acme = operator.find_tenant(operator_conn, "acme")
    conn = open_connection(cli_env)
    with tenant_transaction(conn, acme):
        entries = governance.list_entries(conn)
        # another tenant's clock (2030) does not leak into acme's entries: acme has no events
        assert {e.at.year for e in entries} == {1970}
        assert [e.source for e in entries] == ["cli"] * 3 and entries[0].actor.startswith("operator:")
    assert main(["governance", "panic", "--global", "--reason", "incident"]) == 0
    with tenant_transaction(conn, acme):
        assert governance.may_notify(conn, acme, governance.decision_time(conn)).reason == "global_panic"
    assert main(["governance", "lift", "--global"]) == 0 and main(["governance", "lift", "--tenant", "acme"]) == 0
    with tenant_transaction(conn, acme):
        assert governance.may_notify(conn, acme, governance.decision_time(conn)).reason == "shadow"
    conn.close()
