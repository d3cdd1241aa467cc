"""POST /v1/ingest: a tenant's batch of CloudTrail records onto the ingest queue."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.auth import authenticated_tenant, raw_body
from dd0c_cost.api.errors import ApiError
from dd0c_cost.api.ingest import IngestRequestError, parse_ingest_request, queue_records
from dd0c_cost.api.models import IngestAccepted
from dd0c_cost.settings import get_settings

router = APIGatewayHttpRouter()


@router.post("/v1/ingest")
def ingest() -> Response[IngestAccepted]:
    tenant_id = authenticated_tenant(router.current_event, write=True)
    settings = get_settings()
    try:
        records = parse_ingest_request(
            raw_body(router.current_event),
            max_body_bytes=settings.ingest_max_body_bytes,
            max_records=settings.ingest_max_records,
        )
    except IngestRequestError as exc:
        raise ApiError(exc.status, exc.error, exc.message) from None
    request_id = router.current_event.request_context.request_id or "request"
    result = queue_records(tenant_id, records, request_id)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=result)
