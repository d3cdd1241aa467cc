"""Anomaly list (filters, keyset cursor, sort) and detail (events, timeline, links, audit trail)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import orjson

from dd0c_cost.dashboard.models import (
    AnomalyDetail,
    AnomalyPage,
    AnomalyRow,
    AuditEntryView,
    CostEventView,
    Links,
    TimelineEntry,
)
from dd0c_cost.db.connection import Connection
from dd0c_cost.scoring.store import _ANOMALY_COLUMNS

MAX_PAGE = 200
_SORT_COLUMNS = {"detected_at": "detected_at", "estimated_hourly_usd": "estimated_hourly_usd", "score": "score"}


class BadQuery(ValueError):
    """A filter, sort or cursor the API refuses (400), with the field it concerns."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()  # resource type, e.g. ec2:instance
    actor: str | None = None  # substring, case-insensitive
    since: datetime | None = None
    until: datetime | None = None


def encode_cursor(sort: str, value, anomaly_id: UUID) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = orjson.dumps([sort, value, str(anomaly_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[object, UUID]:
    try:
        if len(cursor) > 400:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, anomaly_id = orjson.loads(raw)
        anomaly_id = UUID(anomaly_id)
        if cursor_sort != sort:
            raise BadQuery("cursor", f"the cursor was made for sort={cursor_sort}; repeat the same sort")
        if sort.lstrip("-") == "detected_at":
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int | float):
            raise ValueError("bad value")
        return value, anomaly_id
    except BadQuery:
        raise
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadQuery("cursor", "the cursor is not one this API issued") from None


def list_anomalies(
    conn: Connection,
    filters: Filters,
    *,
    sort: str = "-detected_at",
    limit: int = 50,
    cursor: str | None = None,
) -> AnomalyPage:
    column = _SORT_COLUMNS.get(sort.lstrip("-"))
    if column is None:
        raise BadQuery("sort", f"sort is one of {', '.join(sorted(_SORT_COLUMNS))}, with '-' for descending")
    descending = sort.startswith("-")
    clauses: list[str] = []
    params: list[object] = []
    for name, values in (
        ("status", filters.status),
        ("severity", filters.severity),
        ("account_id", filters.account),
        ("service", filters.service),
        ("resource_type", filters.kind),
    ):
        if values:
            clauses.append(f"{name} = ANY(%s)")
            params.append(list(values))
    if filters.actor:
        clauses.append("actor ILIKE %s")
        params.append("%" + filters.actor.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%")
    if filters.since:
        clauses.append("detected_at >= %s")
        params.append(filters.since)
    if filters.until:
        clauses.append("detected_at < %s")
        params.append(filters.until)
    if cursor:
        value, after_id = decode_cursor(cursor, sort)
        # keyset: rows strictly after (value, id) in the order below
        clauses.append(f"({column}, id) {'<' if descending else '>'} (%s, %s)")
        params.extend([value, after_id])
    order = "DESC" if descending else "ASC"
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"""SELECT {_ANOMALY_COLUMNS}, notify_withheld FROM dd0c.anomalies {where}
            ORDER BY {column} {order}, id {order} LIMIT %s""",
        [*params, limit + 1],
    ).fetchall()
    page = [AnomalyRow.model_validate(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(sort, getattr(last, column), last.id)
    return AnomalyPage(anomalies=page, next_cursor=next_cursor)


def cloudtrail_url(region: str, event_id: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudtrail/home?region={region}#/events/{event_id}"


def resource_url(region: str, resource_type: str, resource_id: str) -> str | None:
    if resource_type == "ec2:instance" and resource_id.startswith("i-"):
        return (
            f"https://{region}.console.aws.amazon.com/ec2/home?region={region}#InstanceDetails:instanceId={resource_id}"
        )
    if resource_type.startswith("ec2:volume") and resource_id.startswith("vol-"):
        return f"https://{region}.console.aws.amazon.com/ec2/home?region={region}#VolumeDetails:volumeId={resource_id}"
    if resource_type.startswith("rds:"):
        return f"https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id}"
    return None


def get_detail(conn: Connection, anomaly_id: UUID, *, console_base: str = "") -> AnomalyDetail | None:
    from dd0c_cost import governance

    row = conn.execute(
        f"SELECT {_ANOMALY_COLUMNS}, notify_withheld, slack_channel, slack_ts, created_at FROM dd0c.anomalies WHERE id = %s",
        [anomaly_id],
    ).fetchone()
    if row is None:
        return None
    channel, ts, created_at = row.pop("slack_channel"), row.pop("slack_ts"), row.pop("created_at")
    anomaly = AnomalyRow.model_validate(row)
    event_rows = conn.execute(
        """SELECT event_id, event_time, event_name, event_source, account_id, region, service, resource_type,
                  resource_ids, action, quantity, actor_name AS actor, estimated_usd_per_hour, score
           FROM dd0c.cost_events WHERE event_id = ANY(%s) ORDER BY event_time, id LIMIT 200""",
        [anomaly.event_ids],
    ).fetchall()
    events = [CostEventView(**r, cloudtrail_url=cloudtrail_url(r["region"], r["event_id"])) for r in event_rows]
    # what happened to its resources afterwards (stopped, deleted): the rest of the story
    later = (
        conn.execute(
            """SELECT event_id, event_time, event_name, event_source, account_id, region, service, resource_type,
                  resource_ids, action, quantity, actor_name AS actor, estimated_usd_per_hour, score
           FROM dd0c.cost_events
           WHERE resource_ids && %s AND event_time > %s AND NOT event_id = ANY(%s)
           ORDER BY event_time, id LIMIT 50""",
            [anomaly.resource_ids, anomaly.detected_at - timedelta(seconds=1), anomaly.event_ids],
        ).fetchall()
        if anomaly.resource_ids
        else []
    )
    later_events = [CostEventView(**r, cloudtrail_url=cloudtrail_url(r["region"], r["event_id"])) for r in later]
    trail = governance.list_entries(conn, subject=f"anomaly:{anomaly.id}", limit=200)
    audit = [audit_view(e) for e in trail]
    timeline: list[TimelineEntry] = []
    for e in events:
        usd = f", {e.estimated_usd_per_hour:+.2f} $/h" if e.estimated_usd_per_hour is not None else ""
        timeline.append(
            TimelineEntry(at=e.event_time, kind="event", text=f"{e.event_name} ×{e.quantity:g}{usd}", actor=e.actor)
        )
    timeline.append(
        TimelineEntry(
            at=anomaly.detected_at,
            kind="detected",
            text=f"detected: {anomaly.severity.value}, score {anomaly.score:.2f}",
        )
    )
    for e in later_events:
        usd = f", {e.estimated_usd_per_hour:+.2f} $/h" if e.estimated_usd_per_hour is not None else ""
        timeline.append(
            TimelineEntry(at=e.event_time, kind="event", text=f"{e.event_name} ×{e.quantity:g}{usd}", actor=e.actor)
        )
    if channel and ts:
        timeline.append(TimelineEntry(at=created_at, kind="notified", text=f"posted to Slack {channel}"))
    for entry in reversed(trail):
        kind = (
            "withheld"
            if entry.action == "notify.withheld"
            else "status"
            if entry.action == "anomaly.status"
            else "audit"
        )
        text = entry.reason or f"{entry.action} {entry.state or ''}".strip()
        if kind == "status":
            text = f"status → {entry.state}" + (f" ({entry.reason})" if entry.reason else "")
        timeline.append(TimelineEntry(at=entry.at, kind=kind, text=text, actor=entry.actor))
    timeline.sort(key=lambda t: t.at)
    resources = []
    for rid in anomaly.resource_ids[:50]:
        url = resource_url(anomaly.region, anomaly.resource_type, rid)
        resources.append({"id": rid, "url": url})
    links = Links(
        console=f"{console_base}/#/anomalies/{anomaly.id}",
        slack={"channel": channel, "ts": ts} if channel and ts else None,
        resources=resources,
    )
    return AnomalyDetail(
        anomaly=anomaly,
        monthly_usd=round(anomaly.estimated_hourly_usd * 730, 2),
        events=events + later_events,
        timeline=timeline,
        links=links,
        audit=audit,
    )


def audit_view(entry) -> AuditEntryView:
    return AuditEntryView(
        id=entry.id,
        at=entry.at,
        recorded_at=entry.recorded_at,
        actor=entry.actor,
        source=entry.source,
        action=entry.action,
        subject=entry.subject,
        state=entry.state,
        reason=entry.reason,
        detail=entry.detail,
        scope="global" if entry.tenant_id is None else "tenant",
    )
