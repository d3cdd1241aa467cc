"""The usage path's SQL (migration 016), always inside a tenant transaction (RLS) except the
schedule's fan-out door ``usage_poll_targets``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from uuid import UUID

import orjson
from psycopg.types.json import Jsonb

from dd0c_cost.db.connection import Connection
from dd0c_cost.scoring import store as anomaly_store
from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.usage.billing import Cursor, RatePoint

MAX_EVENT_IDS = 50


@dataclass(frozen=True)
class UsageSettings:
    enabled: bool = True
    cost_explorer: bool = False
    ce_monthly_call_cap: int = 1000
    alert_score: float = 0.5
    alert_floor_usd_per_hour: float = 1.0


SETTING_NAMES = tuple(f.name for f in fields(UsageSettings))


def poll_targets(conn: Connection) -> list[tuple[UUID, str]]:
    """Every (tenant, account) to poll: needs a ``poller.FANOUT_ROLE`` connection (migration 019)."""
    with conn.transaction():
        rows = conn.execute("SELECT tenant_id, account_id FROM dd0c.usage_poll_targets()").fetchall()
    return [(r["tenant_id"], r["account_id"]) for r in rows]


def settings(conn: Connection, tenant_id: UUID) -> UsageSettings:
    row = conn.execute(
        f"SELECT {', '.join(SETTING_NAMES)} FROM dd0c.usage_settings WHERE tenant_id = %s", [tenant_id]
    ).fetchone()
    return UsageSettings(**row) if row else UsageSettings()


def set_settings(conn: Connection, tenant_id: UUID, *, by: str, **values) -> UsageSettings:
    unknown = set(values) - set(SETTING_NAMES)
    if unknown:
        raise ValueError(f"not usage settings: {sorted(unknown)}")
    conn.execute("INSERT INTO dd0c.usage_settings (tenant_id) VALUES (%s) ON CONFLICT DO NOTHING", [tenant_id])
    if values:
        assignments = ", ".join(f"{name} = %s" for name in values)
        conn.execute(
            f"UPDATE dd0c.usage_settings SET {assignments}, updated_by = %s, updated_at = now() WHERE tenant_id = %s",
            [*values.values(), by, tenant_id],
        )
    return settings(conn, tenant_id)


def external_id(conn: Connection, account_id: str) -> str | None:
    row = conn.execute(
        "SELECT external_id FROM dd0c.connected_accounts WHERE account_id = %s AND approved_at IS NOT NULL",
        [account_id],
    ).fetchone()
    return row["external_id"] if row else None


@dataclass
class SeriesRow:
    service: str
    cursor: Cursor
    detector: dict | None
    points: int


def lock_series(conn: Connection, tenant_id: UUID, account_id: str, source: str) -> dict[str, SeriesRow]:
    """The account's series of one source, locked for this poll (a concurrent poll of the same
    account waits, then sees the moved cursors and adds nothing)."""
    rows = conn.execute(
        """SELECT service, currency, last_at, last_cumulative, detector, points FROM dd0c.usage_series
           WHERE tenant_id = %s AND account_id = %s AND source = %s ORDER BY service FOR UPDATE""",
        [tenant_id, account_id, source],
    ).fetchall()
    return {
        r["service"]: SeriesRow(
            r["service"], Cursor(r["last_at"], r["last_cumulative"], r["currency"]), r["detector"], r["points"]
        )
        for r in rows
    }


def save_series(
    conn: Connection,
    tenant_id: UUID,
    account_id: str,
    source: str,
    service: str,
    cursor: Cursor,
    detector: dict | None,
    *,
    rate: float | None,
    baseline: float | None,
    added: int,
) -> None:
    conn.execute(
        """INSERT INTO dd0c.usage_series AS s (tenant_id, account_id, source, service, currency, last_at,
               last_cumulative, rate_per_hour, baseline_per_hour, detector, points)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, account_id, source, service) DO UPDATE SET
               currency = EXCLUDED.currency, last_at = EXCLUDED.last_at, last_cumulative = EXCLUDED.last_cumulative,
               rate_per_hour = coalesce(EXCLUDED.rate_per_hour, s.rate_per_hour),
               baseline_per_hour = coalesce(EXCLUDED.baseline_per_hour, s.baseline_per_hour),
               detector = EXCLUDED.detector, points = s.points + EXCLUDED.points, updated_at = now()""",
        [
            tenant_id,
            account_id,
            source,
            service,
            cursor.currency,
            cursor.at,
            cursor.cumulative,
            rate,
            baseline,
            Jsonb(detector) if detector is not None else None,
            added,
        ],
    )


def insert_points(
    conn: Connection,
    tenant_id: UUID,
    account_id: str,
    source: str,
    service: str,
    points: list[tuple[RatePoint, float | None]],
) -> int:
    """Rate points with their scores, by natural key; returns how many were new."""
    if not points:
        return 0
    cur = conn.execute(
        """INSERT INTO dd0c.usage_points (tenant_id, account_id, source, service, at, currency, kind, cumulative,
               hours, rate_per_hour, score, note)
           SELECT %s, %s, %s, %s, v.at, v.currency, v.kind, v.cumulative, v.hours, v.rate, v.score, v.note
           FROM jsonb_to_recordset(%s::jsonb) AS v(at timestamptz, currency text, kind text, cumulative float8,
                hours float8, rate float8, score float8, note text)
           ON CONFLICT DO NOTHING""",
        [
            tenant_id,
            account_id,
            source,
            service,
            orjson.dumps(
                [
                    {
                        "at": p.at.isoformat(),
                        "currency": p.currency,
                        "kind": p.kind,
                        "cumulative": p.cumulative,
                        "hours": p.hours,
                        "rate": p.rate_per_hour,
                        "score": score,
                        "note": p.note or None,
                    }
                    for p, score in points
                ]
            ).decode(),
        ],
    )
    return cur.rowcount


def take_call(conn: Connection, tenant_id: UUID, month: datetime, api: str, cap: int) -> bool:
    """Count one paid call before making it; False (and counted as refused) past the cap."""
    conn.execute(
        "INSERT INTO dd0c.usage_api_calls (tenant_id, month, api) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        [tenant_id, month.date(), api],
    )
    row = conn.execute(
        """UPDATE dd0c.usage_api_calls SET calls = calls + 1
           WHERE tenant_id = %s AND month = %s AND api = %s AND calls < %s RETURNING calls""",
        [tenant_id, month.date(), api, cap],
    ).fetchone()
    if row is None:
        conn.execute(
            "UPDATE dd0c.usage_api_calls SET refused = refused + 1 WHERE tenant_id = %s AND month = %s AND api = %s",
            [tenant_id, month.date(), api],
        )
        return False
    return True


def api_calls(conn: Connection, tenant_id: UUID) -> list[dict]:
    return conn.execute(
        "SELECT month, api, calls, refused FROM dd0c.usage_api_calls WHERE tenant_id = %s ORDER BY month, api",
        [tenant_id],
    ).fetchall()


def record_poll(
    conn: Connection,
    tenant_id: UUID,
    account_id: str,
    hour: datetime,
    status: str,
    *,
    samples: int,
    anomalies: int,
    detail: dict,
) -> None:
    conn.execute(
        """INSERT INTO dd0c.usage_polls AS p (tenant_id, account_id, hour, status, samples, anomalies, detail)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, account_id, hour) DO UPDATE SET status = EXCLUDED.status,
               samples = p.samples + EXCLUDED.samples, anomalies = p.anomalies + EXCLUDED.anomalies,
               detail = p.detail || EXCLUDED.detail, polled_at = now()""",
        [tenant_id, account_id, hour, status, samples, anomalies, Jsonb(detail)],
    )


# --- anomalies: the same table, grouping and notify path as the event scorer ---------------------
def open_usage_anomaly(
    conn: Connection, account_id: str, service: str, since: datetime
) -> tuple[Anomaly, int, int] | None:
    """The series' open usage anomaly raised since ``since`` (a rise that continues grows it)."""
    row = conn.execute(
        f"""SELECT {anomaly_store._ANOMALY_COLUMNS}, revision, notified_revision FROM dd0c.anomalies
            WHERE account_id = %s AND resource_type = 'usage' AND service = %s
              AND status IN ('open', 'acknowledged') AND detected_at >= %s
            ORDER BY detected_at DESC LIMIT 1 FOR UPDATE""",
        [account_id, service, since],
    ).fetchone()
    if row is None:
        return None
    revision, notified = row.pop("revision"), row.pop("notified_revision")
    return Anomaly.model_validate(row), revision, notified


