"""The daily digest, per tenant: yesterday's anomalies by status, the spend they represent, the
money saved by remediations and by acknowledged alerts whose resources were then stopped, and a
link to the dashboard. "Yesterday" is the tenant's clock (event time: its newest event), so a
replayed history digests the same way.

One digest per tenant and day (``dd0c.digests``): a retried schedule posts it once. In AWS a
schedule (topology ``slack-digest``) runs the ``digest`` function for every tenant; locally
``dd0c-cost digest --tenant NAME [--day YYYY-MM-DD]``.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from uuid import UUID

from psycopg.types.json import Jsonb

from dd0c_cost import governance
from dd0c_cost.db.connection import Connection, tenant_transaction
from dd0c_cost.settings import Settings

logger = logging.getLogger(__name__)

STATUS_ORDER = ("open", "acknowledged", "snoozed", "expected", "false_positive")


def yesterday(conn: Connection) -> date:
    """The day before the tenant's clock (inside its transaction)."""
    return (governance.decision_time(conn) - timedelta(days=1)).date()


def _bounds(day: date) -> tuple[datetime, datetime]:
    from datetime import UTC

    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def summarize(conn: Connection, day: date) -> dict:
    """What the digest says about ``day`` (inside the tenant's transaction)."""
    start, end = _bounds(day)
    by_status = {
        r["status"]: {"count": r["n"], "usd_per_hour": round(r["usd"], 2)}
        for r in conn.execute(
            """SELECT status, count(*) AS n, coalesce(sum(estimated_hourly_usd), 0) AS usd FROM dd0c.anomalies
               WHERE tenant_id = dd0c.current_tenant() AND detected_at >= %s AND detected_at < %s GROUP BY status""",
            [start, end],
        ).fetchall()
    }
    remediated = conn.execute(
        """SELECT count(*) AS n, coalesce(sum(r.hourly_usd_saved), 0) AS usd
           FROM dd0c.remediations r JOIN dd0c.anomalies a ON r.subject_kind = 'anomaly' AND a.id::text = r.subject_id
           WHERE r.tenant_id = dd0c.current_tenant() AND r.status = 'succeeded'
             AND a.detected_at >= %s AND a.detected_at < %s""",
        [start, end],
    ).fetchone()
    stopped = conn.execute(
        """SELECT count(*) AS n, coalesce(sum(a.estimated_hourly_usd), 0) AS usd FROM dd0c.anomalies a
           WHERE a.tenant_id = dd0c.current_tenant() AND a.status = 'acknowledged'
             AND a.detected_at >= %s AND a.detected_at < %s AND cardinality(a.resource_ids) > 0
             AND EXISTS (SELECT 1 FROM dd0c.cost_events c
                         WHERE c.tenant_id = a.tenant_id AND c.resource_ids && a.resource_ids
                           AND c.action IN ('stop', 'delete') AND c.event_time >= a.detected_at)
             AND NOT EXISTS (SELECT 1 FROM dd0c.remediations r WHERE r.subject_kind = 'anomaly'
                             AND r.subject_id = a.id::text AND r.status = 'succeeded')""",
        [start, end],
    ).fetchone()
    top = conn.execute(
        """SELECT id, estimated_hourly_usd, summary, status FROM dd0c.anomalies
           WHERE tenant_id = dd0c.current_tenant() AND detected_at >= %s AND detected_at < %s
           ORDER BY estimated_hourly_usd DESC, id LIMIT 3""",
        [start, end],
    ).fetchall()
    assert remediated is not None and stopped is not None  # aggregates without GROUP BY: always one row
    total = sum(s["usd_per_hour"] for s in by_status.values())
    return {
        "day": day.isoformat(),
        "anomalies": sum(s["count"] for s in by_status.values()),
        "by_status": {k: by_status[k] for k in STATUS_ORDER if k in by_status},
        "usd_per_hour": round(total, 2),
        "saved": {
            "remediations": {"count": remediated["n"], "usd_per_hour": round(remediated["usd"], 2)},
            "acknowledged_then_stopped": {"count": stopped["n"], "usd_per_hour": round(stopped["usd"], 2)},
            "usd_per_hour": round(remediated["usd"] + stopped["usd"], 2),
        },
        "top": [
            {
                "id": str(r["id"]),
                "usd_per_hour": round(r["estimated_hourly_usd"], 2),
                "summary": r["summary"],
                "status": r["status"],
            }
            for r in top
        ],
    }


