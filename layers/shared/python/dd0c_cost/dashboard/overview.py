"""Accounts with event-flow health, and the summary a FinOps lead shows their CFO."""

from __future__ import annotations

from datetime import timedelta

from dd0c_cost.dashboard.models import AccountList, AccountView, Summary
from dd0c_cost.db.connection import Connection

HOURS_PER_MONTH = 730


def accounts(conn: Connection) -> AccountList:
    from dd0c_cost.governance import tenant_clock

    clock = tenant_clock(conn)
    rows = conn.execute(
        """SELECT a.account_id, a.regions, a.approved_at IS NOT NULL AS approved, a.requested_via, a.last_event_at,
                  coalesce(c.day, 0) AS day, coalesce(c.week, 0) AS week
           FROM dd0c.connected_accounts a
           LEFT JOIN LATERAL (
               SELECT count(*) FILTER (WHERE e.event_time > %(clock)s::timestamptz - interval '24 hours') AS day,
                      count(*) AS week
               FROM dd0c.cost_events e
               WHERE e.account_id = a.account_id AND e.event_time > %(clock)s::timestamptz - interval '7 days'
                 AND e.event_time <= %(clock)s::timestamptz) c ON %(clock)s::timestamptz IS NOT NULL
           ORDER BY a.account_id""",
        {"clock": clock},
    ).fetchall()
    out = []
    for r in rows:
        if not r["approved"]:
            flow = "pending"
        elif r["last_event_at"] is None:
            flow = "never"
        elif clock - r["last_event_at"] <= timedelta(hours=24):
            flow = "flowing"
        elif clock - r["last_event_at"] <= timedelta(days=7):
            flow = "quiet"
        else:
            flow = "stale"
        out.append(
            AccountView(
                account_id=r["account_id"],
                regions=r["regions"],
                approved=r["approved"],
                requested_via=r["requested_via"],
                last_event_at=r["last_event_at"],
                events_last_24h=r["day"],
                events_per_day_7d=round(r["week"] / 7, 2),
                flow=flow,
            )
        )
    return AccountList(clock=clock, accounts=out)


def summary(conn: Connection, tenant_id) -> Summary:
    from dd0c_cost import governance
    from dd0c_cost.dashboard.spend import spend_now

    clock = governance.tenant_clock(conn)
    by_severity = dict.fromkeys(("critical", "high", "medium", "low"), 0)
    open_usd = 0.0
    for r in conn.execute(
        """SELECT severity, count(*) AS n, sum(estimated_hourly_usd) AS usd FROM dd0c.anomalies
           WHERE status IN ('open', 'acknowledged') GROUP BY severity"""
    ).fetchall():
        by_severity[r["severity"]] = r["n"]
        open_usd += r["usd"] or 0.0
    caught = {"n": 0, "usd": 0.0}
    saved_usd, saved_n = 0.0, 0
    if clock is not None:
        caught = conn.execute(
            """SELECT count(*) AS n, coalesce(sum(estimated_hourly_usd), 0) AS usd FROM dd0c.anomalies
               WHERE detected_at > %s - interval '30 days'""",
            [clock],
        ).fetchone()
        # anomalies whose resources were stopped or deleted after detection: the rate that stopped,
        # for what was left of 30 days when it stopped (what the bill would otherwise have shown)
        row = conn.execute(
            """SELECT count(*) AS n, coalesce(sum(s.stopped * greatest(0, 720 - extract(epoch FROM s.at - a.detected_at) / 3600)), 0) AS usd
               FROM dd0c.anomalies a
               JOIN LATERAL (
                   SELECT least(a.estimated_hourly_usd, -sum(e.estimated_usd_per_hour)) AS stopped, max(e.event_time) AS at
                   FROM dd0c.cost_events e
                   WHERE e.resource_ids && a.resource_ids AND e.event_time > a.detected_at
                     AND e.action IN ('stop', 'delete') AND e.estimated_usd_per_hour < 0
                   HAVING count(*) > 0) s ON s.stopped > 0
               WHERE a.detected_at > %s - interval '90 days' AND cardinality(a.resource_ids) > 0""",
            [clock],
        ).fetchone()
        saved_usd, saved_n = float(row["usd"]), int(row["n"])
    state = governance.state_at(conn, tenant_id, clock or governance.decision_time(conn))
    return Summary(
        clock=clock,
        open_by_severity=by_severity,
        open_usd_per_hour=round(open_usd, 2),
        caught_usd_per_month=round(float(caught["usd"]) * HOURS_PER_MONTH, 2),
        saved_usd=round(saved_usd, 2),
        saved_anomalies=saved_n,
        anomalies_30d=int(caught["n"]),
        spend_usd_per_hour=spend_now(conn, "service").total_usd_per_hour,
        mode=state.tenant_mode.value,
        panic=state.tenant_panic,
        global_panic=state.global_panic,
    )
