"""Anomaly and baseline persistence (inside a tenant transaction)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg.types.json import Jsonb

from dd0c_cost.db.connection import Connection
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus

_ANOMALY_COLUMNS = """id, tenant_id, account_id, region, service, resource_type, resource_ids, event_ids, actor,
    detected_at, score, severity, estimated_hourly_usd, status, summary, components, attributes, snoozed_until"""


def insert_anomaly(conn: Connection, anomaly: Anomaly) -> None:
    conn.execute(
        """INSERT INTO dd0c.anomalies (id, tenant_id, account_id, region, service, resource_type, resource_ids,
               event_ids, actor, detected_at, score, severity, estimated_hourly_usd, status, summary, components,
               attributes)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        [
            anomaly.id,
            anomaly.tenant_id,
            anomaly.account_id,
            anomaly.region,
            anomaly.service,
            anomaly.resource_type,
            anomaly.resource_ids,
            anomaly.event_ids,
            anomaly.actor,
            anomaly.detected_at,
            anomaly.score,
            anomaly.severity.value,
            anomaly.estimated_hourly_usd,
            anomaly.status.value,
            anomaly.summary,
            Jsonb([c.model_dump() for c in anomaly.components]),
            Jsonb(anomaly.attributes),
        ],
    )


def _to_anomaly(row: dict) -> Anomaly:
    return Anomaly.model_validate(row)


def get_anomaly(conn: Connection, anomaly_id: UUID) -> Anomaly | None:
    row = conn.execute(f"SELECT {_ANOMALY_COLUMNS} FROM dd0c.anomalies WHERE id = %s", [anomaly_id]).fetchone()
    return _to_anomaly(row) if row else None


def list_anomalies(conn: Connection, *, limit: int = 100, status: str | None = None) -> list[Anomaly]:
    if status:
        rows = conn.execute(
            f"SELECT {_ANOMALY_COLUMNS} FROM dd0c.anomalies WHERE status = %s ORDER BY detected_at DESC, id LIMIT %s",
            [status, limit],
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_ANOMALY_COLUMNS} FROM dd0c.anomalies ORDER BY detected_at DESC, id LIMIT %s", [limit]
        ).fetchall()
    return [_to_anomaly(r) for r in rows]


def set_status(
    conn: Connection, anomaly_id: UUID, status: AnomalyStatus, *, by: str, snoozed_until: datetime | None = None
) -> Anomaly | None:
    row = conn.execute(
        f"""UPDATE dd0c.anomalies SET status = %s, status_changed_by = %s, snoozed_until = %s,
                revision = revision + 1, updated_at = now()
            WHERE id = %s RETURNING {_ANOMALY_COLUMNS}""",
        [status.value, by, snoozed_until, anomaly_id],
    ).fetchone()
    return _to_anomaly(row) if row else None


def tenant_settings(conn: Connection, tenant_id: UUID) -> dict:
    """The tenant's scoring overrides (NULL/absent = default), inside a tenant transaction."""
    from dd0c_cost.scoring.config import TENANT_SETTING_COLUMNS

    row = conn.execute(
        f"SELECT {', '.join(TENANT_SETTING_COLUMNS)} FROM dd0c.tenant_settings WHERE tenant_id = %s", [tenant_id]
    ).fetchone()
    return {k: v for k, v in (row or {}).items() if v is not None}


def set_tenant_settings(conn: Connection, tenant_id: UUID, *, by: str, **values: float | None) -> dict:
    """Set (a value) or reset (None) scoring overrides; unknown names are refused. Returns the overrides."""
    from dd0c_cost.scoring.config import DEFAULT_CONFIG, TENANT_SETTING_COLUMNS

    unknown = set(values) - set(TENANT_SETTING_COLUMNS)
    if unknown:
        raise ValueError(f"not tenant scoring settings: {sorted(unknown)}")
    DEFAULT_CONFIG.with_overrides(values)  # validates the values
    conn.execute("INSERT INTO dd0c.tenant_settings (tenant_id) VALUES (%s) ON CONFLICT DO NOTHING", [tenant_id])
    if values:
        assignments = ", ".join(f"{name} = %s" for name in values)
        conn.execute(
            f"UPDATE dd0c.tenant_settings SET {assignments}, updated_by = %s, updated_at = now() WHERE tenant_id = %s",
            [*values.values(), by, tenant_id],
        )
    return tenant_settings(conn, tenant_id)