def insert_anomaly(conn: Connection, anomaly: Anomaly) -> None:
    anomaly_store.insert_anomaly(conn, anomaly)


def grow_anomaly(conn: Connection, anomaly: Anomaly, event_id: str) -> tuple[Anomaly, int, int]:
    row = conn.execute(
        f"""UPDATE dd0c.anomalies SET
                event_ids = CASE WHEN %(e)s = ANY(event_ids) OR cardinality(event_ids) >= {MAX_EVENT_IDS}
                                 THEN event_ids ELSE event_ids || %(e)s END,
                detected_at = GREATEST(detected_at, %(at)s), score = GREATEST(score, %(score)s),
                severity = %(severity)s, estimated_hourly_usd = GREATEST(estimated_hourly_usd, %(usd)s),
                summary = %(summary)s, components = %(components)s, attributes = attributes || %(attributes)s,
                revision = revision + CASE WHEN status IN ('open', 'acknowledged') THEN 1 ELSE 0 END,
                updated_at = now()
            WHERE id = %(id)s
            RETURNING {anomaly_store._ANOMALY_COLUMNS}, revision, notified_revision""",
        {
            "e": event_id,
            "at": anomaly.detected_at,
            "score": anomaly.score,
            "severity": anomaly.severity.value,
            "usd": anomaly.estimated_hourly_usd,
            "summary": anomaly.summary,
            "components": Jsonb([c.model_dump() for c in anomaly.components]),
            "attributes": Jsonb(anomaly.attributes),
            "id": anomaly.id,
        },
    ).fetchone()
    revision, notified = row.pop("revision"), row.pop("notified_revision")
    return Anomaly.model_validate(row), revision, notified


def unnotified_usage_anomalies(conn: Connection, account_id: str, since: datetime) -> list[tuple[UUID, int]]:
    """Usage anomalies of the account whose newest revision was never handed to notify (a crash
    between commit and send): the next poll sends them again (notify drops what it has posted)."""
    rows = conn.execute(
        """SELECT id, revision FROM dd0c.anomalies
           WHERE account_id = %s AND resource_type = 'usage' AND detected_at >= %s AND revision > notified_revision
             AND status IN ('open', 'acknowledged')""",
        [account_id, since],
    ).fetchall()
    return [(r["id"], r["revision"]) for r in rows]
