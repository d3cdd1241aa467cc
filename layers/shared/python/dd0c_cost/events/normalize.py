"""Normalisation: one ingest message in, one outcome out (cost event, not cost-relevant, or
rejected with a reason)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson
import psycopg

from dd0c_cost import catalogue
from dd0c_cost.db.connection import Connection, tenant_for_account, tenant_transaction
from dd0c_cost.events import documents, store
from dd0c_cost.events.actor import actor_from_record
from dd0c_cost.events.cloudtrail import (
    CloudTrailEvent,
    RecordRejected,
    RejectReason,
    parse,
)
from dd0c_cost.events.models import CostAction, CostEvent, IngestMessage
from dd0c_cost.pricing.quote import to_price_quote
from dd0c_cost.sizing import describers as sizing_describers
from dd0c_cost.sizing import store as sizing_store

HOURS_PER_MONTH = 730
MAX_QUANTITY = catalogue.MAX_QUANTITY  # quantities above are clamped (with a warning in the attributes)

# Why a valid record is not a cost event.
FAILED_CALL = "failed_call"  # errorCode set (incl. Client.DryRunOperation): nothing was created
NOT_IN_CATALOGUE = "not_in_catalogue"
NO_BILLABLE_CHANGE = "no_billable_change"  # a modify call that touched no priced attribute

_INHERITABLE = frozenset({CostAction.CREATE, CostAction.START, CostAction.MODIFY})
_SIGN = {
    CostAction.CREATE: 1.0,
    CostAction.START: 1.0,
    CostAction.MODIFY: 1.0,
    CostAction.STOP: -1.0,
    CostAction.DELETE: -1.0,
}


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
    # resources sized before the history began, to ask the account about (sizing queue)
    sizing: tuple[sizing_store.Key, list[str]] | None = None


def parse_ingest_body(body: str | bytes) -> IngestMessage:
    """An ingest-queue body: our own IngestMessage, or the bare envelope EventBridge sends. The
    record comes out storable (``documents.clean_record``: depth checked, NUL escaped)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        problem = documents._problem_of(raw, exc)
        detail = f"message body is not JSON: {exc}" if problem.reason == "malformed_json" else problem.detail
        raise RecordRejected(RejectReason(problem.reason), detail) from None
    if isinstance(value, dict) and "record" in value and "eventSource" not in value and "detail-type" not in value:
        try:
            message = IngestMessage.model_validate(value)
        except ValueError as exc:
            raise RecordRejected(RejectReason.MALFORMED_MESSAGE, str(exc).splitlines()[0]) from None
    else:
        message = IngestMessage(record=value)
    if documents.may_need_cleaning(body):
        try:
            message = message.model_copy(update={"record": documents.clean_record(message.record)})
        except documents.RecordProblem as problem:
            raise RecordRejected(RejectReason(problem.reason), problem.detail) from None
    return message


Lookup = Callable[[str, list[str], datetime], dict]


