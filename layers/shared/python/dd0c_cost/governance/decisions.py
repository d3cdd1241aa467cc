"""The one decision API: may we notify, may we remediate, for a tenant at an event time.

Call every function inside the tenant's transaction (``tenant_transaction``). ``at`` is event
time: pass ``decision_time(conn, ...)`` — the tenant's clock, i.e. the newest event time seen —
so a live decision and the same decision in a replay agree, and a panic pressed after a
notification or remediation was queued still stops it (it is decided at a later clock).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from dd0c_cost.db.connection import Connection
from dd0c_cost.governance import promotion, store
from dd0c_cost.governance.models import Decision, GovernanceState, Mode


def default_mode() -> Mode:
    from dd0c_cost.settings import get_settings

    return Mode(get_settings().default_governance_mode)


def decision_time(conn: Connection, *not_before: datetime | None) -> datetime:
    """Event time of a decision taken now: the tenant's clock, never earlier than what is decided
    about (e.g. the anomaly's ``detected_at``)."""
    times = [t for t in (store.tenant_clock(conn), *not_before) if t is not None]
    return max(times) if times else store.BEFORE_ANY_EVENT


def state_at(conn: Connection, tenant_id: UUID, at: datetime, *, rule: str | None = None) -> GovernanceState:
    return store.state_at(conn, tenant_id, at, rule=rule, default_mode=default_mode())


def may_notify(
    conn: Connection, tenant_id: UUID, at: datetime, *, rule: str | None = None, evaluate: bool = True
) -> Decision:
    """Notify people (Slack, tickets) about an anomaly? Refused in shadow mode and under panic.
    First applies any automatic promotion or demotion due at ``at`` (``promotion.evaluate``)."""
    if evaluate:
        promotion.evaluate(conn, tenant_id, at)
    state = state_at(conn, tenant_id, at, rule=rule)
    if state.global_panic:
        return Decision(False, "global_panic", state)
    if state.tenant_panic:
        return Decision(False, "panic", state)
    if state.mode is Mode.SHADOW:
        return Decision(False, "shadow", state)
    return Decision(True, "allowed", state)


def may_remediate(
    conn: Connection,
    tenant_id: UUID,
    at: datetime,
    *,
    rule: str | None = None,
    automatic: bool = False,
    evaluate: bool = True,
) -> Decision:
    """Act on a customer's resources? Only in enforce mode and never under panic. An automatic
    action (nobody clicked) also needs ``rule`` to be in enforce mode explicitly — a rule that
    merely inherits the tenant's enforce mode may not act on its own."""
    if evaluate:
        promotion.evaluate(conn, tenant_id, at)
    state = state_at(conn, tenant_id, at, rule=rule)
    if state.global_panic:
        return Decision(False, "global_panic", state)
    if state.tenant_panic:
        return Decision(False, "panic", state)
    if state.mode is not Mode.ENFORCE:
        return Decision(False, state.mode.value, state)
    if automatic and state.rule_mode is not Mode.ENFORCE:
        return Decision(False, "not_explicit", state)
    return Decision(True, "allowed", state)


def set_mode(
    conn: Connection,
    tenant_id: UUID,
    mode: Mode | str | None,
    *,
    actor: str,
    source: str,
    reason: str,
    rule: str | None = None,
    at: datetime | None = None,
    detail: dict | None = None,
) -> store.AuditEntry | None:
    """Put the tenant (or one rule; ``mode=None`` makes a rule inherit again) in a mode, from the
    tenant's clock on. None when it already is (nothing to audit)."""
    if mode is None and rule is None:
        raise ValueError("a tenant always has a mode")
    new = "inherit" if mode is None else Mode(mode).value
    at = at or decision_time(conn)
    current = state_at(conn, tenant_id, at, rule=rule)
    now = (current.rule_mode.value if current.rule_mode else "inherit") if rule else current.tenant_mode.value
    if now == new and (rule is not None or current.tenant_mode_since is not None):
        return None
    return store.append(
        conn,
        tenant_id,
        store.MODE_ACTION,
        actor=actor,
        source=source,
        at=at,
        subject=store.rule_subject(rule) if rule else store.TENANT_SUBJECT,
        state=new,
        reason=reason,
        detail={"from": now, **(detail or {})},
    )


def set_panic(
    conn: Connection, tenant_id: UUID, on: bool, *, actor: str, source: str, reason: str
) -> store.AuditEntry | None:
    """Engage (``on``) or lift the tenant's panic from its clock on: every notification and
    remediation decided from then is refused, queued ones included. None if already so."""
    at = decision_time(conn)
    if state_at(conn, tenant_id, at).tenant_panic == on:
        return None
    return store.append(
        conn,
        tenant_id,
        store.PANIC_ACTION,
        actor=actor,
        source=source,
        at=at,
        state="on" if on else "off",
        reason=reason,
    )


def set_global_panic(operator_conn: Connection, on: bool, *, actor: str, reason: str) -> store.AuditEntry | None:
    """Operator only (a ``dd0c_operator`` connection): stop or resume everything, for every tenant."""
    with operator_conn.transaction():
        if store.global_panic(operator_conn) == on:
            return None
        return store.append(
            operator_conn,
            None,
            store.PANIC_ACTION,
            actor=actor,
            source="cli",
            subject=store.GLOBAL_SUBJECT,
            state="on" if on else "off",
            reason=reason,
        )


def withhold_notification(
    conn: Connection, tenant_id: UUID, anomaly_id: UUID, revision: int, decision: Decision
) -> bool:
    """Record a refused notification: the anomaly is marked (``notify_withheld``), the revision is
    consumed so no redelivery or sweep posts it later, and the refusal is in the audit log.
    False if that revision was already handled."""
    why = "shadow" if decision.reason == "shadow" else "panic"
    if not store.mark_withheld(conn, anomaly_id, revision, why):
        return False
    store.append(
        conn,
        tenant_id,
        "notify.withheld",
        actor="dd0c-cost",
        source="system",
        at=decision.state.at,
        subject=f"anomaly:{anomaly_id}",
        state=decision.reason,
        reason={
            "shadow": "shadow mode: scored and recorded, nobody notified",
            "panic": "panic: notifications halted for this tenant",
            "global_panic": "global panic: notifications halted for every tenant",
        }.get(decision.reason, decision.reason),
        detail={"revision": revision, "mode": decision.mode.value},
    )
    return True
