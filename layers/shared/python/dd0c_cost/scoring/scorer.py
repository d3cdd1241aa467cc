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
tenant if it fails.
The score function's handler hands it every SQS batch (``pipeline.score_bodies``).
"""

from __future__ import annotations

import select
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus
from psycopg.pq.abc import PGresult

from dd0c_cost.db.connection import Connection
from dd0c_cost.events.models import CostEvent
from dd0c_cost.scoring import store
from dd0c_cost.scoring.combination import as_components
from dd0c_cost.scoring.components import COMPONENT_ORDER
from dd0c_cost.scoring.config import DEFAULT_CONFIG, ScoringConfig
from dd0c_cost.scoring.engine import burst_summary, step
from dd0c_cost.scoring.list_json import list_json
from dd0c_cost.scoring.models import Anomaly, ScoreComponent, Severity
from dd0c_cost.scoring.observation import Ignored, Observation, actor_key_of, sanitize
from dd0c_cost.scoring.series import FeedbackRule, SeriesState, TenantState
from dd0c_cost.scoring.shape import step_unpriced

MAX_ANOMALY_EVENT_IDS = 1_000
MAX_ANOMALY_RESOURCE_IDS = 2_000


@dataclass(frozen=True)
class ScoreResult:
    anomaly: Anomaly | None
    revision: int = 1
    needs_notify: bool = False
    already_scored: bool = False
    # "scored" | "anomaly" (raised one) | "grouped" (grew one) | "ignored" | "already_scored" | "error"
    outcome: str = "scored"
    reason: str | None = None  # reason code for "ignored", e.g. "non_finite_price"
    detail: str | None = None
    score: float | None = None
    values: dict[str, float] | None = None  # every component's value (also stored on the cost event)
    components: tuple[ScoreComponent, ...] = ()  # with reasons: for events that raised or grew an anomaly
    error: BaseException | None = None


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
                _failed(results, group[1], exc)
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
            _failed(results, [i], RuntimeError(f"held back: an earlier event of series {key} failed"))
            continue
        try:
            _score_tenants(conn, events, [(tenant_id, [i])], config, results)
        except Exception as exc:  # noqa: BLE001
            _failed(results, [i], exc)
            failed_series.add(key)


def _failed(results: list, indexes: list[int], exc: BaseException) -> list:
    for i in indexes:
        results[i] = ScoreResult(None, outcome="error", reason=type(exc).__name__, detail=str(exc), error=exc)
    return results


# ------------------------------------------------------------------------------------ rows <-> state
def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _load(cls, row: dict | None):
    """A baseline from its row as ``dd0c.scoring_load`` returns it (JSON)."""
    if not row:
        return cls()
    s = cls(row["n"], row["mean"], row["m2"], row["w"], row["level"], row["last"], row["first"])
    if not s.load_json(row["state"]):
        s = cls()  # no state of this version (e.g. a row of the first slice): start again
    return s


def _text(state: dict[str, Any]) -> str:
    """A state as the JSON text ``dd0c.scoring_save`` stores (migration 028: a json column, not jsonb)."""
    return orjson.dumps(state).decode()


def _baseline_row(b, state: str) -> dict[str, Any]:
    return {
        "n": b.n,
        "mean": b.mean,
        "m2": b.m2,
        "w": b.w,
        "level": b.level,
        "first": b.first_t,
        "last": b.t_last,
        "state": state,
    }


def _rules(rows: list[dict[str, Any]] | None) -> list[FeedbackRule]:
    return [
        FeedbackRule(
            anomaly_id=r["anomaly_id"],
            status=r["status"],
            account_id=r["account_id"],
            resource_type=r["resource_type"],
            actor_key=r["actor_key"],
            region=r["region"],
            families=tuple(r["families"] or ()),
            hourly_usd=float(r["hourly_usd"]),
            t=float(r["t"]),
            by=r["created_by"],
        )
        for r in rows or ()
    ]


# ------------------------------------------------------------------------------------ anomalies
@dataclass
class _Pending:
    """An anomaly created or grown in this transaction (written once at the end)."""

    anomaly_id: str
    created: bool
    event: CostEvent
    obs: Observation
    burst: dict[str, Any]
    score: float
    components: tuple[ScoreComponent, ...]
    severity: Severity
    rendered: tuple[tuple[str, float, str], ...] = ()  # the last touching event's components, as text
    bump: bool = False
    event_ids: list[str] = field(default_factory=list)
    resource_ids: list[str] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # events (of this transaction) that touched it
    # Each touching event's attributes merged in order, as the row's ``attributes || new`` does one
    # transaction at a time: so the anomaly does not depend on how events were batched.
    attributes: dict[str, Any] = field(default_factory=dict)


def _attributes(p: _Pending) -> dict[str, Any]:
    b = p.burst
    types = b["ty"]
    attrs: dict[str, Any] = {k: v for k, v in p.event.attributes.items() if k != "instance_type"}
    attrs.update(
        {
            "quantity": b["q"],
            "actor_name": b["nm"],
            "actor_key": p.obs.actor_key,
            "event_time": p.event.event_time.isoformat(),
            "first_event_time": _ts(b["t0"]).isoformat(),
            "burst_events": b["n"],
            "regions": list(b["rg"]),
            "families": list(b["fam"]),
            "instance_types": dict(types),
        }
    )
    if len(types) == 1 and p.obs.instance_type:
        attrs["instance_type"] = next(iter(types))
    if b.get("pu"):  # scored on its shape: the $/h is unknown, not 0
        attrs["price_unknown"] = True
        attrs["price_unknown_reason"] = b["pu"]
    return attrs


def _anomaly_of(p: _Pending) -> Anomaly:
    b = p.burst
    return Anomaly(
        id=UUID(p.anomaly_id),
        tenant_id=p.event.tenant_id,
        account_id=p.event.account_id,
        region=b["rg"][0] if b["rg"] else p.event.region,
        service=p.event.service,
        resource_type=p.event.resource_type,
        resource_ids=p.resource_ids[:MAX_ANOMALY_RESOURCE_IDS],
        event_ids=p.event_ids[:MAX_ANOMALY_EVENT_IDS],
        actor=b["arn"] or b["nm"],
        detected_at=p.event.event_time,
        score=p.score,
        severity=p.severity,
        estimated_hourly_usd=round(b["u"], 6),
        summary=burst_summary(b, p.event.account_id),
        components=list(p.components),
        attributes=p.attributes or _attributes(p),
    )


_GROW = f"""UPDATE dd0c.anomalies SET
        event_ids = CASE WHEN cardinality(event_ids) < {MAX_ANOMALY_EVENT_IDS}
                         THEN (event_ids || %(event_ids)s::text[])[1:{MAX_ANOMALY_EVENT_IDS}] ELSE event_ids END,
        resource_ids = CASE WHEN cardinality(resource_ids) < {MAX_ANOMALY_RESOURCE_IDS}
                            THEN (resource_ids || %(resource_ids)s::text[])[1:{MAX_ANOMALY_RESOURCE_IDS}]
                            ELSE resource_ids END,
        detected_at = GREATEST(detected_at, %(detected_at)s),
        score = %(score)s, severity = %(severity)s, estimated_hourly_usd = %(usd)s, summary = %(summary)s,
        components = %(components)s::jsonb, attributes = attributes || %(attributes)s::jsonb,
        revision = revision + CASE WHEN %(bump)s AND status IN ('open', 'acknowledged') THEN 1 ELSE 0 END,
        updated_at = now()
    WHERE id = %(id)s
    RETURNING {store._ANOMALY_COLUMNS}, revision, notified_revision"""


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _assign(results: list, p: _Pending, anomaly: Anomaly, *, revision: int, notify: bool) -> None:
    """Every event that touched the anomaly gets it; the last one carries the notification."""
    last = p.indexes[-1]
    for i in p.indexes:
        prev = results[i]
        outcome = "anomaly" if (p.created and i == p.indexes[0]) else "grouped"
        results[i] = ScoreResult(
            anomaly,
            revision=revision,
            needs_notify=notify and i == last,
            outcome=outcome,
            score=prev.score,
            values=prev.values,
            components=p.components,
        )


# ------------------------------------------------------------------------------------ one tenant
class _Tenant:
    """One tenant's share of the transaction: its events, state, and what it wrote."""

    def __init__(self, tenant_id: UUID, indexes: list[int], events: Sequence[CostEvent]) -> None:
        self.tenant_id = tenant_id
        self.indexes = indexes
        self.events = [events[i] for i in indexes]
        self.observations = [sanitize(e) for e in self.events]
        self.series: dict[str, SeriesState] = {}
        self.tenant = TenantState()
        self.scores: list[dict[str, Any]] = []
        self.touched: set[str] = set()
        self.created: list[Anomaly] = []  # new anomalies, written in the transaction's last round trip

    def load_payload(self) -> str:
        novelty: dict[str, set[str]] = {"region": set(), "family": set(), "service": set(), "principal": set()}
        for obs, event in zip(self.observations, self.events, strict=True):
            if isinstance(obs, Observation):
                novelty["region"].add(obs.region)
                novelty["service"].add(obs.service)
                novelty["principal"].add(obs.actor_key)
                if obs.family:
                    novelty["family"].add(obs.family)
            elif obs.code == "price_unknown":  # scored on its shape (scoring/shape.py)
                novelty["region"].add(event.region)
                novelty["service"].add(event.service)
                novelty["principal"].add(actor_key_of(event))
        events = self.events
        return orjson.dumps(
            {
                "series": sorted({f"{e.account_id}:{e.resource_type}" for e in events}),
                "events": [e.event_id for e in events],
                "accounts": sorted({e.account_id for e in events}),
                "types": sorted({e.resource_type for e in events}),
                "novelty": {d: sorted(k) for d, k in novelty.items()},
            }
        ).decode()

    def save_payload(self) -> str:
        series, tenant = self.series, self.tenant
        return orjson.dumps(
            {
                "series": [
                    {"k": k, **_baseline_row(series[k], _text(series[k].state_json()))} for k in sorted(self.touched)
                ],
                "tenant": _baseline_row(tenant, _text(tenant.state_json(novelty=False))),
                "novelty": tenant.novelty_rows(),
                "events": self.scores,
            }
        ).decode()


