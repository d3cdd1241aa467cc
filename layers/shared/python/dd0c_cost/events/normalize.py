"""Normalisation: one ingest message in, one outcome out (cost event, not cost-relevant, or
rejected with a reason)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson
import psycopg

from dd0c_cost.db.connection import tenant_for_account, tenant_transaction
from dd0c_cost.events import catalogue, store
from dd0c_cost.events.actor import actor_from_record
from dd0c_cost.events.cloudtrail import CloudTrailEvent, RecordRejected, RejectReason, parse
from dd0c_cost.events.models import CostAction, CostEvent, IngestMessage
from dd0c_cost.events.paths import all_of, first

HOURS_PER_MONTH = 730
# Requests above this are clamped: MaxCount 100000 is a typo or an attack, never a real fleet.
MAX_QUANTITY = 10_000

_SIGN = {CostAction.CREATE: 1.0, CostAction.START: 1.0, CostAction.MODIFY: 1.0, CostAction.STOP: -1.0, CostAction.DELETE: -1.0}


class OutcomeKind(StrEnum):
    COST_EVENT = "cost_event"
    NOT_COST_RELEVANT = "not_cost_relevant"
    REJECTED = "rejected"


@dataclass(frozen=True)
class NormalizeOutcome:
    kind: OutcomeKind
    reason: str | None = None
    detail: str | None = None
    cost_event: CostEvent | None = None
    forward: bool = False  # send to the scorer (new, or stored earlier but never scored)


def parse_ingest_body(body: str | bytes) -> IngestMessage:
    """An ingest-queue body: our own IngestMessage, or the bare envelope EventBridge sends."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RecordRejected(RejectReason.MALFORMED_JSON, f"message body is not JSON: {exc}") from None
    if isinstance(value, dict) and "record" in value and "eventSource" not in value and "detail-type" not in value:
        try:
            return IngestMessage.model_validate(value)
        except ValueError as exc:
            raise RecordRejected(RejectReason.MALFORMED_MESSAGE, str(exc).splitlines()[0]) from None
    return IngestMessage(record=value)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def build_cost_event(
    tenant_id: UUID, event: CloudTrailEvent, entry: catalogue.CatalogueEntry, book, conn: psycopg.Connection | None
) -> CostEvent:
    record = event.raw
    resource_ids = [str(r) for r in all_of(record, entry.resource_ids) if isinstance(r, (str, int))]
    quantity = _number(first(record, entry.quantity)) if entry.quantity and not resource_ids else None
    if quantity is None:
        quantity = float(len(resource_ids)) if resource_ids else 1.0
    quantity = min(max(quantity, 0.0), MAX_QUANTITY)

    attributes: dict[str, Any] = {}
    for name, paths in entry.attributes.items():
        value = first(record, paths)
        if value is not None and not isinstance(value, (dict, list)):
            attributes[name] = value
    if entry.inherit_attributes and conn is not None:
        for name, value in store.inherited_attributes(conn, entry.resource_type, resource_ids, event.event_time).items():
            attributes.setdefault(name, value)

    quote = catalogue.PRICERS[entry.pricer](book, event.region, attributes) if entry.pricer else None
    unit = quote.usd_per_hour if quote else None
    hourly = None if unit is None else round(_SIGN[entry.action] * quantity * unit, 6)
    return CostEvent(
        tenant_id=tenant_id,
        account_id=event.account_id,
        region=event.region,
        event_id=event.event_id,
        event_time=event.event_time,
        event_source=event.event_source,
        event_name=event.event_name,
        actor=actor_from_record(record),
        service=entry.service,
        resource_type=entry.resource_type,
        resource_ids=resource_ids,
        action=entry.action,
        quantity=quantity,
        attributes=attributes,
        unit_price=quote,
        estimated_usd_per_hour=hourly,
        estimated_usd_per_month=None if hourly is None else round(hourly * HOURS_PER_MONTH, 2),
        price_unknown=hourly is None,
    )


def normalize(message: IngestMessage, conn: psycopg.Connection, book) -> NormalizeOutcome:
    """Validate, attribute to a tenant, price and persist one record."""
    try:
        event = parse(message.record)
        tenant_id = tenant_for_account(conn, event.account_id)
        if tenant_id is None:
            raise RecordRejected(RejectReason.UNKNOWN_ACCOUNT, f"account {event.account_id} is not connected to any tenant")
        if message.tenant_id is not None and message.tenant_id != tenant_id:
            raise RecordRejected(
                RejectReason.ACCOUNT_NOT_CONNECTED, f"account {event.account_id} is not connected to this tenant"
            )
    except RecordRejected as rejected:
        return NormalizeOutcome(OutcomeKind.REJECTED, rejected.reason.value, rejected.detail)

    if event.failed:
        return NormalizeOutcome(OutcomeKind.NOT_COST_RELEVANT, "failed_call", event.error_code)
    entry = catalogue.lookup(event.event_source, event.event_name)
    if entry is None:
        return NormalizeOutcome(OutcomeKind.NOT_COST_RELEVANT, "not_in_catalogue")

    with tenant_transaction(conn, tenant_id):
        cost_event = build_cost_event(tenant_id, event, entry, book, conn)
        stored = store.insert_cost_event(conn, cost_event)
        store.touch_account(conn, event.account_id, event.event_time)
    if not stored.inserted:
        # Stored before but never scored (a crash between commit and send): send it again;
        # the scorer's own once-only guard makes that safe.
        return NormalizeOutcome(
            OutcomeKind.REJECTED, RejectReason.DUPLICATE.value, f"eventID {event.event_id} already processed",
            cost_event=cost_event, forward=not stored.scored,
        )
    return NormalizeOutcome(OutcomeKind.COST_EVENT, cost_event=cost_event, forward=True)
