"""Connected accounts with event-flow health, and the summary (open anomalies by severity, spend
caught, money saved, governance state)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.auth import principal
from dd0c_cost.dashboard import overview as queries
from dd0c_cost.dashboard.models import AccountList, Summary
from dd0c_cost.db.connection import get_connection, tenant_transaction

router = APIGatewayHttpRouter()


@router.get("/v1/accounts")
def list_accounts() -> AccountList:
    who = principal(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        return queries.accounts(conn)


@router.get("/v1/summary")
def summary() -> Summary:
    who = principal(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        return queries.summary(conn, who.tenant_id)
