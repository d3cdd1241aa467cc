"""The sizing function: one ``sizing`` queue message (an account, a region, a resource type and
the ids one event is waiting for) -> one batched describe call through the account's
``dd0c-reader`` role -> answers cached per tenant -> the waiting events re-priced and sent to the
scorer once.

Per message:

1. in a tenant transaction: the account's ExternalId and up to one call's worth of unanswered
   resources of that account, region and type (the message's own first, then any other waiting:
   one call answers every request queued there);
2. no transaction held: assume ``dd0c-reader`` with the ExternalId and make the describe call
   (by filter: an id the account no longer has is absent, not an error);
3. in a tenant transaction: every id asked is answered (``sized`` with the attributes the
   catalogue prices, or ``not_found``); each event none of whose resources is still unanswered
   is re-priced by the normaliser's own ``build_cost_event`` on its stored CloudTrail record (its
   inheritance now finds the cached answer) and stored as ``<eventID>:sized``, a cost event of its
   own: the original stays as it was scored (unpriced, on its shape) and the scorer's once-only
   claim holds for the new one;
4. after the commit, every re-priced event of that account, region and type not yet scored goes
   to the cost-events queue (dedup: tenant + its event id), so a crash between commit and send is
   repaired by the next message there, and a redelivered message sends nothing the scorer would
   take twice.

What the account answers is never fatal: a denied role or call is recorded (``denied``) and the
message consumed; throttling (after botocore's own retries) is recorded with the next try time
and raised, so SQS retries after the visibility timeout and, past ``max_receive_count``, the
message lands in the DLQ (alarmed). Our own failures (database, bugs) raise too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from uuid import UUID

from pydantic import ConfigDict, Field

from dd0c_cost import outcomes, queues
from dd0c_cost.db.connection import Connection, tenant_transaction
from dd0c_cost.events.models import CostEvent
from dd0c_cost.model import Model
from dd0c_cost.sizing import store
from dd0c_cost.sizing.describers import DESCRIBERS, MAX_IDS_PER_EVENT, Describer
from dd0c_cost.topology_names import COST_EVENTS, SIZING

SESSION_NAME = "dd0c-sizing"
SIZED_SUFFIX = ":sized"


class SizingMessage(Model):
    """The resources one cost event waits for (the sizing queue's message)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: UUID
    account_id: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1, max_length=32)
    resource_type: str = Field(min_length=1, max_length=64)
    resource_ids: list[str] = Field(min_length=1, max_length=MAX_IDS_PER_EVENT)

    @property
    def key(self) -> store.Key:
        return store.Key(self.account_id, self.region, self.resource_type)


def send_request(tenant_id: UUID, key: store.Key, ids: list[str]) -> None:
    """Queue a sizing request (group: account + region, the customer's API limits are per
    account and region; dedup: the request's natural key)."""
    message = SizingMessage(
        tenant_id=tenant_id,
        account_id=key.account_id,
        region=key.region,
        resource_type=key.resource_type,
        resource_ids=ids,
    )
    queues.send(
        SIZING,
        message.model_dump_json(),
        group=f"{key.account_id}:{key.region}",
        deduplication=queues.dedup_id("sizing", tenant_id, *key.args(), *sorted(ids)),
    )


class Throttled(RuntimeError):
    """The account throttled the describe call after botocore's retries: SQS retries it later."""


# --- clients ---------------------------------------------------------------------------------------
class Clients(Protocol):
    def client(self, account_id: str, external_id: str, service: str, region: str) -> Any: ...


class ReaderRoleClients:
    """The customer's ``dd0c-reader`` role (15-minute session, standard retries)."""

    def client(self, account_id: str, external_id: str, service: str, region: str) -> Any:
        from dd0c_cost.zombies import access

        session = access.reader_session(account_id, external_id, session_name=SESSION_NAME)
        return session.client(service, region_name=region, config=access.client_config())


_clients: Clients = ReaderRoleClients()


def set_clients(clients: Clients | None) -> None:
    """Replace how customer accounts are reached (tests); None restores the reader role."""
    global _clients
    _clients = clients or ReaderRoleClients()


# --- one message -----------------------------------------------------------------------------------
@dataclass
class SizingResult:
    status: str = "answered"  # answered | already_answered | denied | not_connected | unknown_region
    asked: list[str] = field(default_factory=list)
    sized: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    calls: int = 0
    repriced: list[str] = field(default_factory=list)  # '<eventID>:sized' stored by this message
    unsized: list[str] = field(default_factory=list)  # waiting events the answers did not price
    sent: list[str] = field(default_factory=list)  # sized events handed to the scorer


def describe_body(body: str | bytes) -> SizingResult:
    from dd0c_cost.db.connection import get_connection

    message = SizingMessage.model_validate_json(body)
    return size_resources(get_connection(), message)


