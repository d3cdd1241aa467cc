"""The HTTP API behind API Gateway: batch ingest, dashboard reads, Slack interactions.

Tenant API keys authenticate ingest and dashboard routes; each read runs in a transaction
scoped to the key's tenant, so row-level security decides what exists — another tenant's
anomaly id is simply not found.
"""

from __future__ import annotations

import base64
from uuid import UUID

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from dd0c_cost.api.ingest import IngestRequestError, parse_ingest_request, queue_records
from dd0c_cost.api.models import AccountRequest, AnomalyList, ErrorBody, IngestAccepted, StatusChange
from dd0c_cost.db.connection import get_connection, tenant_for_api_key, tenant_transaction
from dd0c_cost.db.operator import hash_api_key
from dd0c_cost.scoring import store
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus
from dd0c_cost.settings import get_settings

app = APIGatewayHttpResolver(enable_validation=True)


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@app.exception_handler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return Response(
        status_code=exc.status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=exc.error, message=exc.message).model_dump_json(),
    )


def _raw_body() -> bytes:
    event = app.current_event
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def _authenticated_tenant() -> UUID:
    headers = app.current_event.headers or {}
    secret = headers.get("x-api-key") or ""
    authorization = headers.get("authorization") or ""
    if not secret and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    if not secret:
        raise ApiError(401, "missing_api_key", "send the tenant API key as 'Authorization: Bearer <key>' or 'x-api-key'")
    tenant_id = tenant_for_api_key(get_connection(), hash_api_key(secret))
    if tenant_id is None:
        raise ApiError(401, "invalid_api_key", "the API key is unknown or revoked")
    return tenant_id


def _anomaly_uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise ApiError(400, "bad_anomaly_id", f"{text!r} is not a UUID") from None


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/v1/ingest")
def ingest() -> Response[IngestAccepted]:
    tenant_id = _authenticated_tenant()
    settings = get_settings()
    try:
        records = parse_ingest_request(
            _raw_body(), max_body_bytes=settings.ingest_max_body_bytes, max_records=settings.ingest_max_records
        )
    except IngestRequestError as exc:
        raise ApiError(exc.status, exc.error, exc.message) from None
    request_id = app.current_event.request_context.request_id or "request"
    result = queue_records(tenant_id, records, request_id)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=result)


@app.get("/v1/anomalies")
def list_anomalies(limit: int = 100, status: str | None = None) -> AnomalyList:
    tenant_id = _authenticated_tenant()
    if status is not None and status not in {s.value for s in AnomalyStatus}:
        raise ApiError(400, "bad_status", f"status must be one of {', '.join(s.value for s in AnomalyStatus)}")
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        return AnomalyList(anomalies=store.list_anomalies(conn, limit=max(1, min(limit, 500)), status=status))


@app.get("/v1/anomalies/<anomaly_id>")
def get_anomaly(anomaly_id: str) -> Anomaly:
    tenant_id = _authenticated_tenant()
    wanted = _anomaly_uuid(anomaly_id)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        anomaly = store.get_anomaly(conn, wanted)
    if anomaly is None:
        raise ApiError(404, "not_found", f"no anomaly {wanted} for this tenant")
    return anomaly


@app.post("/v1/anomalies/<anomaly_id>/status")
def change_status(anomaly_id: str, change: StatusChange) -> Anomaly:
    from dd0c_cost.scoring.feedback import record_feedback

    tenant_id = _authenticated_tenant()
    wanted = _anomaly_uuid(anomaly_id)
    if change.status is AnomalyStatus.SNOOZED:
        raise ApiError(400, "bad_status", "snooze from Slack, or choose open, acknowledged, expected or false_positive")
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        anomaly = record_feedback(conn, wanted, change.status, change.by)
    if anomaly is None:
        raise ApiError(404, "not_found", f"no anomaly {wanted} for this tenant")
    return anomaly


@app.post("/v1/accounts")
def request_account(request: AccountRequest) -> Response[dict]:
    from dd0c_cost.onboarding import OnboardingError, request_account_connection

    tenant_id = _authenticated_tenant()
    settings = get_settings()
    if not settings.central_bus_arn or not settings.dd0c_account_id:
        raise ApiError(503, "onboarding_not_configured", "DD0C_CENTRAL_BUS_ARN and DD0C_ACCOUNT_ID are not set on this deployment")
    try:
        result = request_account_connection(
            get_connection(), tenant_id, request.account_id, request.regions, settings.central_bus_arn,
            settings.dd0c_account_id, template_url=settings.onboarding_template_url,
        )
    except OnboardingError as exc:
        status = 409 if "another tenant" in str(exc) else 400
        raise ApiError(status, "account_refused", str(exc)) from None
    return Response(status_code=201 if result["created"] else 200, content_type=content_types.APPLICATION_JSON, body=result)


@app.post("/slack/interactions")
def slack_interactions() -> Response[dict]:
    from dd0c_cost.slack_actions import apply_slack_action
    from dd0c_cost.notify import InteractionRejected, parse_interaction

    secret = get_settings().slack_signing_secret or ""
    try:
        action = parse_interaction(app.current_event.headers or {}, _raw_body(), secret)
    except InteractionRejected as exc:
        raise ApiError(exc.status, "slack_request_rejected", exc.reason) from None
    if apply_slack_action(action) is None:
        raise ApiError(404, "not_found", f"no anomaly {action.anomaly_id} for this workspace's tenant")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body={"ok": True})


def openapi_document() -> str:
    return app.get_openapi_json_schema(
        title="dd0c/cost API", version="1", description="Ingest CloudTrail, read anomalies, receive Slack actions."
    )


__all__ = ["app", "openapi_document"]
