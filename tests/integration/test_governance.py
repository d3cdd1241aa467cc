"""Governance core: modes and panic in event time, the append-only audit log (as the runtime and
the owner roles), and the notify stage obeying both — including a notification already queued."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dd0c_cost import governance
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.models import NotifyMessage
from dd0c_cost.governance import Mode

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(db_url, operator_conn):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    operator.attach_accounts(operator_conn, a, {"111111111111"})
    operator.attach_accounts(operator_conn, b, {"222222222222"})
    conn = open_connection(db_url)
    yield a, b, conn
    conn.close()


def _advance_clock(conn, tenant, account, when):
    with tenant_transaction(conn, tenant):
        conn.execute("UPDATE dd0c.connected_accounts SET last_event_at = %s WHERE account_id = %s", [when, account])


def _anomaly(conn, tenant, account, detected_at, *, actor="alice") -> uuid.UUID:
    with tenant_transaction(conn, tenant):
        row = conn.execute(
            """INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, event_ids, actor,
               detected_at, score, severity, estimated_hourly_usd, summary)
               VALUES (%s, %s, 'us-east-1', 'ec2', 'ec2:instance', '{e-1}', %s, %s, 0.9, 'high', 20, 'GPU launch')
               RETURNING id""",
            [tenant, account, actor, detected_at],
        ).fetchone()
        conn.execute(
            "UPDATE dd0c.connected_accounts SET last_event_at = GREATEST(last_event_at, %s) WHERE account_id = %s",
            [detected_at, account],
        )
    return row["id"]


def test_modes_are_read_in_event_time(world):
    a, _, conn = world
    with tenant_transaction(conn, a):
        assert governance.state_at(conn, a, T0).mode is Mode.AUDIT  # the default; never set
        governance.set_mode(conn, a, "shadow", actor="ops", source="cli", reason="start quietly", at=T0)
        governance.set_mode(
            conn, a, Mode.ENFORCE, actor="ops", source="cli", reason="trusted", at=T0 + timedelta(days=3)
        )
        assert governance.state_at(conn, a, T0 - timedelta(seconds=1)).mode is Mode.AUDIT
        assert governance.state_at(conn, a, T0).mode is Mode.SHADOW  # at or after the entry
        assert governance.state_at(conn, a, T0 + timedelta(days=2)).tenant_mode_since == T0
        assert governance.state_at(conn, a, T0 + timedelta(days=3)).mode is Mode.ENFORCE
        assert not governance.may_notify(conn, a, T0 + timedelta(days=1))
        assert governance.may_notify(conn, a, T0 + timedelta(days=4))
        # setting the mode already in force writes nothing
        assert (
            governance.set_mode(
                conn, a, "enforce", actor="ops", source="cli", reason="again", at=T0 + timedelta(days=5)
            )
            is None
        )


def test_rule_mode_overrides_the_tenants_and_automatic_actions_need_an_explicit_rule(world):
    a, _, conn = world
    with tenant_transaction(conn, a):
        governance.set_mode(conn, a, "enforce", actor="ops", source="cli", reason="r", at=T0)
        at = T0 + timedelta(hours=1)
        assert governance.may_remediate(conn, a, at)  # a person clicked; tenant in enforce
        assert governance.may_remediate(conn, a, at, rule="stop-idle-gpu", automatic=True).reason == "not_explicit"
        governance.set_mode(conn, a, "enforce", actor="ops", source="cli", reason="r", rule="stop-idle-gpu", at=T0)
        assert governance.may_remediate(conn, a, at, rule="stop-idle-gpu", automatic=True)
        governance.set_mode(conn, a, "shadow", actor="ops", source="cli", reason="r", rule="noisy", at=T0)
        assert governance.may_notify(conn, a, at, rule="noisy").reason == "shadow"
        assert governance.may_notify(conn, a, at)  # other rules and the tenant still notify
        governance.set_mode(conn, a, "audit", actor="ops", source="cli", reason="r", at=T0 + timedelta(minutes=30))
        assert governance.may_remediate(conn, a, at).reason == "audit"
        governance.set_mode(conn, a, None, actor="ops", source="cli", reason="inherit", rule="noisy", at=at)
        assert governance.may_notify(conn, a, at, rule="noisy")


def test_panic_refuses_notify_and_remediate_from_the_tenant_clock_on_and_is_audited(world):
    a, b, conn = world
    _advance_clock(conn, a, "111111111111", T0)
    with tenant_transaction(conn, a):
        governance.set_mode(conn, a, "enforce", actor="ops", source="cli", reason="r", at=T0 - timedelta(days=1))
        entry = governance.set_panic(conn, a, True, actor="carol", source="console", reason="bill spike")
        assert entry.at == T0 and entry.state == "on"
        assert governance.set_panic(conn, a, True, actor="carol", source="console", reason="again") is None
        decided = governance.decision_time(conn, T0 - timedelta(hours=2))  # an older anomaly, decided now
        assert governance.may_notify(conn, a, decided).reason == "panic"
        assert governance.may_remediate(conn, a, decided).reason == "panic"
        assert governance.may_notify(conn, a, T0 - timedelta(seconds=1))  # before the panic, in event time
    with tenant_transaction(conn, b):
        assert governance.may_notify(conn, b, T0)  # another tenant is unaffected
    with tenant_transaction(conn, a):
        governance.set_panic(conn, a, False, actor="carol", source="api", reason="understood")
        assert governance.may_remediate(conn, a, governance.decision_time(conn))
        actions = [(e.action, e.state, e.actor) for e in governance.list_entries(conn)]
    assert actions[:2] == [("governance.panic", "off", "carol"), ("governance.panic", "on", "carol")]


def test_global_panic_is_operator_only_and_stops_every_tenant(world, operator_conn):
    a, b, conn = world
    with tenant_transaction(conn, a), pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            """INSERT INTO dd0c.audit_log (tenant_id, at, actor, source, action, subject, state)
               VALUES (NULL, now(), 'x', 'api', 'governance.panic', 'global', 'on')"""
        )
    governance.set_global_panic(operator_conn, True, actor="oncall", reason="runaway notifier")
    for tenant in (a, b):
        with tenant_transaction(conn, tenant):
            assert governance.may_notify(conn, tenant, T0).reason == "global_panic"
            # every tenant sees why its channel went quiet
            assert [e.subject for e in governance.list_entries(conn)] == ["global"]
    governance.set_global_panic(operator_conn, False, actor="oncall", reason="fixed")
    with tenant_transaction(conn, a):
        assert governance.may_notify(conn, a, T0)


def test_audit_log_is_append_only_for_the_app_and_the_owner(world, db_url):
    a, b, conn = world
    with tenant_transaction(conn, a):
        governance.audit(conn, a, "settings.changed", actor="alice", source="api", reason="r")
    with tenant_transaction(conn, b):
        governance.audit(conn, b, "settings.changed", actor="bob", source="api", reason="r")
    for statement in (
        "UPDATE dd0c.audit_log SET reason = 'rewritten'",
        "DELETE FROM dd0c.audit_log",
        "TRUNCATE dd0c.audit_log",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_transaction(conn, a):
            conn.execute(statement)
    # the owner (the migrating login; a superuser here, which privileges cannot stop): the trigger does
    with psycopg.connect(db_url, autocommit=True) as owner:
        for statement in (
            "UPDATE dd0c.audit_log SET reason = 'rewritten'",
            "DELETE FROM dd0c.audit_log",
            "TRUNCATE dd0c.audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                owner.execute(statement)
        assert owner.execute("SELECT count(*) FROM dd0c.audit_log WHERE reason = 'r'").fetchone()[0] == 2
        privileges = owner.execute(
            """SELECT has_table_privilege(current_user, 'dd0c.audit_log', 'UPDATE') OR
                      has_table_privilege(current_user, 'dd0c.audit_log', 'DELETE')"""
        ).fetchone()[0]
        rolsuper = owner.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        assert rolsuper or not privileges
        # and as granted: the runtime and operator roles may only read and append
        for role in ("dd0c_app", "dd0c_operator"):
            for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
                assert not owner.execute(
                    "SELECT has_table_privilege(%s, 'dd0c.audit_log', %s)", [role, privilege]
                ).fetchone()[0]
    # RLS: a tenant sees and writes only its own entries
    with tenant_transaction(conn, a):
        assert {e.actor for e in governance.list_entries(conn)} == {"alice"}
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_transaction(conn, a):
        governance.audit(conn, b, "settings.changed", actor="mallory", source="api", reason="forged")


def test_notify_stage_in_shadow_records_and_tells_no_one(world, app_env):
    from dd0c_cost import pipeline

    a, _, conn = world
    with tenant_transaction(conn, a):
        governance.set_mode(conn, a, "shadow", actor="ops", source="cli", reason="watch first")
    anomaly_id = _anomaly(conn, a, "111111111111", T0)
    body = NotifyMessage(tenant_id=a, anomaly_id=anomaly_id, revision=1).model_dump_json()
    pipeline.notify_body(body)
    pipeline.notify_body(body)  # redelivered: still nothing, recorded once
    assert not (app_env / "slack-outbox.jsonl").exists()
    with tenant_transaction(conn, a):
        row = conn.execute(
            "SELECT notify_withheld, notified_revision FROM dd0c.anomalies WHERE id = %s", [anomaly_id]
        ).fetchone()
        trail = governance.list_entries(conn, subject=f"anomaly:{anomaly_id}")
    assert (row["notify_withheld"], row["notified_revision"]) == ("shadow", 1)
    assert [(e.action, e.state) for e in trail] == [("notify.withheld", "shadow")]
    # audit mode from a later event time: the next anomaly is posted
    with tenant_transaction(conn, a):
        governance.set_mode(conn, a, "audit", actor="ops", source="cli", reason="promote", at=T0 + timedelta(days=14))
    later = _anomaly(conn, a, "111111111111", T0 + timedelta(days=15))
    pipeline.notify_body(NotifyMessage(tenant_id=a, anomaly_id=later, revision=1).model_dump_json())
    posted = [json.loads(line)["anomaly_id"] for line in (app_env / "slack-outbox.jsonl").read_text().splitlines()]
    assert posted == [str(later)]


def test_panic_halts_a_notification_already_queued(world, local_pipeline, app_env):
    from dd0c_cost import queues
    from dd0c_cost.topology import NOTIFY

    a, _, conn = world
    queued = _anomaly(conn, a, "111111111111", T0, actor="<img src=x onerror=alert(1)>")
    message = NotifyMessage(tenant_id=a, anomaly_id=queued, revision=1)
    queues.send(NOTIFY, message.model_dump_json(), group=str(a), deduplication=queues.dedup_id(queued, 1))
    with tenant_transaction(conn, a):  # pressed after the message was queued
        governance.set_panic(conn, a, True, actor="carol", source="console", reason="stop everything")
    local_pipeline.drain()
    assert not (app_env / "slack-outbox.jsonl").exists()
    with tenant_transaction(conn, a):
        withheld = conn.execute("SELECT notify_withheld FROM dd0c.anomalies WHERE id = %s", [queued]).fetchone()
        governance.set_panic(conn, a, False, actor="carol", source="console", reason="ok")
    assert withheld["notify_withheld"] == "panic"
    # lifted: a new anomaly is posted; the halted one stays halted (it is in the console)
    fresh = _anomaly(conn, a, "111111111111", T0 + timedelta(minutes=5))
    queues.send(
        NOTIFY,
        NotifyMessage(tenant_id=a, anomaly_id=fresh, revision=1).model_dump_json(),
        group=str(a),
        deduplication=queues.dedup_id(fresh, 1),
    )
    local_pipeline.drain()
    posted = [json.loads(line)["anomaly_id"] for line in (app_env / "slack-outbox.jsonl").read_text().splitlines()]
    assert posted == [str(fresh)]


def _reviewed(conn, tenant, account, start, statuses):
    """One anomaly a day from ``start``, each given the status at the same index."""
    ids = []
    for day, status in enumerate(statuses):
        anomaly_id = _anomaly(conn, tenant, account, start + timedelta(days=day))
        with tenant_transaction(conn, tenant):
            conn.execute("UPDATE dd0c.anomalies SET status = %s WHERE id = %s", [status, anomaly_id])
        ids.append(anomaly_id)
    return ids


def test_auto_promotion_needs_14_days_enough_reviews_and_few_false_positives(world):
    a, b, conn = world
    with tenant_transaction(conn, a):
        governance.set_mode(conn, a, "shadow", actor="ops", source="cli", reason="new tenant", at=T0)
    _reviewed(conn, a, "111111111111", T0 + timedelta(hours=1), ["acknowledged"] * 10 + ["false_positive", "open"])
    with tenant_transaction(conn, a):
        assert governance.evaluate(conn, a, T0 + timedelta(days=13, hours=23)) is None  # too early
        entry = governance.evaluate(conn, a, T0 + timedelta(days=14))
        assert (entry.state, entry.source, entry.detail["from"]) == ("audit", "system", "shadow")
        assert "1 false positive(s) of 11 reviewed" in entry.reason and "14.0 days in shadow" in entry.reason
        assert governance.state_at(conn, a, T0 + timedelta(days=14)).mode is Mode.AUDIT
        assert governance.state_at(conn, a, T0 + timedelta(days=13)).mode is Mode.SHADOW  # history stays
        # the 14 days start again in audit, and this tenant caps automatic promotion at audit
        governance.save_policy(conn, a, by="ops", promote_max_mode="audit")
        assert governance.evaluate(conn, a, T0 + timedelta(days=40)) is None
    # too few reviews, or too many false positives: no promotion
    _reviewed(conn, b, "222222222222", T0, ["acknowledged"] * 9 + ["open"] * 5)
    with tenant_transaction(conn, b):
        governance.set_mode(conn, b, "shadow", actor="ops", source="cli", reason="r", at=T0)
        assert governance.evaluate(conn, b, T0 + timedelta(days=20)) is None
        governance.save_policy(conn, b, by="ops", min_reviewed=5, fp_rate_ceiling=0.0)
        conn.execute(
            "UPDATE dd0c.anomalies SET status = 'false_positive' WHERE id = "
            "(SELECT id FROM dd0c.anomalies WHERE status = 'acknowledged' LIMIT 1)"
        )
        assert governance.evaluate(conn, b, T0 + timedelta(days=20)) is None
        governance.save_policy(conn, b, by="ops", fp_rate_ceiling=0.2)
        assert governance.evaluate(conn, b, T0 + timedelta(days=20)).state == "audit"


def test_a_spike_of_false_positives_demotes_at_once_through_the_status_change(world):
    from dd0c_cost.scoring.feedback import record_feedback

    a, _, conn = world
    with tenant_transaction(conn, a):
        governance.set_mode(conn, a, "enforce", actor="ops", source="cli", reason="trusted", at=T0)
    ids = _reviewed(
        conn,
        a,
        "111111111111",
        T0 + timedelta(days=1),
        ["false_positive", "false_positive", "acknowledged", "acknowledged", "open"],
    )
    with tenant_transaction(conn, a):
        assert governance.state_at(conn, a, T0 + timedelta(days=6)).mode is Mode.ENFORCE  # 2 of 4: not yet
        record_feedback(conn, ids[-1], "false_positive", "bob")  # 3 of 5 = 60% > 50%
        demoted = governance.list_entries(conn, action_prefix="governance.mode")[0]
        assert (demoted.state, demoted.source, demoted.detail["from"]) == ("audit", "system", "enforce")
        assert "3 false positive(s) of 5 reviewed" in demoted.reason and "demotion" in demoted.reason
        assert not governance.may_remediate(conn, a, governance.decision_time(conn))


def test_nothing_is_promoted_under_panic(world):
    a, _, conn = world
    with tenant_transaction(conn, a):
        governance.set_mode(conn, a, "shadow", actor="ops", source="cli", reason="r", at=T0)
    _reviewed(conn, a, "111111111111", T0, ["acknowledged"] * 10)
    with tenant_transaction(conn, a):
        governance.set_panic(conn, a, True, actor="carol", source="api", reason="r")
        assert governance.evaluate(conn, a, T0 + timedelta(days=30)) is None
