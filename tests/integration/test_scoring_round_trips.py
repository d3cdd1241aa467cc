"""The scorer drives its two round trips on libpq directly (db.one_trip.round_trip: statements and
one Sync, not psycopg's execute): a statement that fails is raised as psycopg would raise it and leaves the connection
usable, and a server that goes away is a dependency failure (``OperationalError`` or
``AdminShutdown``, as the bulk path and the handlers expect), never a scored event."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors
from psycopg.pq import TransactionStatus

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.db.one_trip import Statement, round_trip
from dd0c_cost.events.models import Actor, CostAction, CostEvent, PriceQuote
from dd0c_cost.events.store import insert_cost_event
from dd0c_cost.scoring.scorer import score_cost_events

ACCOUNT = "111122223333"


def _event(tenant_id, k: int) -> CostEvent:
    return CostEvent(
        tenant_id=tenant_id,
        account_id=ACCOUNT,
        region="us-east-1",
        event_id=f"ev-{k}",
        event_time=datetime(2026, 5, 4, 9, k, tzinfo=UTC),
        event_source="ec2.amazonaws.com",
        event_name="RunInstances",
        actor=Actor(display_name="ana", principal_arn=f"arn:aws:iam::{ACCOUNT}:user/ana"),
        service="ec2",
        resource_type="ec2:instance",
        resource_ids=[f"i-{k:017x}"],
        action=CostAction.CREATE,
        quantity=1.0,
        attributes={"instance_type": "m5.large"},
        unit_price=PriceQuote(usd_per_hour=0.096, source="test", as_of="2026-01-01"),
        estimated_usd_per_hour=0.096,
    )


def _setup(url: str):
    op = operator.open_operator_connection(url)
    tenant = operator.ensure_tenant(op, "round-trips")
    operator.attach_accounts(op, tenant, {ACCOUNT})
    op.close()
    conn = open_connection(url)
    events = [_event(tenant, k) for k in range(3)]
    with tenant_transaction(conn, tenant):
        for e in events:
            insert_cost_event(conn, e)
    return conn, tenant, events


def test_a_failing_statement_is_raised_as_psycopg_raises_it_and_the_connection_stays_usable(db_url):
    conn, tenant, events = _setup(db_url)
    conn.autocommit = True
    # scoring_load refuses a tenant the transaction did not set (migration 008)
    with pytest.raises(errors.InsufficientPrivilege, match="not the tenant this transaction set"):
        round_trip(
            conn,
            [Statement(b"BEGIN"), Statement(b"SELECT dd0c.scoring_load($1::uuid, '{}'::json)", [str(tenant).encode()])],
        )
    assert conn.info.transaction_status == TransactionStatus.INERROR
    conn.execute("ROLLBACK")
    conn.autocommit = False
    results = score_cost_events(conn, events)
    assert [r.outcome for r in results] == ["scored"] * 3
    assert conn.info.transaction_status == TransactionStatus.IDLE
    assert [r.outcome for r in score_cost_events(conn, events)] == ["already_scored"] * 3
    conn.close()


def test_a_server_that_goes_away_fails_the_events_as_a_dependency_failure(db_url):
    conn, _tenant, events = _setup(db_url)
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
    results = score_cost_events(conn, events)
    assert {r.outcome for r in results} == {"error"}
    # the first event meets the lost connection (a dependency failure, by name, as the bulk path
    # counts it); the later ones of its series are held back behind it
    assert type(results[0].error).__name__ in {"OperationalError", "AdminShutdown"}
    assert isinstance(results[0].error, psycopg.OperationalError)
    assert all("held back" in str(r.error) for r in results[1:])
    assert conn.broken
    with psycopg.connect(db_url) as admin:  # nothing was scored
        assert admin.execute("SELECT count(*) FROM dd0c.cost_events WHERE scored_at IS NOT NULL").fetchone()[0] == 0
