"""The bulk path: records in event-time order -> cost events, anomalies and notifications, exactly
as the live handlers would make them, at the cost of a few statements per batch instead of a few
round trips (and two SQS hops) per record.

Per batch of records (``batch_records``, in event-time order):

1. Normalise each record with the live normaliser's own functions, in the live order of checks:
   ``parse`` (reject reasons), the account's tenant (``tenant_for_account``, cached per account:
   ``unknown_account``, ``account_not_connected``), ``classify`` (not cost-relevant, with reason),
   ``build_cost_event`` (catalogue reading, inherited sizing, pricing). Inherited sizing is what
   the live path reads from ``dd0c.cost_events``: the latest earlier create/start/modify of the
   same resources. Here it comes from the events of this run (in memory) and, for a tenant that
   already had cost events when the run started, from the database too (``store.inherited_attributes``),
   whichever is later: the same answer. An exception in one record rejects that record alone
   (``processing_failed``, as the live path's dead-letter queue would). The database going away
   is not the record's fault: see below.
2. Store the batch's cost events per tenant in one transaction: COPY into a temporary staging table
   (COPY straight into ``dd0c.cost_events`` is refused by its row-level security), then
   ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING``: an eventID the tenant already has
   is a ``duplicate`` (handed to the scorer again if it was never scored, as the live normaliser
   does: that is what makes a rerun after a crash finish the work without doubling anything).
   ``connected_accounts.last_event_at`` moves forward once per account.
3. Score the stored events with the live scorer (``scoring.scorer.score_cost_events``) in
   event-time order, ``score_batch`` at a time: the series' and tenant's state is loaded once per
   batch and saved once per batch, under the same locks and once-only claim as live.
4. Hand every anomaly that needs a notification to ``notify`` (locally: the notify stage function;
   in AWS: the notify queue), after its batch committed.

What the batches change, and what they do not: the cost events, the scores of every event, the
anomalies (their events, resources, score, severity, $/h, summary, components, attributes) and
which anomalies are announced are those of the live path (``tests/integration/test_backfill_equivalence.py``
replays the same streams both ways). An anomaly's ``revision`` counts scoring transactions that grew it,
so a batch of a thousand events bumps it once where the live path's batches of ten bump it more
often: Slack receives fewer *updates* of the same message.

Faults are not bad input: when the database goes away (``DEPENDENCY_FAILURES``), the records of
the batch not yet stored are counted in ``failed`` by the failure's name (with a ``failed:<name>``
evidence entry each, never a reject) and the exception propagates: a history-import chunk is then
retried whole by SQS; a local replay carries on counting and exits non-zero, and its rerun
finishes the work (stored-but-unscored events are handed to the scorer again).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from dd0c_cost.db.connection import Connection, tenant_for_account, tenant_transaction
from dd0c_cost.events import store
from dd0c_cost.events.cloudtrail import RecordRejected, RejectReason, parse
from dd0c_cost.events.models import CostAction, CostEvent, NotifyMessage, Origin, OriginSource
from dd0c_cost.events.normalize import build_cost_event, classify
from dd0c_cost.scoring.config import ScoringConfig
from dd0c_cost.scoring.scorer import ScoreResult, score_cost_events

DEFAULT_BATCH_RECORDS = 20_000
DEFAULT_SCORE_BATCH = 2_000
# The database unreachable or gone mid-statement: the dependency's fault, never the record's.
DEPENDENCY_FAILURES = (psycopg.OperationalError, psycopg.InterfaceError)
_INHERITABLE = frozenset({CostAction.CREATE, CostAction.START, CostAction.MODIFY})

_COLUMNS = (
    "tenant_id, event_id, account_id, region, event_time, event_source, event_name, service, resource_type, "
    "resource_ids, action, quantity, actor_arn, actor_name, estimated_usd_per_hour, price_unknown, attributes, payload"
)
_STAGING = "dd0c_backfill_cost_events"
_CREATE_STAGING = f"""CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (
    seq bigint NOT NULL, tenant_id uuid NOT NULL, event_id text NOT NULL, account_id text NOT NULL,
    region text NOT NULL, event_time timestamptz NOT NULL, event_source text NOT NULL, event_name text NOT NULL,
    service text NOT NULL, resource_type text NOT NULL, resource_ids text[] NOT NULL, action text NOT NULL,
    quantity double precision NOT NULL, actor_arn text, actor_name text NOT NULL,
    estimated_usd_per_hour double precision, price_unknown boolean NOT NULL, attributes jsonb NOT NULL,
    payload jsonb NOT NULL
) ON COMMIT DELETE ROWS"""


@dataclass
class BulkSummary:
    """What happened to every record: read = cost_events + not_cost_relevant + rejected + failed."""

    read: int = 0
    cost_events: int = 0
    not_cost_relevant: int = 0
    rejected: Counter = field(default_factory=Counter)
    anomalies: int = 0
    notifications: int = 0
    scored: int = 0
    failed: Counter = field(default_factory=Counter)  # records not stored: a dependency failed (by name)
    scoring_failed: Counter = field(default_factory=Counter)  # events left unscored (a rerun scores them)
    alerts_failed: Counter = field(default_factory=Counter)  # announcements not delivered, by failure name
    alerts_resent: int = 0  # unsent alerts of earlier runs, posted at the start of a local replay
    seconds: float = 0.0
    tenant_created: bool = False  # replay: the tenant did not exist before
    foreign_accounts: dict[str, str] = field(default_factory=dict)  # account -> the tenant that owns it

    @property
    def processed(self) -> int:
        return self.cost_events + self.not_cost_relevant


@dataclass
class _Pending:
    """A record of the current batch that became a cost event (not yet stored)."""

    event: CostEvent
    origin: Origin | tuple | None
    record: Any


class _History:
    """Inherited sizing for one tenant: the latest earlier create/start/modify (with attributes) of
    any of the resources, from this run's events and, if the tenant had cost events before the
    run, from the database; the later of the two wins (the live path reads the database, which
    holds both)."""

    def __init__(self, conn: Connection, tenant_id: UUID, *, database_has_events: bool) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.database_has_events = database_has_events
        self._events: dict[tuple[str, str], list[tuple[datetime, dict]]] = {}

    def __call__(self, resource_type: str, resource_ids: list[str], before: datetime) -> dict:
        best: tuple[datetime, dict] | None = None
        for rid in resource_ids:
            for when, attrs in self._events.get((resource_type, rid), ()):
                if when <= before and (best is None or when > best[0]):
                    best = (when, attrs)
        if self.database_has_events:
            with tenant_transaction(self.conn, self.tenant_id):
                row = self.conn.execute(
                    """SELECT event_time, attributes FROM dd0c.cost_events
                       WHERE resource_type = %s AND resource_ids && %s AND event_time <= %s
                         AND action IN ('create', 'start', 'modify') AND attributes <> '{}'::jsonb
                       ORDER BY event_time DESC LIMIT 1""",
                    [resource_type, resource_ids, before],
                ).fetchone()
            if row is not None and (best is None or row["event_time"] > best[0]):
                best = (row["event_time"], row["attributes"])
        return dict(best[1]) if best else {}

    def record(self, event: CostEvent) -> None:
        if event.action in _INHERITABLE and event.attributes:
            for rid in event.resource_ids:
                self._events.setdefault((event.resource_type, rid), []).append(
                    (event.event_time, dict(event.attributes))
                )


class BulkLoader:
    """Feed it ``(record, origin)`` pairs in event-time order (``add``), then ``finish()``.

    ``expected_tenant``: the tenant the records are replayed for (records of an account connected
    to another tenant are rejected ``account_not_connected``, as the live normaliser does for an
    ingest message that names a tenant). ``notify(message)`` is called for each anomaly to
    announce; ``on_reject(entry)`` for each rejected record (reason, detail, origin, record) except
    duplicates, which the live path does not keep either.
    """

    def __init__(
        self,
        conn: Connection,
        book,
        config: ScoringConfig,
        *,
        expected_tenant: UUID | None = None,
        notify: Callable[[NotifyMessage], None] | None = None,
        on_reject: Callable[[dict], None] | None = None,
        batch_records: int = DEFAULT_BATCH_RECORDS,
        score_batch: int = DEFAULT_SCORE_BATCH,
        prepare_account: Callable[[str], None] | None = None,
        origin_source: OriginSource = "replay",
    ) -> None:
        self.conn = conn
        self.book = book
        self.config = config
        self.expected_tenant = expected_tenant
        self.notify = notify
        self.on_reject = on_reject
        self.batch_records = batch_records
        self.score_batch = score_batch
        self.prepare_account = prepare_account
        self.origin_source = origin_source
        self.summary = BulkSummary()
        self._batch: list[tuple[Any, Origin | tuple | None]] = []
        self._tenants: dict[str, UUID | None] = {}
        self._histories: dict[UUID, _History] = {}
        self._seen: dict[UUID, set[str]] = {}
        self._started = time.perf_counter()

    # ------------------------------------------------------------------------------ feeding
    def add(self, record: Any, origin: Origin | tuple | None = None) -> None:
        self._batch.append((record, origin))
        if len(self._batch) >= self.batch_records:
            self.flush()

    def add_all(self, items: Iterable[tuple[Any, Origin | tuple | None]]) -> BulkSummary:
        for record, origin in items:
            self.add(record, origin)
        return self.finish()

    def reject(self, reason: str, detail: str | None, origin: Origin | tuple | None, record: Any = None) -> None:
        """A record refused before it reached the loader (unreadable line): counted here too."""
        self.summary.read += 1
        self._rejected(reason, detail, origin, record)

    def finish(self) -> BulkSummary:
        self.flush()
        self.summary.seconds = time.perf_counter() - self._started
        return self.summary

    # ------------------------------------------------------------------------------ one batch
    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        self.summary.read += len(batch)
        pending = self._normalise(batch)
        to_score = self._store(pending)
        self._score(to_score)

    def _rejected(self, reason: str, detail: str | None, origin: Origin | tuple | None, record: Any) -> None:
        self.summary.rejected[reason] += 1
        if self.on_reject is not None and reason != RejectReason.DUPLICATE.value:
            self.on_reject(self._entry(reason, detail, origin, record))

    def _entry(self, reason: str, detail: str | None, origin: Origin | tuple | None, record: Any) -> dict:
        entry: dict[str, Any] = {"reason": reason, "detail": detail}
        if isinstance(origin, tuple):
            origin = Origin(source=self.origin_source, file=origin[0], line=origin[1])
        if origin is not None:
            entry.update(origin.model_dump(exclude_none=True))
        if record is not None:
            entry["record"] = record
        return entry

    def _tenant_of(self, account_id: str) -> UUID | None:
        if account_id not in self._tenants:
            if self.prepare_account is not None:
                self.prepare_account(account_id)  # e.g. replay connects the input's accounts first
            self._tenants[account_id] = tenant_for_account(self.conn, account_id)
        return self._tenants[account_id]

    def _history(self, tenant_id: UUID) -> _History:
        history = self._histories.get(tenant_id)
        if history is None:
            with tenant_transaction(self.conn, tenant_id):
                row = self.conn.execute("SELECT EXISTS (SELECT 1 FROM dd0c.cost_events) AS e").fetchone()
            has = bool(row and row["e"])
            history = self._histories[tenant_id] = _History(self.conn, tenant_id, database_has_events=has)
        return history

    def _fault(self, exc: BaseException, items: Iterable[tuple[Any, Origin | tuple | None]]) -> None:
        """Records not processed because a dependency failed: counted by the failure's name, each
        with an evidence entry (``failed:<name>``), never as rejects."""
        name = type(exc).__name__
        for record, origin in items:
            self.summary.failed[name] += 1
            if self.on_reject is not None:
                self.on_reject(self._entry(f"failed:{name}", f"{name}: {exc}", origin, record))

    def _normalise(self, batch: list[tuple[Any, Origin | tuple | None]]) -> list[_Pending]:
        """The live normaliser's checks, in its order, per record (events.normalize.normalize)."""
        pending: list[_Pending] = []
        for index, (record, origin) in enumerate(batch):
            try:
                event = parse(record)
                tenant_id = self._tenant_of(event.account_id)
                if tenant_id is None:
                    raise RecordRejected(
                        RejectReason.UNKNOWN_ACCOUNT, f"account {event.account_id} is not connected to any tenant"
                    )
                if self.expected_tenant is not None and self.expected_tenant != tenant_id:
                    raise RecordRejected(
                        RejectReason.ACCOUNT_NOT_CONNECTED,
                        f"account {event.account_id} is not connected to this tenant",
                    )
                entry, _reason, _detail = classify(event)
                if entry is None:
                    self.summary.not_cost_relevant += 1
                    continue
                history = self._history(tenant_id)
                cost_event = build_cost_event(tenant_id, event, entry, self.book, None, history=history)
            except RecordRejected as rejected:
                self._rejected(rejected.reason.value, rejected.detail, origin, record)
                continue
            except DEPENDENCY_FAILURES as exc:
                self._fault(exc, [(p.record, p.origin) for p in pending] + batch[index:])
                raise
            except Exception as exc:  # noqa: BLE001 - one record's failure is that record's alone
                self._rejected(RejectReason.PROCESSING_FAILED.value, f"{type(exc).__name__}: {exc}", origin, record)
                continue
            seen = self._seen.setdefault(tenant_id, set())
            if cost_event.event_id in seen:
                # the live path: the second insert conflicts; the first is scored once
                self._rejected(
                    RejectReason.DUPLICATE.value, f"eventID {cost_event.event_id} already processed", origin, None
                )
                continue
            seen.add(cost_event.event_id)
            pending.append(_Pending(cost_event, origin, record))
            # later records of this run inherit from it (the live path would read it back)
            history.record(cost_event)
        return pending

    def _store(self, pending: list[_Pending]) -> list[CostEvent]:
        """COPY through the staging table, per tenant; returns the events to score, in order."""
        by_tenant: dict[UUID, list[_Pending]] = {}
        for p in pending:
            by_tenant.setdefault(p.event.tenant_id, []).append(p)
        forward: set[tuple[UUID, str]] = set()
        tenants = list(by_tenant.items())
        for done, (tenant_id, items) in enumerate(tenants):
            try:
                with tenant_transaction(self.conn, tenant_id):
                    inserted = self._copy_and_insert(items)
                    existing = [p.event.event_id for p in items if p.event.event_id not in inserted]
                    unscored = self._unscored(existing)
                    self._touch_accounts(items)
            except DEPENDENCY_FAILURES as exc:
                # this tenant's and the later tenants' records are not stored; the earlier ones
                # are, but will not be scored in this run (a rerun hands them to the scorer)
                self._fault(exc, [(p.record, p.origin) for _, later in tenants[done:] for p in later])
                if forward:
                    self.summary.scoring_failed[type(exc).__name__] += len(forward)
                raise
            for p in items:
                event_id = p.event.event_id
                if event_id in inserted:
                    self.summary.cost_events += 1
                    forward.add((tenant_id, event_id))
                else:
                    self._rejected(
                        RejectReason.DUPLICATE.value, f"eventID {event_id} already processed", p.origin, None
                    )
                    if event_id in unscored:
                        forward.add((tenant_id, event_id))  # stored by an earlier run, never scored
        return [p.event for p in pending if (p.event.tenant_id, p.event.event_id) in forward]

    def _copy_and_insert(self, items: list[_Pending]) -> set[str]:
        """One tenant's events into the staging table, then into cost_events; the ids inserted."""
        conn = self.conn
        conn.execute(_CREATE_STAGING)
        with conn.cursor().copy(f"COPY {_STAGING} (seq, {_COLUMNS}) FROM STDIN") as copy:
            for seq, p in enumerate(items):
                copy.write_row(_staging_row(seq, p.event))
        return {
            r["event_id"]
            for r in conn.execute(
                f"""INSERT INTO dd0c.cost_events ({_COLUMNS})
                    SELECT {_COLUMNS} FROM {_STAGING} ORDER BY seq
                    ON CONFLICT ON CONSTRAINT cost_events_once_per_tenant DO NOTHING
                    RETURNING event_id"""
            ).fetchall()
        }

    def _unscored(self, event_ids: list[str]) -> set[str]:
        """Of events already stored (duplicates of this run's), those never scored."""
        if not event_ids:
            return set()
        rows = self.conn.execute(
            "SELECT event_id FROM dd0c.cost_events WHERE event_id = ANY(%s) AND scored_at IS NULL", [event_ids]
        ).fetchall()
        return {r["event_id"] for r in rows}

    def _touch_accounts(self, items: list[_Pending]) -> None:
        latest: dict[str, datetime] = {}
        for p in items:
            t = latest.get(p.event.account_id)
            if t is None or p.event.event_time > t:
                latest[p.event.account_id] = p.event.event_time
        for account_id, when in sorted(latest.items()):
            store.touch_account(self.conn, account_id, when)

    def _score(self, events: list[CostEvent]) -> None:
        for start in range(0, len(events), self.score_batch):
            chunk = events[start : start + self.score_batch]
            results = score_cost_events(self.conn, chunk, self.config)
            for event, result in zip(chunk, results, strict=True):
                self._scored(event, result)

    def _scored(self, event: CostEvent, result: ScoreResult) -> None:
        if result.outcome == "error":
            self.summary.scoring_failed[result.reason or "error"] += 1
            return
        self.summary.scored += 1
        if result.outcome == "anomaly":
            self.summary.anomalies += 1
        if result.anomaly is not None and result.needs_notify and self.notify is not None:
            self.notify(
                NotifyMessage(tenant_id=event.tenant_id, anomaly_id=result.anomaly.id, revision=result.revision)
            )
            self.summary.notifications += 1


def _staging_row(seq: int, e: CostEvent) -> tuple:
    return (
        seq,
        e.tenant_id,
        e.event_id,
        e.account_id,
        e.region,
        e.event_time,
        e.event_source,
        e.event_name,
        e.service,
        e.resource_type,
        e.resource_ids,
        e.action.value,
        e.quantity,
        e.actor.principal_arn,
        e.actor.display_name,
        e.estimated_usd_per_hour,
        e.price_unknown,
        Jsonb(e.attributes),
        Jsonb(e.model_dump(mode="json")),
    )
