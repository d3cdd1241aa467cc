"""Scoring cost events in PostgreSQL: load the series' and tenant's state under row locks, run the
pure core (``engine.step``) once per event, save everything in the same transaction.

Concurrency. The cost-events FIFO group is (tenant, account, service), so a series (account,
resource type) is only ever advanced by one group, in order. For each tenant, a transaction
locks its series rows (sorted by key), its cost-event rows (the once-only claim), then the
tenant's baseline row; several tenants are taken in tenant-id order. Locks are always taken in
that global order, so concurrent Lambdas serialise on the rows they share and cannot deadlock; a
redelivered message waits on its series row and then finds its event already claimed. Each event
updates state exactly once: the claim (``scored_at``) and all state are committed together.

Batching. ``score_cost_events(conn, events)`` scores a whole SQS batch in one transaction of two
round trips (``dd0c.scoring_load`` for every tenant, then the new anomalies, ``dd0c.scoring_save``
and COMMIT; grown anomalies in between when there are any), falling back to one transaction per
tenant if it fails. Each round trip is statements and one Sync on the libpq handle
(``db.one_trip.round_trip``); a tenant's share of the work is ``batch.TenantBatch``, the anomalies it
raises or grows are written by ``anomaly_writes``.
The score function's handler hands it every SQS batch (``pipeline.score_bodies``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

import orjson
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from dd0c_cost.db.connection import Connection
from dd0c_cost.db.one_trip import Statement, round_trip
from dd0c_cost.events.models import CostEvent
from dd0c_cost.scoring import anomaly_writes as writes
from dd0c_cost.scoring.anomaly_writes import Pending
from dd0c_cost.scoring.batch import TenantBatch, rules_of
from dd0c_cost.scoring.components import COMPONENT_ORDER
from dd0c_cost.scoring.config import DEFAULT_CONFIG, ScoringConfig
from dd0c_cost.scoring.engine import step
from dd0c_cost.scoring.observation import Ignored
from dd0c_cost.scoring.results import ScoreResult, failed
from dd0c_cost.scoring.shape import step_unpriced

# The round trips' statements (scoring_load/scoring_save act only for the transaction's tenant,
# migration 008: each is preceded by the set_config that makes its tenant the transaction's).
_BEGIN = Statement(b"BEGIN")
_COMMIT = Statement(b"COMMIT")
_SET_TENANT = b"SELECT set_config('dd0c.tenant_id', $1, true)"
# The first tenant's statement also says that the rows this transaction grows get their list_json from the
# scorer (migration 030), not the trigger: one statement for both (each costs the backend an executor start).
_SET_WRITER_AND_TENANT = (
    b"SELECT set_config('dd0c.list_json_writer', 'scorer', true), set_config('dd0c.tenant_id', $1, true)"
)
_LOAD = b"SELECT dd0c.scoring_load($1::uuid, $2::json)"
_SAVE = b"SELECT dd0c.scoring_save($1::uuid, $2::jsonb, $3::text[], $4::text)"


def score_cost_events(
    conn: Connection, events: Sequence[CostEvent], config: ScoringConfig | None = None
) -> list[ScoreResult]:
    """Score a batch (e.g. one SQS batch): events in the given order (keep each FIFO group's
    order), all tenants in one transaction. If that fails, each tenant is retried in a
    transaction of its own, and if a tenant fails, each of its events alone, so one event's
    failure holds back nothing but the events after it in its own FIFO group (its series): a
    failed event gets ``outcome="error"`` (and ``error``), none of its state changed, and it can
    be delivered again."""
    config = config or DEFAULT_CONFIG
    tenants: dict[UUID, list[int]] = {}
    for i, e in enumerate(events):
        tenants.setdefault(e.tenant_id, []).append(i)
    # Lock order across tenants: by tenant id (then series keys, events, tenant row within each).
    groups = [(t, tenants[t]) for t in sorted(tenants, key=str)]
    results: list[ScoreResult | None] = [None] * len(events)
    try:
        _score_tenants(conn, events, groups, config, results)
        return results  # type: ignore[return-value]
    except Exception as exc:  # noqa: BLE001
        first = exc
    for group in groups:
        try:
            if len(groups) == 1:
                raise first  # that was this tenant's own transaction
            _score_tenants(conn, events, [group], config, results)
        except Exception as exc:  # noqa: BLE001 - reported per event; the caller retries them
            if len(group[1]) == 1:
                failed(results, group[1], exc)
            else:
                _score_one_by_one(conn, events, group, config, results)
    return results  # type: ignore[return-value]


def _score_one_by_one(
    conn: Connection,
    events: Sequence[CostEvent],
    group: tuple[UUID, list[int]],
    config: ScoringConfig,
    results: list,
) -> None:
    """A tenant whose batch failed: each event in a transaction of its own, in order. After an
    event fails, the later events of its series (its FIFO message group) are held back unscored,
    so the series is never advanced out of order; they are delivered again behind it."""
    tenant_id, indexes = group
    failed_series: set[str] = set()
    for i in indexes:
        key = events[i].series_key
        if key in failed_series:
            failed(results, [i], RuntimeError(f"held back: an earlier event of series {key} failed"))
            continue
        try:
            _score_tenants(conn, events, [(tenant_id, [i])], config, results)
        except Exception as exc:  # noqa: BLE001
            failed(results, [i], exc)
            failed_series.add(key)


# ------------------------------------------------------------------------------------ the transaction
def _score_tenants(
    conn: Connection,
    events: Sequence[CostEvent],
    groups: list[tuple[UUID, list[int]]],
    config: ScoringConfig,
    results: list,
) -> None:
    """Score ``groups`` (tenant, event indexes) in one transaction, driven by hand in two round
    trips: ``BEGIN``, then ``set_config`` and ``dd0c.scoring_load`` per tenant; then per tenant its new
    anomalies and ``dd0c.scoring_save``, and ``COMMIT`` (grown anomalies, when there are any, in
    between). Fewer round trips than psycopg's own BEGIN/COMMIT, and cheaper for the client than
    psycopg's pipeline. Fills ``results``; raises (after ROLLBACK) if anything failed."""
    if conn.closed:  # e.g. the server went away in an earlier attempt: a dependency failure, by name
        raise pg_errors.OperationalError("the connection is closed")
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("score_cost_events needs a connection that is not inside a transaction")
    autocommit = conn.autocommit
    conn.autocommit = True  # BEGIN/COMMIT are ours
    out: list = list(results)
    try:
        work = [TenantBatch(t, indexes, events) for t, indexes in groups]
        loads = (s for k, w in enumerate(work) for s in _load_statements(w, first=k == 0))
        got = round_trip(conn, [_BEGIN, *loads])
        # results: BEGIN, then (set_config, scoring_load) per tenant
        loaded = [orjson.loads(got[2 + 2 * k].get_value(0, 0) or b"") for k in range(len(work))]
        active = [work[-1].tenant_id]  # the last set_config is in force

        for w, got_w in zip(work, loaded, strict=True):

            def as_tenant(tenant_id=w.tenant_id) -> None:
                """Before a statement of this tenant's: make it the transaction's tenant."""
                if active[0] != tenant_id:
                    conn.execute("SELECT set_config('dd0c.tenant_id', %s, true)", [str(tenant_id)])
                    active[0] = tenant_id

            _score_one_tenant(conn, w, got_w, config, out, as_tenant)
        round_trip(conn, _last_round_trip(work, active))
    except BaseException:
        if not conn.closed and not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        raise
    finally:
        if not conn.closed:
            conn.autocommit = autocommit
    results[:] = out


