"""Spend: the tenant's current estimated $/h by service, account or region; an hourly spend-rate
series for plots (with the anomalies in range to mark on it); the baselines per series."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.auth import principal
from dd0c_cost.api.errors import ApiError
from dd0c_cost.dashboard import spend as queries
from dd0c_cost.dashboard.models import BaselineView, Dimension, SpendNow, SpendSeries
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.model import Model

router = APIGatewayHttpRouter()


class BaselineList(Model):
    baselines: list[BaselineView]


@router.get("/v1/spend/now")
def spend_now(by: Annotated[Dimension, Query()] = "service") -> SpendNow:
    who = principal(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        return queries.spend_now(conn, by)


@router.get("/v1/spend/series")
def spend_series(
    by: Annotated[Dimension | None, Query(description="with key: one service, account or region")] = None,
    key: Annotated[str | None, Query(max_length=100)] = None,
    start: Annotated[datetime | None, Query(description="default: 14 days before end")] = None,
    end: Annotated[datetime | None, Query(description="default: the tenant's newest event time")] = None,
) -> SpendSeries:
    who = principal(router.current_event)
    if (by is None) != (key is None):
        raise ApiError(
            400,
            "invalid_request",
            "by and key go together",
            [{"field": "query.key" if by else "query.by", "message": "required with the other"}],
        )
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise ApiError(
                400,
                "invalid_request",
                f"{name} needs a time zone",
                [{"field": f"query.{name}", "message": "no time zone"}],
            )
    conn = get_connection()
    try:
        with tenant_transaction(conn, who.tenant_id):
            return queries.spend_series(conn, by=by, key=key, start=start, end=end)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc), [{"field": "query.start", "message": str(exc)}]) from None


@router.get("/v1/spend/baselines")
def spend_baselines(limit: Annotated[int, Query(ge=1, le=500)] = 200) -> BaselineList:
    who = principal(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        return BaselineList(baselines=queries.baselines(conn, limit=limit))