class MemoryHistory:
    """In-memory stand-in for :func:`store.inherited_attributes` (replays and tests without a
    database): the attributes of each resource's latest earlier create/start/modify cost event."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], list[tuple[datetime, dict]]] = {}

    def __call__(self, resource_type: str, resource_ids: list[str], before: datetime) -> dict:
        best: tuple[datetime, dict] | None = None
        for rid in resource_ids:
            for when, attrs in self._events.get((resource_type, rid), ()):
                if when <= before and (best is None or when > best[0]):
                    best = (when, attrs)
        return dict(best[1]) if best else {}

    def record(self, event: CostEvent) -> None:
        if event.action in _INHERITABLE and event.attributes:
            for rid in event.resource_ids:
                self._events.setdefault((event.resource_type, rid), []).append(
                    (event.event_time, dict(event.attributes))
                )


def classify(event: CloudTrailEvent) -> tuple[catalogue.CatalogueEntry | None, str | None, str | None]:
    """(entry, None, None) for a call to price, else (None, reason, detail): why it is not cost-relevant."""
    if event.failed:
        return None, FAILED_CALL, event.error_code
    entry = catalogue.lookup(event.event_source, event.event_name)
    if entry is None:
        return None, NOT_IN_CATALOGUE, None
    if not entry.describes_change(event.raw):
        return None, NO_BILLABLE_CHANGE, f"{event.event_name} changed no priced attribute"
    return entry, None, None


def build_cost_event(
    tenant_id: UUID,
    event: CloudTrailEvent,
    entry: catalogue.CatalogueEntry,
    book,
    conn: Connection | None,
    *,
    history: Lookup | None = None,
) -> CostEvent:
    """Read, inherit and price one catalogued call. Inherited sizing comes from ``history`` if
    given, else from the database if ``conn`` is given, else nowhere (pure use)."""
    record = event.raw
    reading = entry.read(record)
    attributes = reading.attributes

    inherited: dict[str, Any] = {}
    if entry.inherit_attributes and reading.inherit_ids:
        lookup = history
        if lookup is None and conn is not None:

            def lookup(resource_type, ids, before):
                return store.inherited_attributes(conn, resource_type, ids, before)

        if lookup is not None:
            inherited = entry.inheritable(lookup(entry.inherits_from_type, reading.inherit_ids, event.event_time))
        if history is None and conn is not None:
            inherited = _with_account_answer(conn, event, entry, reading.inherit_ids, inherited)

    pricer = entry.price
    if entry.action is CostAction.MODIFY:
        before = dict(reading.previous)
        for name, value in inherited.items():
            before.setdefault(name, value)
        changed = attributes
        attributes = {**before, **changed}
        if catalogue.ASSUMED_KEY in attributes:  # a value stated now is no longer assumed
            still = [n for n in attributes[catalogue.ASSUMED_KEY] if n not in changed]
            if still:
                attributes[catalogue.ASSUMED_KEY] = still
            else:
                del attributes[catalogue.ASSUMED_KEY]
        quote = pricer.change(book, event.region, before, attributes) if pricer else None
    else:
        for name, value in inherited.items():
            attributes.setdefault(name, value)
        quote = pricer.quote(book, event.region, attributes) if pricer else None
    if reading.warnings:
        attributes[catalogue.WARNINGS_KEY] = reading.warnings

    unit_price = to_price_quote(quote) if quote is not None else None
    unit = unit_price.usd_per_hour if unit_price is not None else None
    quantity = reading.quantity
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
        resource_ids=reading.resource_ids,
        action=entry.action,
        quantity=quantity,
        attributes=attributes,
        unit_price=unit_price,
        estimated_usd_per_hour=hourly,
        estimated_usd_per_month=None if hourly is None else round(hourly * HOURS_PER_MONTH, 2),
        price_unknown=hourly is None,
    )


def _with_account_answer(
    conn: Connection, event: CloudTrailEvent, entry: catalogue.CatalogueEntry, ids: list[str], inherited: dict
) -> dict:
    """No earlier event sized the resource: the account's own answer, if the sizing function
    cached one (``dd0c_cost.sizing``), fills what the history lacks."""
    describer = sizing_describers.DESCRIBERS.get(entry.inherits_from_type)
    if describer is None or any(inherited.get(k) not in (None, "") for k in describer.sizing_keys):
        return inherited
    key = sizing_store.Key(event.account_id, event.region, entry.inherits_from_type)
    answer = entry.inheritable(sizing_store.cached_sizes(conn, key, ids))
    return {**answer, **inherited} if answer else inherited


def sizing_wanted(entry: catalogue.CatalogueEntry, cost_event: CostEvent) -> list[str]:
    """The resources to ask the account about for this event (``sizing.describers.wanted``)."""
    if not cost_event.price_unknown or entry.inherits_from_type != entry.resource_type:
        return []
    return sizing_describers.wanted(
        cost_event.action, entry.resource_type, entry.inherit_attributes, cost_event.attributes, cost_event.resource_ids
    )


_SHARED_OUTCOMES: dict[tuple[str | None, str | None], NormalizeOutcome] = {}


def _not_cost_relevant(reason: str | None, detail: str | None) -> NormalizeOutcome:
    # Outcomes are frozen, so the few distinct (reason, detail) pairs of the hot path are shared.
    key = (reason, detail)
    outcome = _SHARED_OUTCOMES.get(key)
    if outcome is None:
        outcome = NormalizeOutcome(OutcomeKind.NOT_COST_RELEVANT, reason, detail)
        if len(_SHARED_OUTCOMES) < 1024:
            _SHARED_OUTCOMES[key] = outcome
    return outcome


_NOT_IN_CATALOGUE = _not_cost_relevant(NOT_IN_CATALOGUE, None)
_CATALOGUE_GET = catalogue.CATALOGUE.get


def normalize_record(
    obj: Any, tenant_id: UUID, book, history: MemoryHistory | Lookup | None = None
) -> NormalizeOutcome:
    """The pure normaliser: parse, validate, catalogue, price and build, with no database (no
    tenant lookup, nothing stored, nothing forwarded). ``history`` supplies inherited sizing; a
    :class:`MemoryHistory` also records each cost event built, so feed records in event-time order."""
    try:
        event = parse(obj)
    except RecordRejected as rejected:
        return NormalizeOutcome(OutcomeKind.REJECTED, rejected.reason.value, rejected.detail)
    # classify(), inlined: this is the path almost every record of a replayed log file takes.
    if event.error_code is not None:
        return _not_cost_relevant(FAILED_CALL, event.error_code)
    entry = _CATALOGUE_GET((event.event_source, event.event_name))
    if entry is None:
        return _NOT_IN_CATALOGUE
    if not entry.describes_change(event.raw):
        return _not_cost_relevant(NO_BILLABLE_CHANGE, f"{event.event_name} changed no priced attribute")
    cost_event = build_cost_event(tenant_id, event, entry, book, None, history=history)
    if isinstance(history, MemoryHistory):
        history.record(cost_event)
    return NormalizeOutcome(OutcomeKind.COST_EVENT, cost_event=cost_event)


def normalize(message: IngestMessage, conn: Connection, book) -> NormalizeOutcome:
    """Validate, attribute to a tenant, price and persist one record."""
    try:
        event = parse(message.record)
        tenant_id = tenant_for_account(conn, event.account_id)
        if tenant_id is None:
            raise RecordRejected(
                RejectReason.UNKNOWN_ACCOUNT, f"account {event.account_id} is not connected to any tenant"
            )
        if message.tenant_id is not None and message.tenant_id != tenant_id:
            raise RecordRejected(
                RejectReason.ACCOUNT_NOT_CONNECTED, f"account {event.account_id} is not connected to this tenant"
            )
    except RecordRejected as rejected:
        return NormalizeOutcome(OutcomeKind.REJECTED, rejected.reason.value, rejected.detail)

    entry, reason, detail = classify(event)
    if entry is None:
        return NormalizeOutcome(OutcomeKind.NOT_COST_RELEVANT, reason, detail)

    try:
        with tenant_transaction(conn, tenant_id):
            cost_event = build_cost_event(tenant_id, event, entry, book, conn)
            stored = store.insert_cost_event(conn, cost_event)
            store.touch_account(conn, event.account_id, event.event_time)
            sizing = _sizing_request(conn, entry, cost_event, event.raw, new=stored.inserted)
    except psycopg.errors.DataError as exc:
        # A value PostgreSQL refuses (class 22, data exception) is bad input, not a fault: the
        # same record fails the same way on every delivery, so it is rejected alone, by name.
        return NormalizeOutcome(OutcomeKind.REJECTED, RejectReason.UNSTORABLE.value, str(exc).splitlines()[0])
    except (ValueError, TypeError) as exc:  # pydantic and the catalogue's readers: the record's values
        return NormalizeOutcome(OutcomeKind.REJECTED, RejectReason.INVALID_VALUE.value, str(exc).splitlines()[0][:500])
    if not stored.inserted:
        # Stored before but never scored (a crash between commit and send): send it again;
        # the scorer's own once-only guard makes that safe.
        return NormalizeOutcome(
            OutcomeKind.REJECTED,
            RejectReason.DUPLICATE.value,
            f"eventID {event.event_id} already processed",
            cost_event=cost_event,
            forward=not stored.scored,
            sizing=sizing,
        )
    return NormalizeOutcome(OutcomeKind.COST_EVENT, cost_event=cost_event, forward=True, sizing=sizing)


def _sizing_request(
    conn: Connection, entry: catalogue.CatalogueEntry, cost_event: CostEvent, record: dict, *, new: bool
) -> tuple[sizing_store.Key, list[str]] | None:
    """A new unpriced stop/start/delete of resources no earlier event sized: recorded (natural
    key) for the sizing function. A redelivered one: what it still waits for, to send again."""
    if not new:
        return sizing_store.waiting_request(conn, cost_event.event_id)
    ids = sizing_wanted(entry, cost_event)
    if not ids:
        return None
    key = sizing_store.Key(cost_event.account_id, cost_event.region, entry.resource_type)
    pending = sizing_store.request(conn, cost_event.tenant_id, key, ids, cost_event.event_id, record)
    return (key, pending) if pending else None
