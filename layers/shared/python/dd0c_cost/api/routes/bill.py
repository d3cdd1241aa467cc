"""Estimate against the bill (issue 12): per account, billing service and day, the cost events'
estimated spend next to the billed spend the usage poller read, and the services whose
estimates run off (``dd0c_cost.usage.bill``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.auth import principal
from dd0c_cost.api.errors import ApiError
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.usage import bill

router = APIGatewayHttpRouter()


@router.get("/v1/spend/bill")
def spend_bill(
    start: Annotated[date | None, Query(description="first day (UTC); default: 13 days before end")] = None,
    end: Annotated[date | None, Query(description="last day (UTC); default: the day before the tenant's clock")] = None,
) -> bill.BillComparison:
    who = principal(router.current_event)
    conn = get_connection()
    try:
        with tenant_transaction(conn, who.tenant_id):
            if end is None:
                from dd0c_cost.governance import tenant_clock

                clock = tenant_clock(conn)
                end = (clock.date() if clock else date.today()) - timedelta(days=1)
            start = start or end - timedelta(days=13)
            return bill.compare(conn, start, end)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc), [{"field": "query.start", "message": str(exc)}]) from None