def _load_statements(w: TenantBatch, *, first: bool) -> list[Statement]:
    tenant = str(w.tenant_id).encode()
    set_tenant = _SET_WRITER_AND_TENANT if first else _SET_TENANT
    return [Statement(set_tenant, [tenant]), Statement(_LOAD, [tenant, w.load_payload()])]


def _last_round_trip(work: list[TenantBatch], active: list) -> list[Statement]:
    """Every tenant's writes (new anomalies, grown ones' list_json, state), then COMMIT: per tenant (first
    making it the transaction's tenant, unless it already is) its new anomalies, grown ones, then its state."""
    out: list[Statement] = []
    for w in work:
        if not (w.scores or w.created or w.grown):
            continue
        tenant = str(w.tenant_id).encode()
        if active[0] != w.tenant_id:
            out.append(Statement(_SET_TENANT, [tenant]))
            active[0] = w.tenant_id
        if w.created:
            out.append(writes.insert_new(w.created))
        out.extend(w.grown)
        if w.scores:
            out.append(w.save_statement(_SAVE, tenant))
    out.append(_COMMIT)
    return out


# ------------------------------------------------------------------------------------ one tenant
def _score_one_tenant(
    conn: Connection, w: TenantBatch, loaded: dict, config: ScoringConfig, out: list, as_tenant
) -> None:
    """Run the core over one tenant's events; write its anomalies (``as_tenant()`` first)."""
    w.loaded(loaded)
    results: list[ScoreResult | None] = [None] * len(w.events)
    pending, redelivered = _run_events(conn, w, loaded, config, results, as_tenant)
    _write_anomalies(conn, w, pending, results, as_tenant)
    if redelivered:
        as_tenant()
        writes.redelivered(conn, w.events, redelivered, results)
    for i, r in zip(w.indexes, results, strict=True):
        out[i] = r