def _quoter(conn: Connection):
    """SQL string literals for the scorer's own text (JSON from orjson, uuids): doubled quotes, as
    standard_conforming_strings reads them (the default since PostgreSQL 9.1); psycopg's quoting
    otherwise. Cheaper than composing psycopg ``sql`` objects for every statement of a batch."""
    if conn.info.parameter_status("standard_conforming_strings") == "on":
        return lambda text: "'" + text.replace("'", "''") + "'"
    return lambda text: sql.Literal(text).as_string(conn)


# The columns a new anomaly is written with (the others keep their defaults): one INSERT per
# tenant and transaction, in the transaction's last round trip.
_NEW_ANOMALY_COLUMNS = (
    "id, tenant_id, account_id, region, service, resource_type, resource_ids, event_ids, actor, detected_at, "
    "score, severity, estimated_hourly_usd, status, summary, components, attributes"
)


def _new_anomalies(anomalies: list[Anomaly]) -> str:
    """JSON rows for ``jsonb_populate_recordset(NULL::dd0c.anomalies, ...)``: the values
    ``store.insert_anomaly`` writes, and the row's ``list_json`` where the scorer can write it exactly
    (``scoring/list_json.py``; PostgreSQL writes the others: migration 027)."""
    return orjson.dumps(
        [
            {
                **a.model_dump(include=_NEW_ANOMALY_FIELDS, mode="json"),
                "components": [c.model_dump() for c in a.components],
                "list_json": list_json(a),
            }
            for a in anomalies
        ]
    ).decode()