def size_resources(conn: Connection, message: SizingMessage, book: Any = None) -> SizingResult:
    describer = DESCRIBERS.get(message.resource_type)
    if describer is None:  # a poison message (nothing sends one): retried, then the DLQ
        raise ValueError(f"no describer for resource type {message.resource_type!r}")
    key, result = message.key, SizingResult()
    with tenant_transaction(conn, message.tenant_id):
        external_id = _external_id(conn, key.account_id)
        ids = store.pending_batch(conn, key, message.resource_ids, describer.batch)
    result.asked = ids
    if not ids:
        result.status = "already_answered"
    elif external_id is None or not known_region(describer.service, key.region):
        status, why = (
            ("not_connected", "the account is not approved or has no ExternalId")
            if external_id is None
            else ("unknown_region", f"{key.region} is not a region of {describer.service} (botocore's endpoints)")
        )
        with tenant_transaction(conn, message.tenant_id):
            store.mark(conn, key, ids, status, why)
            _reprice_ready(conn, message.tenant_id, key, result, book)
        result.status = status
    else:
        _describe(conn, message.tenant_id, key, describer, ids, external_id, result, book)
    _send_unscored(conn, message.tenant_id, key, result)
    outcomes.record("sizing", result.status)
    return result


@lru_cache(maxsize=64)
def known_region(service: str, region: str) -> bool:
    """Whether AWS has ``service`` in ``region`` in any partition (a record's region is the
    customer's claim: a made-up one cannot be asked)."""
    import boto3

    session = boto3.session.Session()
    return any(
        region in session.get_available_regions(service, partition) for partition in session.get_available_partitions()
    )


def _external_id(conn: Connection, account_id: str) -> str | None:
    row = conn.execute(
        "SELECT external_id FROM dd0c.connected_accounts WHERE account_id = %s AND approved_at IS NOT NULL",
        [account_id],
    ).fetchone()
    return row["external_id"] if row else None


def _describe(
    conn: Connection,
    tenant_id: UUID,
    key: store.Key,
    describer: Describer,
    ids: list[str],
    external_id: str,
    result: SizingResult,
    book: Any,
) -> None:
    from dd0c_cost.usage.sources import classify

    try:
        client = _clients.client(key.account_id, external_id, describer.service, key.region)
        found, result.calls = describer.describe(client, ids)
    except Exception as exc:  # classified: the customer's answers are recorded, anything else raises
        error = classify(exc)
        if error.kind == "throttled":
            retry_at = datetime.now(UTC) + timedelta(seconds=_visibility_timeout())
            with tenant_transaction(conn, tenant_id):
                store.mark_throttled(conn, key, ids, error.detail[:500], retry_at)
            outcomes.record("sizing", "throttled")
            raise Throttled(error.detail) from exc
        if error.kind != "access_denied":
            raise
        with tenant_transaction(conn, tenant_id):
            store.mark(conn, key, ids, "denied", error.detail[:500])
            _reprice_ready(conn, tenant_id, key, result, book)
        result.status = "denied"
        return
    result.sized = sorted(found)
    result.not_found = [i for i in ids if i not in found]
    with tenant_transaction(conn, tenant_id):
        store.record_answers(conn, key, ids, found, describer.api)
        _reprice_ready(conn, tenant_id, key, result, book)


def _visibility_timeout() -> int:
    from dd0c_cost.topology import TOPOLOGY

    return TOPOLOGY.queue(SIZING).visibility_timeout_s


def _reprice_ready(conn: Connection, tenant_id: UUID, key: store.Key, result: SizingResult, book: Any) -> None:
    """Re-price every event of this account, region and type whose resources are all answered."""
    from dd0c_cost import catalogue
    from dd0c_cost.events import store as events_store
    from dd0c_cost.events.cloudtrail import parse
    from dd0c_cost.events.normalize import build_cost_event

    if book is None:
        from dd0c_cost.pricing import get_price_book

        book = get_price_book()
    for wait in store.ready_waits(conn, key):
        event = parse(wait["record"])
        entry = catalogue.lookup(event.event_source, event.event_name)
        priced = build_cost_event(tenant_id, event, entry, book, conn) if entry is not None else None
        if priced is None or priced.price_unknown:
            store.resolve(conn, wait["event_id"], None)
            result.unsized.append(wait["event_id"])
            continue
        sized = priced.model_copy(update={"event_id": wait["event_id"] + SIZED_SUFFIX})
        events_store.insert_cost_event(conn, sized)
        store.resolve(conn, wait["event_id"], sized.event_id)
        result.repriced.append(sized.event_id)


def _send_unscored(conn: Connection, tenant_id: UUID, key: store.Key, result: SizingResult) -> None:
    with tenant_transaction(conn, tenant_id):
        rows = store.unscored_sized_events(conn, key)
    for row in rows:
        event = CostEvent.model_validate(row["payload"])
        queues.send(
            COST_EVENTS,
            event.model_dump_json(),
            group=event.series_key,
            deduplication=queues.dedup_id(event.tenant_id, event.event_id),
        )
        result.sent.append(event.event_id)