def _run_events(
    conn: Connection, w: TenantBatch, loaded: dict, config: ScoringConfig, results: list, as_tenant
) -> tuple[dict[str, Pending], list[int]]:
    """Score the tenant's claimed events in order (the state changes in memory); the anomalies they
    raise or grow, and the events found already scored."""
    series, tenant = w.series, w.tenant
    claimed = set(loaded["claimed"])
    cfg = config.with_overrides(loaded["settings"])
    rules = rules_of(loaded["rules"])
    scores, touched = w.scores, w.touched
    unpriced_line: dict | None = None  # read once, only when the batch has an unpriced event
    pending: dict[str, Pending] = {}
    redelivered: list[int] = []
    for i, event in enumerate(w.events):
        if event.event_id not in claimed:
            redelivered.append(i)
            continue
        claimed.discard(event.event_id)  # the same id twice in one batch counts once
        obs = w.observations[i]
        key = f"{event.account_id}:{event.resource_type}"
        touched.add(key)
        shaped = None
        if isinstance(obs, Ignored) and obs.code == "price_unknown":
            unpriced_line = unpriced_line if unpriced_line is not None else _unpriced_line(conn, w.tenant_id, as_tenant)
            shaped = step_unpriced(event, series[key], tenant, replace(cfg, **unpriced_line))
        if shaped is None and isinstance(obs, Ignored):
            series[key].ignored += 1
            tenant.ignored += 1
            scores.append({"e": event.event_id, "s": None, "c": None})
            results[i] = ScoreResult(None, outcome="ignored", reason=obs.code, detail=obs.detail)
            continue
        if shaped is not None:
            ev, obs = shaped
        else:
            ev = step(obs, series[key], tenant, cfg, rules)
        values = ev.values
        scores.append({"e": event.event_id, "s": ev.score, "c": values})
        results[i] = ScoreResult(None, outcome="scored", score=ev.score, values=values)
        if ev.action != "none":
            _touch(pending, ev, i, event, obs)
    return pending, redelivered


def _touch(pending: dict[str, Pending], ev, i: int, event: CostEvent, obs) -> None:
    """Event ``i`` raised or grew the anomaly ``ev.anomaly_id``."""
    p = pending.get(ev.anomaly_id)
    if p is None:
        p = pending[ev.anomaly_id] = Pending(
            ev.anomaly_id, ev.action == "create", event, obs, ev.burst, ev.score, (), ev.severity
        )
    p.event, p.obs, p.score, p.severity, p.burst = event, obs, ev.score, ev.severity, ev.burst
    # the components of the last event that touches the anomaly are the anomaly's (rendered once, by finish)
    p.parts = ev.parts
    p.touch()
    p.bump = p.bump or ev.bump
    p.event_ids.extend(ev.new_event_ids)
    p.resource_ids.extend(ev.new_resource_ids)
    p.indexes.append(i)


def _write_anomalies(conn: Connection, w: TenantBatch, pending: dict[str, Pending], results: list, as_tenant) -> None:
    """Grown anomalies now, before the state is saved, so that a vanished anomaly row can still be
    replaced before the series state (which points at it) is written. New ones are written in the
    transaction's last round trip (``_last_round_trip``), before the state."""
    for p in pending.values():
        p.finish()
        if not p.created:
            as_tenant()
            grown = writes.grow(conn, p)
            if grown is not None:
                anomaly, revision, notified, written = grown
                w.grown.append(written)
                writes.assign(results, p, anomaly, revision=revision, notify=p.bump and revision > notified)
                continue
            # The anomaly row is gone (deleted by an operator): raise a fresh one for the rest.
            p.anomaly_id = p.burst["aid"] = str(uuid.uuid4())
            p.created = True
        anomaly = writes.anomaly_of(p)
        w.created.append(anomaly)
        writes.assign(results, p, anomaly, revision=1, notify=True)


def _unpriced_line(conn: Connection, tenant_id: UUID, as_tenant) -> dict:
    """The tenant's line for unpriced shapes (migration 011); {} when it keeps the default.
    Read only for a batch holding an unpriced event, so that priced batches keep two round trips."""
    as_tenant()
    row = conn.execute(
        "SELECT unpriced_alert_score FROM dd0c.tenant_settings WHERE tenant_id = %s", [tenant_id]
    ).fetchone()
    return {"unpriced_alert_score": row["unpriced_alert_score"]} if row and row["unpriced_alert_score"] else {}


__all__ = ["COMPONENT_ORDER", "ScoreResult", "score_cost_events"]