_NEW_ANOMALY_FIELDS = set(_NEW_ANOMALY_COLUMNS.split(", ")) - {"components"}
_NEW_ANOMALY_INSERT = f"{_NEW_ANOMALY_COLUMNS}, list_json"


def _insert_new(q, anomalies: list[Anomaly]) -> str:
    """The statement writing a tenant's new anomalies (one per tenant and transaction). As jsonb, the rows are
    parsed once (as json they were checked by json_in, read again by json_populate_recordset, and their
    components and attributes parsed a third time into their jsonb columns)."""
    return (
        f"INSERT INTO dd0c.anomalies ({_NEW_ANOMALY_INSERT}) SELECT {_NEW_ANOMALY_INSERT} "
        f"FROM jsonb_populate_recordset(NULL::dd0c.anomalies, {q(_new_anomalies(anomalies))}::jsonb)"
    )


def _score_tenants(
    conn: Connection,
    events: Sequence[CostEvent],
    groups: list[tuple[UUID, list[int]]],
    config: ScoringConfig,
    results: list,
) -> None:
    """Score ``groups`` (tenant, event indexes) in one transaction, driven by hand in two round
    trips: ``BEGIN; SELECT dd0c.scoring_load(...); ...`` and ``INSERT INTO dd0c.anomalies ...;
    SELECT dd0c.scoring_save(...); ...; COMMIT`` (simple-protocol statements with quoted literals;
    grown anomalies, when there are any, in between). Fewer round trips than psycopg's own
    BEGIN/COMMIT, and cheaper for the client than pipeline mode. Fills ``results``; raises (after
    ROLLBACK) if anything failed."""
    if conn.closed:  # e.g. the server went away in an earlier attempt: a dependency failure, by name
        raise pg_errors.OperationalError("the connection is closed")
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("score_cost_events needs a connection that is not inside a transaction")
    autocommit = conn.autocommit
    conn.autocommit = True  # BEGIN/COMMIT are ours
    out: list = list(results)
    try:
        work = [_Tenant(t, indexes, events) for t, indexes in groups]
        # scoring_load/scoring_save act only for the transaction's tenant (migration 008): each
        # call is preceded by the set_config that makes its tenant the transaction's.
        q = _quoter(conn)
        got = _round_trip(
            conn,
            "BEGIN; "
            + "; ".join(
                f"SELECT set_config('dd0c.tenant_id', {q(str(w.tenant_id))}, true); "
                f"SELECT dd0c.scoring_load({q(str(w.tenant_id))}::uuid, {q(w.load_payload())}::json) AS loaded"
                for w in work
            ),
        )
        # results: BEGIN, then (set_config, scoring_load) per tenant
        loaded = [orjson.loads(got[2 + 2 * k].get_value(0, 0) or b"") for k in range(len(work))]
        active = [work[-1].tenant_id]  # the last set_config is in force

        for w, got in zip(work, loaded, strict=True):

            def as_tenant(tenant_id=w.tenant_id) -> None:
                """Before a statement of this tenant's: make it the transaction's tenant."""
                if active[0] != tenant_id:
                    conn.execute("SELECT set_config('dd0c.tenant_id', %s, true)", [str(tenant_id)])
                    active[0] = tenant_id

            _score_one_tenant(conn, w, got, config, out, as_tenant)
        _round_trip(conn, _last_round_trip(work, q, active))
    except BaseException:
        if not conn.closed and not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        raise
    finally:
        if not conn.closed:
            conn.autocommit = autocommit
    results[:] = out