def render(summary: dict, dashboard_url: str | None) -> dict:
    """``{"text", "blocks"}`` for Slack."""
    from dd0c_cost.notify.message import escape_mrkdwn, format_rate

    day = summary["day"]
    if not summary["anomalies"]:
        text = f"dd0c/cost daily digest for {day}: no cost anomalies."
    else:
        text = (
            f"dd0c/cost daily digest for {day}: {summary['anomalies']} anomal{'y' if summary['anomalies'] == 1 else 'ies'}"
            f" worth {format_rate(summary['usd_per_hour'])}; saved {format_rate(summary['saved']['usd_per_hour'])}."
        )
    statuses = " · ".join(f"{k.replace('_', ' ')} {v['count']}" for k, v in summary["by_status"].items()) or "none"
    saved = summary["saved"]
    lines = [
        f"*Anomalies*: {summary['anomalies']} ({statuses})",
        f"*Spend they represent*: {format_rate(summary['usd_per_hour'])}",
        f"*Saved*: {format_rate(saved['usd_per_hour'])} — {saved['remediations']['count']} remediated from Slack, "
        f"{saved['acknowledged_then_stopped']['count']} acknowledged and then stopped",
    ]
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"📊 Cost anomalies, {day}", "emoji": True}},
        {"type": "section", "block_id": "digest_summary", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
    ]
    if summary["top"]:
        top = "\n".join(
            f"• {format_rate(t['usd_per_hour'])} — {escape_mrkdwn(t['summary'][:200])} _({t['status'].replace('_', ' ')})_"
            for t in summary["top"]
        )
        blocks.append(
            {"type": "section", "block_id": "digest_top", "text": {"type": "mrkdwn", "text": "*Largest*\n" + top}}
        )
    if dashboard_url:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{dashboard_url}|Open the dashboard>"}]}
        )
    return {"text": text, "blocks": blocks}


def post_digest(conn: Connection, tenant_id: UUID, settings: Settings, *, day: date | None = None) -> dict:
    """Post the tenant's digest for ``day`` (default: yesterday on its clock), once. Returns
    ``{"day", "delivery", "posted", "summary"}``."""
    from dd0c_cost.notify import delivery, store
    from dd0c_cost.notify.slack import SlackNotifyError, get_notifier

    with tenant_transaction(conn, tenant_id):
        day = day or yesterday(conn)
        existing = conn.execute(
            "SELECT summary, delivery FROM dd0c.digests WHERE tenant_id = %s AND day = %s", [tenant_id, day]
        ).fetchone()
        if existing is not None:
            return {
                "day": day.isoformat(),
                "delivery": existing["delivery"],
                "posted": False,
                "summary": existing["summary"],
            }
        summary = summarize(conn, day)
        workspace = delivery.workspace_for(conn, tenant_id, settings)
        routes = store.list_routes(conn)
    message = render(summary, settings.dashboard_url)
    channel = next((r.channel for r in routes if r.kind == "default"), None)
    posted = None
    if isinstance(workspace, delivery.NoWorkspace):
        outcome = f"undelivered:{workspace.reason}"
    elif not (target := channel or workspace.default_channel):
        outcome = "undelivered:no_route"
    else:
        try:
            posted = get_notifier().post_text(
                workspace,
                target,
                message["text"],
                blocks=message["blocks"],
                kind="digest",
            )
            outcome = posted.destination
        except SlackNotifyError as exc:
            if exc.retryable:
                raise
            outcome = f"undelivered:slack:{exc.error}"
    with tenant_transaction(conn, tenant_id):
        conn.execute(
            """INSERT INTO dd0c.digests (tenant_id, day, summary, delivery, slack_channel, slack_ts)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, day) DO NOTHING""",
            [
                tenant_id,
                day,
                Jsonb(json.loads(json.dumps(summary))),
                outcome,
                posted.channel if posted else None,
                posted.ts if posted else None,
            ],
        )
    return {"day": day.isoformat(), "delivery": outcome, "posted": posted is not None, "summary": summary}


# Listing every tenant crosses tenants (dd0c.all_tenant_ids, migration 019): only the digest
# function's login is a member of this role.
DIGEST_ROLE = "dd0c_digest"


def post_all(conn: Connection, settings: Settings) -> dict:
    """The schedule: every tenant's digest for its own yesterday; one tenant's failure is logged
    and counted, never stops the others. ``conn`` is a ``DIGEST_ROLE`` connection."""
    with conn.transaction():
        tenants = [r["t"] for r in conn.execute("SELECT dd0c.all_tenant_ids() AS t").fetchall()]
    counts = {"tenants": len(tenants), "posted": 0, "already": 0, "undelivered": 0, "failed": 0}
    for tenant_id in tenants:
        try:
            result = post_digest(conn, tenant_id, settings)
        except Exception:
            logger.exception("digest failed for tenant %s", tenant_id)
            counts["failed"] += 1
            continue
        if result["posted"]:
            counts["posted"] += 1
        elif result["delivery"].startswith("undelivered"):
            counts["undelivered"] += 1
        else:
            counts["already"] += 1
    return counts


__all__ = ["post_all", "post_digest", "render", "summarize", "yesterday"]
