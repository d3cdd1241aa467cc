"""POST /v1/accounts: a tenant asks to connect an AWS account (pending until an operator approves);
PATCH /v1/accounts/{account_id}: the tenant names one of its accounts (the name is shown in alerts)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.auth import authenticated_tenant
from dd0c_cost.api.errors import ApiError
from dd0c_cost.api.models import AccountName, AccountRequest
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.settings import get_settings

router = APIGatewayHttpRouter()


@router.post("/v1/accounts")
def request_account(request: AccountRequest) -> Response[dict]:
    from dd0c_cost.onboarding import OnboardingError, request_account_connection

    tenant_id = authenticated_tenant(router.current_event, write=True)
    settings = get_settings()
    if not settings.central_bus_arn or not settings.dd0c_account_id:
        raise ApiError(
            503, "onboarding_not_configured", "DD0C_CENTRAL_BUS_ARN and DD0C_ACCOUNT_ID are not set on this deployment"
        )
    try:
        result = request_account_connection(
            get_connection(),
            tenant_id,
            request.account_id,
            request.regions,
            settings.central_bus_arn,
            settings.dd0c_account_id,
            template_url=settings.onboarding_template_url,
        )
    except OnboardingError as exc:
        status = 409 if "another tenant" in str(exc) else 400
        raise ApiError(status, "account_refused", str(exc)) from None
    return Response(
        status_code=201 if result["created"] else 200, content_type=content_types.APPLICATION_JSON, body=result
    )


@router.patch("/v1/accounts/<account_id>")
def name_account(account_id: str, change: AccountName) -> AccountName:
    from dd0c_cost.notify import store

    tenant_id = authenticated_tenant(router.current_event, write=True)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        found = store.set_account_name(conn, account_id, change.display_name)
    if not found:
        raise ApiError(404, "not_found", f"account {account_id} is not connected to this tenant")
    return change
