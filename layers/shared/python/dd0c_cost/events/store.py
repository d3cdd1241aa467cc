"""Cost-event persistence (runs inside a tenant transaction)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.types.json import Jsonb

from dd0c_cost.db.connection import Connection
from dd0c_cost.events.models import CostEvent


@dataclass(frozen=True)
class StoreResult:
    inserted: bool  # False: this tenant already has this eventID
    scored: bool  # for an existing row: whether the scorer has consumed it


def insert_cost_event(conn: Connection, event: CostEvent) -> StoreResult:
    row = conn.execute(
        """INSERT INTO dd0c.cost_events
             (tenant_id, event_id, account_id, region, event_time, event_source, event_name, service,
              resource_type, resource_ids, action, quantity, actor_arn, actor_name, estimated_usd_per_hour,
              price_unknown, attributes, payload)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT ON CONSTRAINT cost_events_once_per_tenant DO NOTHING
           RETURNING id""",
        [
            event.tenant_id,
            event.event_id,
            event.account_id,
            event.region,
            event.event_time,
            event.event_source,
            event.event_name,
            event.service,
            event.resource_type,
            event.resource_ids,
            event.action.value,
            event.quantity,
            event.actor.principal_arn,
            event.actor.display_name,
            event.estimated_usd_per_hour,
            event.price_unknown,
            Jsonb(event.attributes),
            Jsonb(event.model_dump(mode="json")),
        ],
    ).fetchone()
    if row is not None:
        return StoreResult(inserted=True, scored=False)
    existing = conn.execute(
        "SELECT scored_at FROM dd0c.cost_events WHERE tenant_id = %s AND event_id = %s",
        [event.tenant_id, event.event_id],
    ).fetchone()
    return StoreResult(inserted=False, scored=existing is not None and existing["scored_at"] is not None)


def inherited_attributes(conn: Connection, resource_type: str, resource_ids: list[str], before) -> dict:
    """Sizing of these resources from their latest earlier cost event (event time), if any."""
    if not resource_ids:
        return {}
    row = conn.execute(
        """SELECT attributes FROM dd0c.cost_events
           WHERE resource_type = %s AND resource_ids && %s AND event_time <= %s
             AND action IN ('create', 'start', 'modify') AND attributes <> '{}'::jsonb
           ORDER BY event_time DESC LIMIT 1""",
        [resource_type, resource_ids, before],
    ).fetchone()
    return dict(row["attributes"]) if row else {}


def touch_account(conn: Connection, account_id: str, event_time) -> None:
    conn.execute(
        """UPDATE dd0c.connected_accounts SET last_event_at = %s
           WHERE account_id = %s AND (last_event_at IS NULL OR last_event_at < %s)""",
        [event_time, account_id, event_time],
    )
