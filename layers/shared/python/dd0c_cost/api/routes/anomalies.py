"""Anomalies: the filtered, sorted, cursor-paginated list; one anomaly; its detail (score
components, cost events, timeline, links, audit trail); status changes (acknowledge, snooze,
resolve as expected / false positive: the last two teach the scorer).

Each read runs in a transaction scoped to the caller's tenant, so row-level security decides what
exists: another tenant's anomaly id is simply not found.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Annotated, get_args
from urllib.parse import parse_qs
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import ConfigDict, TypeAdapter, ValidationError

from dd0c_cost.api.auth import check_body_size, principal
from dd0c_cost.api.errors import ApiError
from dd0c_cost.api.models import AnomalyView, Delivery
from dd0c_cost.dashboard import anomalies as queries
from dd0c_cost.dashboard.models import AnomalyDetail, AnomalyPage, SortKey, StatusChangeBody
from dd0c_cost.db.connection import get_connection, tenant_read, tenant_transaction
from dd0c_cost.scoring import store
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus, Severity

router = APIGatewayHttpRouter()
logger = logging.getLogger(__name__)

_STATUSES = {s.value for s in AnomalyStatus}
_SEVERITIES = {s.value for s in Severity}


def anomaly_uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise ApiError(
            400,
            "bad_anomaly_id",
            f"{text[:80]!r} is not a UUID",
            [{"field": "path.anomaly_id", "message": "not a UUID"}],
        ) from None


def _csv(name: str, value: str | None, allowed: set[str] | None = None, pattern: str | None = None) -> tuple[str, ...]:
    if not value:
        return ()
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if len(items) > 20:
        raise ApiError(
            400,
            "invalid_request",
            f"at most 20 values for {name}",
            [{"field": f"query.{name}", "message": "too many values"}],
        )
    for item in items:
        if (
            (allowed is not None and item not in allowed)
            or (pattern and not re.fullmatch(pattern, item))
            or len(item) > 100
        ):
            hint = f"one of {', '.join(sorted(allowed))}" if allowed else "a valid value"
            raise ApiError(
                400,
                "invalid_request",
                f"{name}={item[:80]!r} is not {hint}",
                [{"field": f"query.{name}", "message": f"expected {hint}"}],
            )
    return items


@router.get("/v1/anomalies")
def list_anomalies(
    status: Annotated[
        str | None, Query(description="comma-separated: open,acknowledged,snoozed,expected,false_positive")
    ] = None,
    severity: Annotated[str | None, Query(description="comma-separated: low,medium,high,critical")] = None,
    account: Annotated[str | None, Query(description="comma-separated 12-digit account ids")] = None,
    service: Annotated[str | None, Query(description="comma-separated, e.g. ec2,rds")] = None,
    kind: Annotated[str | None, Query(description="comma-separated resource types, e.g. ec2:instance")] = None,
    actor: Annotated[str | None, Query(max_length=200, description="who: case-insensitive substring")] = None,
    since: Annotated[datetime | None, Query(description="detected at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="detected before (ISO 8601)")] = None,
    sort: Annotated[SortKey, Query(description="'-' for descending")] = "-detected_at",
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=400, description="next_cursor of the previous page")] = None,
) -> AnomalyPage:
    who = principal(router.current_event)
    filters = _filters(status, severity, account, service, kind, actor, since, until)
    conn = get_connection()
    try:
        # one round trip: the tenant and the page in the pipeline's implicit transaction (no BEGIN/COMMIT)
        with tenant_read(conn, who.tenant_id):
            return queries.list_anomalies(conn, filters, sort=sort, limit=limit, cursor=cursor)
    except queries.BadQuery as exc:
        raise ApiError(
            400, "invalid_request", str(exc), [{"field": f"query.{exc.field}", "message": str(exc)}]
        ) from None


def _filters(
    status: str | None,
    severity: str | None,
    account: str | None,
    service: str | None,
    kind: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
) -> queries.Filters:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ApiError(
                400,
                "invalid_request",
                f"{name} needs a time zone (e.g. Z)",
                [{"field": f"query.{name}", "message": "no time zone"}],
            )
    return queries.Filters(
        status=_csv("status", status, _STATUSES),
        severity=_csv("severity", severity, _SEVERITIES),
        account=_csv("account", account, pattern=r"\d{12}"),
        service=_csv("service", service, pattern=r"[a-z0-9-]+"),
        kind=_csv("kind", kind, pattern=r"[a-z0-9-]+:[A-Za-z0-9:_-]+"),
        actor=actor,
        since=since,
        until=until,
    )


_SORTS = frozenset(get_args(SortKey))
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_TEXTS = ("status", "severity", "account", "service", "kind", "actor")
_WHEN: TypeAdapter[datetime] = TypeAdapter(datetime, config=ConfigDict(defer_build=True))
_JSON_HEADERS = {"Content-Type": "application/json"}


def list_fast(event: dict) -> dict | None:
    """``GET /v1/anomalies`` without the resolver's per-request machinery (parameter models, the page's
    models and their re-validation): the same checks, the same query, the page serialised once from its
    rows. Anything but a plainly valid request (a bad or repeated parameter, no credentials, a foreign
    cursor, a body, an error...) gets None, and the resolver's route answers it, errors included, as before."""
    args = event.get("queryStringParameters") or {}
    raw = event.get("rawQueryString")
    if event.get("body") or event.get("multiValueQueryStringParameters") or (raw and _repeats(raw, args)):
        return None
    try:
        sort = args.get("sort", "-detected_at")
        limit = args.get("limit", "50")
        cursor = args.get("cursor")
        if sort not in _SORTS or not _LIMIT.fullmatch(limit) or int(limit) > queries.MAX_PAGE:
            return None
        text = {name: args.get(name) for name in _TEXTS}
        if len(cursor or "") > 400 or len(text["actor"] or "") > 200:
            return None
        since, until = (None if args.get(k) is None else _WHEN.validate_python(args[k]) for k in ("since", "until"))
        who = principal(event)
        filters = _filters(**text, since=since, until=until)
        conn = get_connection()  # the tenant, the page and one Sync: one round trip
        body = queries.tenant_list_json(conn, who.tenant_id, filters, sort=sort, limit=int(limit), cursor=cursor)
    except (ApiError, queries.BadQuery, ValidationError):
        return None
    except Exception:  # the route answers (a database outage: 503; else 500; in the error shape)
        logger.warning("the list's fast path declined after an error", exc_info=True)
        return None
    return {"statusCode": 200, "body": body, "isBase64Encoded": False, "headers": dict(_JSON_HEADERS), "cookies": []}


