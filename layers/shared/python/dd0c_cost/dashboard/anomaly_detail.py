"""One anomaly's detail (``GET /v1/anomalies/<id>/detail``): the anomaly, the cost events that
raised it and what later happened to its resources, the governance trail, one timeline of all of
it, and links to Slack and the AWS console."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from uuid import UUID

from dd0c_cost.dashboard.anomalies import _LIST_COLUMNS, audit_view
from dd0c_cost.dashboard.models import (
    AnomalyDetail,
    AnomalyRow,
    CostEventView,
    Links,
    TimelineEntry,
)
from dd0c_cost.db.connection import Connection

_EVENT_COLUMNS = """event_id, event_time, event_name, event_source, account_id, region, service, resource_type,
                  resource_ids, action, quantity, actor_name AS actor, estimated_usd_per_hour, score"""


def get_detail(conn: Connection, anomaly_id: UUID, *, console_base: str = "") -> AnomalyDetail | None:
    from dd0c_cost import governance

    row = conn.execute(
        f"SELECT {_LIST_COLUMNS}, slack_channel, slack_ts, created_at FROM dd0c.anomalies WHERE id = %s",
        [anomaly_id],
    ).fetchone()
    if row is None:
        return None
    channel, ts, created_at = row.pop("slack_channel"), row.pop("slack_ts"), row.pop("created_at")
    anomaly = AnomalyRow.model_validate(row)
    events = _event_views(
        conn,
        f"SELECT {_EVENT_COLUMNS} FROM dd0c.cost_events WHERE event_id = ANY(%s) ORDER BY event_time, id LIMIT 200",
        [anomaly.event_ids],
    )
    # what happened to its resources afterwards (stopped, deleted): the rest of the story
    later_events = (
        _event_views(
            conn,
            f"""SELECT {_EVENT_COLUMNS} FROM dd0c.cost_events
                WHERE resource_ids && %s AND event_time > %s AND NOT event_id = ANY(%s)
                ORDER BY event_time, id LIMIT 50""",
            [anomaly.resource_ids, anomaly.detected_at - timedelta(seconds=1), anomaly.event_ids],
        )
        if anomaly.resource_ids
        else []
    )
    trail = governance.list_entries(conn, subject=f"anomaly:{anomaly.id}", limit=200)
    timeline = [_event_entry(e) for e in events]
    timeline.append(
        TimelineEntry(
            at=anomaly.detected_at,
            kind="detected",
            text=f"detected: {anomaly.severity.value}, score {anomaly.score:.2f}",
        )
    )
    timeline += [_event_entry(e) for e in later_events]
    if channel and ts:
        timeline.append(TimelineEntry(at=created_at, kind="notified", text=f"posted to Slack {channel}"))
    timeline += [_trail_entry(entry) for entry in reversed(trail)]
    timeline.sort(key=lambda t: t.at)
    resources = [
        {"id": rid, "url": resource_url(anomaly.region, anomaly.resource_type, rid)}
        for rid in anomaly.resource_ids[:50]
    ]
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
        audit=[audit_view(e) for e in trail],
    )


def _event_views(conn: Connection, sql: str, params: list) -> list[CostEventView]:
    rows = conn.execute(sql, params).fetchall()
    return [CostEventView(**r, cloudtrail_url=cloudtrail_url(r["region"], r["event_id"])) for r in rows]


def _event_entry(e: CostEventView) -> TimelineEntry:
    usd = f", {e.estimated_usd_per_hour:+.2f} $/h" if e.estimated_usd_per_hour is not None else ""
    return TimelineEntry(at=e.event_time, kind="event", text=f"{e.event_name} ×{e.quantity:g}{usd}", actor=e.actor)


def _trail_entry(entry) -> TimelineEntry:
    """A governance entry on the timeline: a withheld alert, a status change, or another audit line."""
    kind: Literal["withheld", "status", "audit"] = (
        "withheld" if entry.action == "notify.withheld" else "status" if entry.action == "anomaly.status" else "audit"
    )
    text = entry.reason or f"{entry.action} {entry.state or ''}".strip()
    if kind == "status":
        text = f"status → {entry.state}" + (f" ({entry.reason})" if entry.reason else "")
    return TimelineEntry(at=entry.at, kind=kind, text=text, actor=entry.actor)


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
