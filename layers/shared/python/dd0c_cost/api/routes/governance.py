"""Governance: the tenant's mode (and per-rule modes), panic, the automatic promotion policy, the
tenant's settings, and the audit log. Every change is audited with who, from where and why."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost import governance
from dd0c_cost.api.auth import check_body_size, principal
from dd0c_cost.api.errors import ApiError
from dd0c_cost.dashboard.anomalies import audit_view
from dd0c_cost.dashboard.models import (
    AuditEntryView,
    GovernanceView,
    ModeChange,
    PanicChange,
    SettingsChange,
    SettingsView,
)
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.model import Model

router = APIGatewayHttpRouter()


class AuditPage(Model):
    entries: list[AuditEntryView]
    next_before: int | None


def _source(who) -> str:
    return "console" if who.via == "session" else "api"


def governance_view(conn, tenant_id) -> GovernanceView:
    at = governance.decision_time(conn)
    state = governance.state_at(conn, tenant_id, at)
    from dd0c_cost.governance.store import rule_modes

    return GovernanceView(
        clock=governance.tenant_clock(conn),
        mode=state.tenant_mode.value,
        mode_since=state.tenant_mode_since,
        default_mode=state.tenant_mode_since is None,
        panic=state.tenant_panic,
        global_panic=state.global_panic,
        rules={k: v.value for k, v in rule_modes(conn, tenant_id, at).items()},
        policy=governance.load_policy(conn, tenant_id).as_dict(),
    )


@router.get("/v1/governance")
def get_governance() -> GovernanceView:
    who = principal(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        return governance_view(conn, who.tenant_id)


@router.post("/v1/governance/mode")
def set_mode(change: ModeChange) -> GovernanceView:
    check_body_size(router.current_event)
    who = principal(router.current_event, write=True)
    if change.mode is None and change.rule is None:
        raise ApiError(
            400,
            "invalid_request",
            "the tenant always has a mode; null is for a rule that inherits",
            [{"field": "body.mode", "message": "required without rule"}],
        )
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        governance.set_mode(
            conn,
            who.tenant_id,
            change.mode,
            actor=change.by,
            source=_source(who),
            reason=change.reason,
            rule=change.rule,
        )
        return governance_view(conn, who.tenant_id)


@router.post("/v1/governance/panic")
def set_panic(change: PanicChange) -> GovernanceView:
    """One call halts every notification and remediation of the tenant, queued ones included
    (``on: false`` lifts it)."""
    check_body_size(router.current_event)
    who = principal(router.current_event, write=True)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        governance.set_panic(conn, who.tenant_id, change.on, actor=change.by, source=_source(who), reason=change.reason)
        return governance_view(conn, who.tenant_id)


def settings_view(conn, tenant_id) -> SettingsView:
    from dataclasses import asdict

    from dd0c_cost.scoring import store
    from dd0c_cost.scoring.config import DEFAULT_CONFIG, TENANT_SETTING_COLUMNS

    defaults = asdict(DEFAULT_CONFIG) if hasattr(DEFAULT_CONFIG, "__dataclass_fields__") else {}
    return SettingsView(
        scoring=store.tenant_settings(conn, tenant_id),
        scoring_defaults={k: defaults.get(k) for k in TENANT_SETTING_COLUMNS},
        governance=governance_view(conn, tenant_id),
    )


@router.get("/v1/settings")
def get_settings_view() -> SettingsView:
    who = principal(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        return settings_view(conn, who.tenant_id)


@router.put("/v1/settings")
def change_settings(change: SettingsChange) -> SettingsView:
    """Set scoring thresholds and the promotion policy; ``reset`` names go back to the default."""
    from dd0c_cost.governance.promotion import POLICY_FIELDS
    from dd0c_cost.scoring import store
    from dd0c_cost.scoring.config import TENANT_SETTING_COLUMNS

    check_body_size(router.current_event)
    who = principal(router.current_event, write=True)
    unknown = set(change.reset) - set(TENANT_SETTING_COLUMNS) - set(POLICY_FIELDS)
    if unknown:
        raise ApiError(
            400,
            "invalid_request",
            f"unknown settings: {', '.join(sorted(unknown))[:200]}",
            [{"field": "body.reset", "message": "unknown setting"}],
        )
    scoring = {
        **(change.scoring.model_dump(exclude_none=True) if change.scoring else {}),
        **{k: None for k in change.reset if k in TENANT_SETTING_COLUMNS},
    }
    policy = {
        **(change.governance_policy.model_dump(exclude_none=True) if change.governance_policy else {}),
        **{k: None for k in change.reset if k in POLICY_FIELDS},
    }
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        try:
            if scoring:
                store.set_tenant_settings(conn, who.tenant_id, by=change.by, **scoring)
            if policy:
                governance.save_policy(conn, who.tenant_id, by=change.by, **policy)
        except ValueError as exc:
            raise ApiError(400, "invalid_request", str(exc)[:300]) from None
        if scoring or policy:
            governance.audit(
                conn,
                who.tenant_id,
                "settings.changed",
                actor=change.by,
                source=_source(who),
                subject="settings",
                reason=change.reason,
                detail={"scoring": scoring, "policy": policy},
            )
        return settings_view(conn, who.tenant_id)


@router.get("/v1/audit")
def audit_log(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, description="next_before of the previous page")] = None,
    subject: Annotated[str | None, Query(max_length=300)] = None,
) -> AuditPage:
    who = principal(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        entries = governance.list_entries(conn, limit=limit + 1, before_id=before, subject=subject)
    page = entries[:limit]
    return AuditPage(entries=[audit_view(e) for e in page], next_before=page[-1].id if len(entries) > limit else None)
