"""Spend rates: the tenant's current estimated $/h by service, account or region, an hourly
spend-rate series (the level the scorer tracks: the running sum of the cost events' signed
changes), and the baselines per series with their statistics."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from dd0c_cost.dashboard.models import BaselineView, SpendGroup, SpendNow, SpendPoint, SpendSeries
from dd0c_cost.db.connection import Connection

_COLUMN = {"service": "service", "account": "account_id", "region": "region"}
MAX_POINTS = 24 * 92  # hourly points in one answer (a quarter)


def _clock(conn: Connection) -> datetime | None:
    from dd0c_cost.governance import tenant_clock

    return tenant_clock(conn)


def spend_now(conn: Connection, by: str) -> SpendNow:
    column = _COLUMN[by]
    rows = conn.execute(
        f"""SELECT {column} AS key, sum(estimated_usd_per_hour) AS usd FROM dd0c.cost_events
            WHERE estimated_usd_per_hour IS NOT NULL GROUP BY {column}"""
    ).fetchall()
    groups = sorted(
        (SpendGroup(key=r["key"], usd_per_hour=round(max(0.0, r["usd"] or 0.0), 6)) for r in rows),
        key=lambda g: (-g.usd_per_hour, g.key),
    )
    return SpendNow(
        at=_clock(conn), total_usd_per_hour=round(sum(g.usd_per_hour for g in groups), 6), by=by, groups=groups
    )


def spend_series(
    conn: Connection, *, by: str | None, key: str | None, start: datetime | None, end: datetime | None
) -> SpendSeries:
    """Hourly level ($/h at the end of each hour) from ``start`` to ``end`` (default: the last 14
    days of the tenant's clock)."""
    where, params = ["estimated_usd_per_hour IS NOT NULL"], []
    if by is not None:
        where.append(f"{_COLUMN[by]} = %s")
        params.append(key)
    end = end or _clock(conn) or datetime.now().astimezone()
    start = start or end - timedelta(days=14)
    if end <= start:
        raise ValueError("end must be after start")
    start_h = start.replace(minute=0, second=0, microsecond=0)
    hours = math.ceil((end - start_h).total_seconds() / 3600)
    if hours > MAX_POINTS:
        raise ValueError(f"at most {MAX_POINTS} hourly points per request; narrow the range")
    clause = " AND ".join(where)
    before = conn.execute(
        f"SELECT coalesce(sum(estimated_usd_per_hour), 0) AS usd FROM dd0c.cost_events WHERE {clause} AND event_time < %s",
        [*params, start_h],
    ).fetchone()["usd"]
    deltas = conn.execute(
        f"""SELECT date_trunc('hour', event_time) AS h, sum(estimated_usd_per_hour) AS usd FROM dd0c.cost_events
            WHERE {clause} AND event_time >= %s AND event_time < %s GROUP BY 1 ORDER BY 1""",
        [*params, start_h, start_h + timedelta(hours=hours)],
    ).fetchall()
    by_hour = {r["h"]: r["usd"] for r in deltas}
    level = before
    points = []
    for i in range(hours):
        t = start_h + timedelta(hours=i)
        level += by_hour.get(t, 0.0)
        points.append(SpendPoint(t=t, usd_per_hour=round(max(0.0, level), 6)))
    a_where, a_params = ["detected_at >= %s", "detected_at < %s"], [start_h, start_h + timedelta(hours=hours)]
    if by is not None:
        a_where.append(f"{_COLUMN[by]} = %s")
        a_params.append(key)
    marks = conn.execute(
        f"""SELECT id, detected_at AS t, severity, estimated_hourly_usd AS usd_per_hour, summary, status
            FROM dd0c.anomalies WHERE {" AND ".join(a_where)} ORDER BY detected_at LIMIT 500""",
        a_params,
    ).fetchall()
    anomalies = [{**m, "id": str(m["id"]), "t": m["t"].isoformat()} for m in marks]
    return SpendSeries(
        by=by, key=key, start=start_h, end=start_h + timedelta(hours=hours), points=points, anomalies=anomalies
    )


def baselines(conn: Connection, *, limit: int = 200) -> list[BaselineView]:
    rows = conn.execute(
        """SELECT series_key, level_usd_per_hour, mean, m2, n, weight, first_event_at, last_event_at
           FROM dd0c.spend_baselines ORDER BY level_usd_per_hour DESC, series_key LIMIT %s""",
        [limit],
    ).fetchall()
    return [
        BaselineView(
            series_key=r["series_key"],
            level_usd_per_hour=round(r["level_usd_per_hour"], 6),
            mean_usd_per_hour=round(r["mean"], 6),
            stddev_usd_per_hour=round(math.sqrt(r["m2"] / r["weight"]) if r["weight"] > 0 else 0.0, 6),
            samples=r["n"],
            weight_hours=round(r["weight"], 3),
            first_event_at=r["first_event_at"],
            last_event_at=r["last_event_at"],
        )
        for r in rows
    ]
