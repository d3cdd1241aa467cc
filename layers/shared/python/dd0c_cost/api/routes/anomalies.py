"""The dashboard's anomaly routes: list, one, and status changes (which feed the scorer).

Each read runs in a transaction scoped to the key's tenant, so row-level security decides what
exists: another tenant's anomaly id is simply not found.
"""

from __future__ import annotations

from uuid import UUID

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.auth import authenticated_tenant
from dd0c_cost.api.errors import ApiError
from dd0c_cost.api.models import AnomalyList, StatusChange
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.scoring import store
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus

router = APIGatewayHttpRouter()


def _anomaly_uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise ApiError(400, "bad_anomaly_id", f"{text!r} is not a UUID") from None


@router.get("/v1/anomalies")
def list_anomalies(limit: int = 100, status: str | None = None) -> AnomalyList:
    tenant_id = authenticated_tenant(router.current_event)
    if status is not None and status not in {s.value for s in AnomalyStatus}:
        raise ApiError(400, "bad_status", f"status must be one of {', '.join(s.value for s in AnomalyStatus)}")
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        return AnomalyList(anomalies=store.list_anomalies(conn, limit=max(1, min(limit, 500)), status=status))


@router.get("/v1/anomalies/<anomaly_id>")
def get_anomaly(anomaly_id: str) -> Anomaly:
    tenant_id = authenticated_tenant(router.current_event)
    wanted = _anomaly_uuid(anomaly_id)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        anomaly = store.get_anomaly(conn, wanted)
    if anomaly is None:
        raise ApiError(404, "not_found", f"no anomaly {wanted} for this tenant")
    return anomaly


@router.post("/v1/anomalies/<anomaly_id>/status")
def change_status(anomaly_id: str, change: StatusChange) -> Anomaly:
    from dd0c_cost.scoring.feedback import record_feedback

    tenant_id = authenticated_tenant(router.current_event)
    wanted = _anomaly_uuid(anomaly_id)
    if change.status is AnomalyStatus.SNOOZED:
        raise ApiError(400, "bad_status", "snooze from Slack, or choose open, acknowledged, expected or false_positive")
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        anomaly = record_feedback(conn, wanted, change.status, change.by)
    if anomaly is None:
        raise ApiError(404, "not_found", f"no anomaly {wanted} for this tenant")
    return anomaly
