"""The dashboard's zombie routes: list and filter findings, one finding with its history, and a
person's status change (acknowledge, snooze, ignore, mark remediated, reopen).

Reads and writes run in a transaction scoped to the key's tenant: another tenant's finding id is
simply not found. Snoozes run in event time (from the tenant's newest scan or event), like
anomaly snoozes. Scans own "gone" and "in_use"; people cannot set them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from dd0c_cost import governance
from dd0c_cost.api.auth import check_body_size, principal
from dd0c_cost.api.errors import ApiError
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.model import Model
from dd0c_cost.zombies import dal
from dd0c_cost.zombies.models import LIVE_STATUSES, FindingStatus, ResourceType, Verdict, ZombieFinding

router = APIGatewayHttpRouter()


class ZombieList(Model):
    findings: list[ZombieFinding]
    monthly_waste_usd: float = Field(description="sum of the listed findings' priced monthly waste")
    unpriced: int = Field(description="listed findings with no price (the reason is on each)")


class HistoryEntry(Model):
    at: datetime
    from_status: str | None
    to_status: str
    verdict: str | None
    changed_by: str
    note: str | None


class ZombieDetail(Model):
    finding: ZombieFinding
    history: list[HistoryEntry]


class ZombieStatusChange(Model):
    """A person's decision on a finding."""

    status: Literal["open", "acknowledged", "snoozed", "remediated", "ignored"]
    by: str = Field(default="api", min_length=1, max_length=200)
    snooze_days: int | None = Field(default=None, ge=1, le=90, description="with status snoozed (event time)")
    note: str | None = Field(default=None, max_length=1000)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_request", message, [{"field": field, "message": message}])


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise _invalid("path.finding_id", f"{text[:80]!r} is not a UUID") from None


def _choices(raw: str | None, allowed: set[str], name: str) -> list[str] | None:
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if not values or any(v not in allowed for v in values):
        raise _invalid(f"query.{name}", f"{name} must be one or more of {', '.join(sorted(allowed))} (comma-separated)")
    return values


@router.get("/v1/zombies")
def list_zombies(
    status: str | None = None,
    verdict: str | None = None,
    resource_type: str | None = None,
    account_id: str | None = None,
    region: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ZombieList:
    """Findings, largest monthly waste first. ``status`` defaults to the live ones (open,
    acknowledged, snoozed); ``status=all`` lists every finding."""
    tenant_id = principal(router.current_event).tenant_id
    statuses = (
        None
        if status == "all"
        else _choices(status, {s.value for s in FindingStatus}, "status") or [s.value for s in LIVE_STATUSES]
    )
    verdicts = _choices(verdict, {v.value for v in Verdict}, "verdict")
    if resource_type is not None and resource_type not in {t.value for t in ResourceType}:
        raise _invalid(
            "query.resource_type", f"resource_type must be one of {', '.join(t.value for t in ResourceType)}"
        )
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        findings = dal.list_findings(
            conn,
            statuses=statuses,
            verdicts=verdicts,
            resource_type=resource_type,
            account_id=account_id,
            region=region,
            limit=max(1, min(limit, 500)),
            offset=max(0, offset),
        )
    priced = [f.monthly_waste_usd for f in findings if f.monthly_waste_usd is not None]
    return ZombieList(findings=findings, monthly_waste_usd=round(sum(priced), 2), unpriced=len(findings) - len(priced))


@router.get("/v1/zombies/<finding_id>")
def get_zombie(finding_id: str) -> ZombieDetail:
    tenant_id = principal(router.current_event).tenant_id
    wanted = _uuid(finding_id)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        finding = dal.get_finding(conn, wanted)
        history = dal.history(conn, wanted) if finding else []
    if finding is None:
        raise ApiError(404, "not_found", f"no zombie finding {wanted} for this tenant")
    return ZombieDetail(finding=finding, history=[HistoryEntry(**h) for h in history])


@router.post("/v1/zombies/<finding_id>/status")
def change_zombie_status(finding_id: str, change: ZombieStatusChange) -> ZombieFinding:
    check_body_size(router.current_event)
    who = principal(router.current_event, write=True)
    wanted = _uuid(finding_id)
    if (change.status == "snoozed") != (change.snooze_days is not None):
        raise _invalid("body.snooze_days", "snooze_days goes with status=snoozed, and only with it")
    conn = get_connection()
    try:
        with tenant_transaction(conn, who.tenant_id):
            at = dal.newest_scan_time(conn)
            if at is None:
                raise ApiError(404, "not_found", f"no zombie finding {wanted} for this tenant")
            until = at + timedelta(days=change.snooze_days) if change.snooze_days else None
            finding = dal.set_status(
                conn, wanted, change.status, by=change.by, at=at, snoozed_until=until, note=change.note
            )
            if finding is not None:
                governance.audit(
                    conn,
                    who.tenant_id,
                    "zombie.status",
                    actor=change.by,
                    source="console" if who.via == "session" else "api",
                    at=at,
                    subject=f"zombie:{wanted}",
                    state=change.status,
                    reason=change.note or "",
                    detail={"resource_type": finding.resource_type, "resource_id": finding.resource_id},
                )
    except dal.StatusChangeRefused as exc:
        raise ApiError(409, "status_refused", str(exc)) from None
    if finding is None:
        raise ApiError(404, "not_found", f"no zombie finding {wanted} for this tenant")
    return finding