def _round_trip(conn: Connection, query: str) -> list[PGresult]:
    """One simple-protocol round trip on the connection's libpq handle: send the statements, then
    collect every statement's result; the first error is raised as psycopg raises it (a lost
    connection as ``OperationalError``). psycopg's ``execute`` costs the client ~40 us more per
    call (cursor, row factory, generators); the scorer reads its one text value itself."""
    pgconn = conn.pgconn
    pgconn.send_query(query.encode())
    while pgconn.flush():  # psycopg's connections are nonblocking: the rest of a long query
        readable, _w, _x = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:
            pgconn.consume_input()
    results = []
    while True:
        # Never block inside libpq: it would hold the GIL while the server waits, e.g. on a row
        # lock another thread's transaction holds (that thread could then never commit).
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            break
        results.append(result)
    if pgconn.status == ConnStatus.BAD:
        raise pg_errors.OperationalError(f"the connection was lost: {pgconn.get_error_message()}")
    for result in results:
        if result.status == ExecStatus.FATAL_ERROR:
            raise pg_errors.error_from_result(result, encoding=conn.info.encoding)
    return results


def _last_round_trip(work: list[_Tenant], q, active: list) -> str:
    """Every tenant's writes (new anomalies, state), then COMMIT."""
    writes = []
    for w in work:
        if w.scores or w.created:
            writes.append(_writes(w, q, set_tenant=active[0] != w.tenant_id))
            active[0] = w.tenant_id
    return "; ".join([*writes, "COMMIT"])


def _writes(w: _Tenant, q, *, set_tenant: bool) -> str:
    """The tenant's statements of the last round trip: its new anomalies, then its state (first
    making it the transaction's tenant, unless it already is)."""
    tenant = q(str(w.tenant_id))
    out = [f"SELECT set_config('dd0c.tenant_id', {tenant}, true)"] if set_tenant else []
    if w.created:
        out.append(_insert_new(q, w.created))
    if w.scores:
        out.append(f"SELECT dd0c.scoring_save({tenant}::uuid, {q(w.save_payload())}::jsonb)")
    return "; ".join(out)