def _repeats(raw: str, args: dict) -> bool:
    """A parameter given twice (the resolver then validates a list, not a string). When every ``&``-separated
    part gave a parameter of its own, none was repeated: only then is parsing the query again unneeded."""
    if raw.count("&") + 1 == len(args):
        return False
    return any(len(values) > 1 for values in parse_qs(raw, keep_blank_values=True).values())


@router.get("/v1/anomalies/<anomaly_id>")
def get_anomaly(anomaly_id: str) -> AnomalyView:
    """The anomaly, with what became of its Slack message (``delivery``)."""
    from dd0c_cost.notify.store import delivery_of

    who = principal(router.current_event)
    wanted = anomaly_uuid(anomaly_id)
    conn = get_connection()
    from dd0c_cost.remediation import store as remediations
    from dd0c_cost.tickets import store as tickets

    with tenant_transaction(conn, who.tenant_id):
        anomaly = store.get_anomaly(conn, wanted)
        if anomaly is None:
            raise ApiError(404, "not_found", f"no anomaly {wanted} for this tenant")
        delivery = delivery_of(conn, wanted)
        ticket = tickets.ticket_for(conn, "anomaly", str(wanted))
        requests = remediations.for_subject(conn, "anomaly", str(wanted))
    return AnomalyView(
        **anomaly.model_dump(),
        delivery=Delivery(**(delivery or {"status": "pending"})),
        ticket=ticket.public() if ticket else None,
        remediations=[r.public() for r in requests],
    )


@router.get("/v1/anomalies/<anomaly_id>/detail")
def get_anomaly_detail(anomaly_id: str) -> AnomalyDetail:
    from dd0c_cost.dashboard.anomaly_detail import get_detail

    who = principal(router.current_event)
    wanted = anomaly_uuid(anomaly_id)
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        detail = get_detail(conn, wanted)
    if detail is None:
        raise ApiError(404, "not_found", f"no anomaly {wanted} for this tenant")
    return detail


@router.post("/v1/anomalies/<anomaly_id>/status")
def change_status(anomaly_id: str, change: StatusChangeBody) -> Anomaly:
    from dd0c_cost.scoring.feedback import record_feedback

    check_body_size(router.current_event)
    who = principal(router.current_event, write=True)
    wanted = anomaly_uuid(anomaly_id)
    if (change.status is AnomalyStatus.SNOOZED) != (change.snooze_hours is not None):
        raise ApiError(
            400,
            "invalid_request",
            "snooze_hours goes with status=snoozed, and only with it",
            [{"field": "body.snooze_hours", "message": "required with snoozed, refused otherwise"}],
        )
    conn = get_connection()
    with tenant_transaction(conn, who.tenant_id):
        current = store.get_anomaly(conn, wanted)
        if current is None:
            raise ApiError(404, "not_found", f"no anomaly {wanted} for this tenant")
        until = None
        if change.snooze_hours is not None:
            from dd0c_cost import governance  # this route's only use: the list's cold start skips it

            # event time: from the tenant's newest event, like Slack's snooze
            until = governance.decision_time(conn, current.detected_at) + timedelta(hours=change.snooze_hours)
        anomaly = record_feedback(conn, wanted, change.status, change.by, snoozed_until=until, source=_source(who))
    return anomaly


def _source(who) -> str:
    return "console" if who.via == "session" else "api"