def _score_one_tenant(conn: Connection, w: _Tenant, loaded: dict, config: ScoringConfig, out: list, as_tenant) -> None:
    """Run the core over one tenant's events; write its anomalies (``as_tenant()`` first)."""
    w.series = series = {row["k"]: _load(SeriesState, row) for row in loaded["series"]}
    w.tenant = tenant = _load(TenantState, loaded["tenant"])
    for dim, key, last, usd in loaded["novelty"]:
        tenant.novelty[dim][key] = [last, usd]
    claimed = set(loaded["claimed"])
    cfg = config.with_overrides(loaded["settings"])
    rules = _rules(loaded["rules"])
    events, scores, touched = w.events, w.scores, w.touched
    unpriced_line: dict | None = None  # read once, only when the batch has an unpriced event
    results: list[ScoreResult | None] = [None] * len(events)
    pending: dict[str, _Pending] = {}
    redelivered: list[int] = []
    for i, event in enumerate(events):
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
        if ev.action == "none":
            continue
        p = pending.get(ev.anomaly_id)
        if p is None:
            p = pending[ev.anomaly_id] = _Pending(
                ev.anomaly_id, ev.action == "create", event, obs, ev.burst, ev.score, (), ev.severity
            )
        p.event, p.obs, p.score, p.severity, p.burst = event, obs, ev.score, ev.severity, ev.burst
        # the reasons are rendered now (they read the live state); the models only for the last
        # event that touches the anomaly, whose components the anomaly keeps (below)
        p.rendered = ev.rendered()
        p.attributes = {**p.attributes, **_attributes(p)}
        p.bump = p.bump or ev.bump
        p.event_ids.extend(ev.new_event_ids)
        p.resource_ids.extend(ev.new_resource_ids)
        p.indexes.append(i)

    # Grown anomalies before the state is saved, so that a vanished anomaly row can still be
    # replaced before the series state (which points at it) is written. New ones are written in
    # the transaction's last round trip (_writes), before the state.
    for p in pending.values():
        p.components = as_components(p.rendered)
        if p.created:
            anomaly = _anomaly_of(p)
            w.created.append(anomaly)
            _assign(results, p, anomaly, revision=1, notify=True)
            continue
        a = _anomaly_of(p)
        as_tenant()
        row = conn.execute(
            _GROW,
            {
                "id": a.id,
                "event_ids": p.event_ids,
                "resource_ids": p.resource_ids,
                "detected_at": a.detected_at,
                "score": a.score,
                "severity": a.severity.value,
                "usd": a.estimated_hourly_usd,
                "summary": a.summary,
                "components": _json([c.model_dump() for c in a.components]),
                "attributes": _json(a.attributes),
                "bump": p.bump,
            },
        ).fetchone()
        if row is None:
            # The anomaly row is gone (deleted by an operator): raise a fresh one for the rest.
            p.anomaly_id = p.burst["aid"] = str(uuid.uuid4())
            p.created = True
            anomaly = _anomaly_of(p)
            w.created.append(anomaly)
            _assign(results, p, anomaly, revision=1, notify=True)
            continue
        revision, notified = row.pop("revision"), row.pop("notified_revision")
        _assign(results, p, Anomaly.model_validate(row), revision=revision, notify=p.bump and revision > notified)
    if redelivered:
        as_tenant()
        _redelivered(conn, events, redelivered, results)
    for i, r in zip(w.indexes, results, strict=True):
        out[i] = r


def _unpriced_line(conn: Connection, tenant_id: UUID, as_tenant) -> dict:
    """The tenant's line for unpriced shapes (migration 011); {} when it keeps the default.
    Read only for a batch holding an unpriced event, so that priced batches keep two round trips."""
    as_tenant()
    row = conn.execute(
        "SELECT unpriced_alert_score FROM dd0c.tenant_settings WHERE tenant_id = %s", [tenant_id]
    ).fetchone()
    return {"unpriced_alert_score": row["unpriced_alert_score"]} if row and row["unpriced_alert_score"] else {}


def _redelivered(conn: Connection, events: Sequence[CostEvent], indexes: list[int], results: list) -> None:
    """Events already scored: if they raised or grew an anomaly that was never posted, hand it on
    again, so a crash between commit and send loses nothing."""
    rows = conn.execute(
        f"""SELECT {store._ANOMALY_COLUMNS}, revision, notified_revision FROM dd0c.anomalies
            WHERE event_ids && %s::text[]""",
        [[events[i].event_id for i in indexes]],
    ).fetchall()
    found = []
    for row in rows:
        revision, notified = row.pop("revision"), row.pop("notified_revision")
        found.append((Anomaly.model_validate(row), revision, notified))
    for i in indexes:
        match = next((f for f in found if events[i].event_id in f[0].event_ids), None)
        if match and match[2] < match[1]:
            results[i] = ScoreResult(
                match[0], revision=match[1], needs_notify=True, already_scored=True, outcome="already_scored"
            )
        else:
            results[i] = ScoreResult(None, already_scored=True, outcome="already_scored")


__all__ = ["COMPONENT_ORDER", "ScoreResult", "score_cost_events"]
