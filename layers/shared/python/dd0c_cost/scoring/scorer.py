"""Scoring cost events in PostgreSQL: load the series' and tenant's state under row locks, run the
pure core (``engine.step``) once per event, save everything in the same transaction.

Concurrency. The cost-events FIFO group is (tenant, account, service), so one series (account,
resource type) is only ever advanced by one group, in order. A transaction locks, in this order:
its series rows (sorted by key), its cost-event rows (the once-only claim), then the tenant's
baseline row. Every transaction takes the tenant row last and series rows of different groups
never overlap, so two Lambdas scoring one tenant serialise on the tenant row and cannot deadlock;
a redelivered message of the same group waits on the series row and then finds its events
already claimed. Each event updates state exactly once: the claim (``scored_at``) and the state
are committed together.

Batching. ``score_cost_events(conn, events)`` scores a whole SQS batch with one transaction per
group and pipelines the statements (about three round trips per group, whatever its size).
``score_cost_event`` is the one-event form the per-record handler uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import psycopg

from dd0c_cost.events.models import CostEvent
from dd0c_cost.scoring import store
from dd0c_cost.scoring.config import DEFAULT_CONFIG, ScoringConfig, TENANT_SETTING_COLUMNS, config_from_settings
from dd0c_cost.scoring.engine import (
    COMPONENT_ORDER,
    FeedbackRule,
    Ignored,
    Observation,
    SeriesState,
    TenantState,
    burst_summary,
    sanitize,
    step,
)
from dd0c_cost.scoring.models import Anomaly, ScoreComponent, Severity

# Kept for callers of the first slice: the scorer's parameters.
Thresholds = ScoringConfig
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
    components: tuple[ScoreComponent, ...] = ()
    error: BaseException | None = None


def thresholds_from(settings) -> ScoringConfig:
    """Process-wide defaults from Settings (tenant rows in dd0c.tenant_settings override them)."""
    return config_from_settings(settings)


def score_cost_event(conn: psycopg.Connection, event: CostEvent, config: ScoringConfig | None = None) -> ScoreResult:
    """Score one cost event (one transaction). Raises if the database work failed (so SQS retries)."""
    result = score_cost_events(conn, [event], config)[0]
    if result.error is not None:
        raise result.error
    return result


def score_cost_events(conn: psycopg.Connection, events: Sequence[CostEvent],
                      config: ScoringConfig | None = None) -> list[ScoreResult]:
    """Score a batch: one transaction per (tenant, account, service) group, in the given order
    within a group. A failed group's events get ``outcome="error"`` (and ``error``); the other
    groups are committed."""
    config = config or DEFAULT_CONFIG
    results: list[ScoreResult | None] = [None] * len(events)
    groups: dict[tuple, list[int]] = {}
    for i, e in enumerate(events):
        groups.setdefault((e.tenant_id, e.account_id, e.service), []).append(i)
    for indexes in groups.values():
        batch = [events[i] for i in indexes]
        try:
            out = _score_group(conn, batch, config)
        except Exception as exc:  # noqa: BLE001 - reported per event; the caller retries the group
            out = [ScoreResult(None, outcome="error", reason=type(exc).__name__, detail=str(exc), error=exc)] * len(batch)
        for i, r in zip(indexes, out, strict=True):
            results[i] = r
    return results  # type: ignore[return-value]


# ------------------------------------------------------------------------------------ rows <-> state
def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _series_from_row(row: dict) -> SeriesState:
    state = orjson.loads(row["state"]) if row["state"] else {}
    s = SeriesState(row["n"], row["mean"], row["m2"], row["weight"], row["level_usd_per_hour"],
                    _epoch(row["last_event_at"]), _epoch(row["first_event_at"]))
    if not s.load_json(state):
        s = SeriesState()  # no state of this version (e.g. the first slice's row): start again
    return s


def _tenant_from_row(row: dict) -> TenantState:
    state = orjson.loads(row["state"]) if row["state"] else {}
    t = TenantState(row["n"], row["mean"], row["m2"], row["weight"], row["level_usd_per_hour"],
                    _epoch(row["last_event_at"]), _epoch(row["first_event_at"]))
    if not t.load_json(state):
        t = TenantState()
    return t


def _baseline_params(b) -> list[Any]:
    return [b.n, b.mean, b.m2, b.w, b.level, _ts(b.first_t), _ts(b.t_last), orjson.dumps(b.state_json()).decode()]


_SET_BASELINE = """n = %s, mean = %s, m2 = %s, weight = %s, level_usd_per_hour = %s,
    first_event_at = %s, last_event_at = %s, state = %s::jsonb"""
_BASELINE_COLUMNS = "n, mean, m2, weight, level_usd_per_hour, first_event_at, last_event_at, state::text AS state"


def _rule_from_row(row: dict) -> FeedbackRule:
    return FeedbackRule(
        anomaly_id=str(row["anomaly_id"]), status=row["status"], account_id=row["account_id"],
        resource_type=row["resource_type"], actor_key=row["actor_key"], region=row["region"],
        families=tuple(row["families"] or ()), hourly_usd=float(row["hourly_usd"]),
        t=row["event_time"].timestamp(), by=row["created_by"],
    )


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
    bump: bool = False
    event_ids: list[str] = field(default_factory=list)
    resource_ids: list[str] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # events (in this group) that touched it


def _attributes(p: _Pending) -> dict[str, Any]:
    b = p.burst
    types = b["ty"]
    attrs: dict[str, Any] = {k: v for k, v in p.event.attributes.items() if k != "instance_type"}
    attrs.update({
        "quantity": b["q"],
        "actor_name": b["nm"],
        "actor_key": p.obs.actor_key,
        "event_time": p.event.event_time.isoformat(),
        "first_event_time": _ts(b["t0"]).isoformat(),
        "burst_events": b["n"],
        "regions": list(b["rg"]),
        "families": list(b["fam"]),
        "instance_types": dict(types),
    })
    if len(types) == 1 and p.obs.instance_type:
        attrs["instance_type"] = next(iter(types))
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
        attributes=_attributes(p),
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


# ------------------------------------------------------------------------------------ one group
def _score_group(conn: psycopg.Connection, events: list[CostEvent], config: ScoringConfig) -> list[ScoreResult]:
    tenant_id = events[0].tenant_id
    account_id = events[0].account_id
    series_keys = sorted({f"{e.account_id}:{e.resource_type}" for e in events})
    resource_types = sorted({e.resource_type for e in events})
    event_ids = [e.event_id for e in events]
    results: list[ScoreResult | None] = [None] * len(events)

    with conn.pipeline(), conn.transaction():
        conn.execute("SELECT set_config('dd0c.tenant_id', %s, true)", [str(tenant_id)])
        conn.execute(
            """INSERT INTO dd0c.spend_baselines (tenant_id, series_key)
               SELECT %s, k FROM unnest(%s::text[]) AS k ORDER BY k ON CONFLICT DO NOTHING""",
            [tenant_id, series_keys],
        )
        cur_series = conn.execute(
            f"""SELECT series_key, {_BASELINE_COLUMNS} FROM dd0c.spend_baselines
                WHERE tenant_id = %s AND series_key = ANY(%s) ORDER BY series_key FOR UPDATE""",
            [tenant_id, series_keys],
        )
        cur_claim = conn.execute(
            """SELECT event_id FROM dd0c.cost_events
               WHERE tenant_id = %s AND event_id = ANY(%s) AND scored_at IS NULL FOR UPDATE""",
            [tenant_id, event_ids],
        )
        conn.execute("INSERT INTO dd0c.tenant_baselines (tenant_id) VALUES (%s) ON CONFLICT DO NOTHING", [tenant_id])
        cur_tenant = conn.execute(
            f"SELECT {_BASELINE_COLUMNS} FROM dd0c.tenant_baselines WHERE tenant_id = %s FOR UPDATE", [tenant_id]
        )
        cur_settings = conn.execute(
            f"SELECT {', '.join(TENANT_SETTING_COLUMNS)} FROM dd0c.tenant_settings WHERE tenant_id = %s", [tenant_id]
        )
        cur_rules = conn.execute(
            """SELECT anomaly_id, status, account_id, resource_type, actor_key, region, families, hourly_usd,
                      event_time, created_by
               FROM dd0c.scoring_feedback
               WHERE tenant_id = %s AND account_id = %s AND resource_type = ANY(%s)
               ORDER BY event_time DESC LIMIT 200""",
            [tenant_id, account_id, resource_types],
        )
        series = {row["series_key"]: _series_from_row(row) for row in cur_series.fetchall()}
        claimed = {row["event_id"] for row in cur_claim.fetchall()}
        tenant = _tenant_from_row(cur_tenant.fetchone())
        cfg = config.with_overrides(cur_settings.fetchone())
        rules = [_rule_from_row(r) for r in cur_rules.fetchall()]

        scores: list[tuple[str, float | None, str | None]] = []
        pending: dict[str, _Pending] = {}
        redelivered: list[int] = []
        touched: set[str] = set()
        for i, event in enumerate(events):
            if event.event_id not in claimed:
                redelivered.append(i)
                continue
            claimed.discard(event.event_id)  # the same id twice in one batch counts once
            obs = sanitize(event)
            key = f"{event.account_id}:{event.resource_type}"
            if isinstance(obs, Ignored):
                series[key].ignored += 1
                tenant.ignored += 1
                touched.add(key)
                scores.append((event.event_id, None, None))
                results[i] = ScoreResult(None, outcome="ignored", reason=obs.code, detail=obs.detail)
                continue
            ev = step(obs, series[key], tenant, cfg, rules)
            touched.add(key)
            scores.append((event.event_id, ev.score, _json(ev.values)))
            results[i] = ScoreResult(None, outcome="scored", score=ev.score, components=ev.components)
            if ev.action == "none":
                continue
            p = pending.get(ev.anomaly_id)
            if p is None:
                p = pending[ev.anomaly_id] = _Pending(ev.anomaly_id, ev.action == "create", event, obs, ev.burst,
                                                      ev.score, ev.components, ev.severity)
            p.event, p.obs, p.score, p.components, p.severity = event, obs, ev.score, ev.components, ev.severity
            p.burst = ev.burst
            p.bump = p.bump or ev.bump
            p.event_ids.extend(ev.new_event_ids)
            p.resource_ids.extend(ev.new_resource_ids)
            p.indexes.append(i)

        # --- writes (pipelined): anomalies first, so a vanished anomaly row can still be
        # replaced before the series state (which points at it) is written ---
        grown: list[tuple[_Pending, Any]] = []
        created: list[_Pending] = []
        for p in pending.values():
            if p.created:
                store.insert_anomaly(conn, _anomaly_of(p))
                created.append(p)
            else:
                a = _anomaly_of(p)
                cur = conn.execute(_GROW, {
                    "id": a.id, "event_ids": p.event_ids, "resource_ids": p.resource_ids,
                    "detected_at": a.detected_at, "score": a.score, "severity": a.severity.value,
                    "usd": a.estimated_hourly_usd, "summary": a.summary,
                    "components": _json([c.model_dump() for c in a.components]),
                    "attributes": _json(a.attributes), "bump": p.bump,
                })
                grown.append((p, cur))
        for p in created:
            anomaly = _anomaly_of(p)
            _assign(results, p, anomaly, revision=1, notify=True)
        for p, cur in grown:
            row = cur.fetchone()
            if row is None:
                # The anomaly row is gone (deleted by an operator): raise a fresh one for the rest.
                p.anomaly_id = str(uuid.uuid4())
                p.burst["aid"] = p.anomaly_id
                store.insert_anomaly(conn, _anomaly_of(p))
                _assign(results, p, _anomaly_of(p), revision=1, notify=True)
                continue
            revision, notified = row.pop("revision"), row.pop("notified_revision")
            anomaly = Anomaly.model_validate(row)
            _assign(results, p, anomaly, revision=revision, notify=p.bump and revision > notified)
        for key in sorted(touched):
            conn.execute(f"UPDATE dd0c.spend_baselines SET {_SET_BASELINE} WHERE tenant_id = %s AND series_key = %s",
                         [*_baseline_params(series[key]), tenant_id, key])
        if scores:
            conn.execute(f"UPDATE dd0c.tenant_baselines SET {_SET_BASELINE} WHERE tenant_id = %s",
                         [*_baseline_params(tenant), tenant_id])
            conn.execute(
                """UPDATE dd0c.cost_events c SET scored_at = now(), score = v.score, score_components = v.comp::jsonb
                   FROM unnest(%s::text[], %s::float8[], %s::text[]) AS v(event_id, score, comp)
                   WHERE c.tenant_id = %s AND c.event_id = v.event_id""",
                [[s[0] for s in scores], [s[1] for s in scores], [s[2] for s in scores], tenant_id],
            )
        cur_redelivered = None
        if redelivered:
            cur_redelivered = conn.execute(
                f"""SELECT {store._ANOMALY_COLUMNS}, revision, notified_revision FROM dd0c.anomalies
                    WHERE event_ids && %s::text[]""",
                [[events[i].event_id for i in redelivered]],
            )

        if cur_redelivered is not None:
            found = []
            for row in cur_redelivered.fetchall():
                revision, notified = row.pop("revision"), row.pop("notified_revision")
                found.append((Anomaly.model_validate(row), revision, notified))
            for i in redelivered:
                match = next((f for f in found if events[i].event_id in f[0].event_ids), None)
                if match and match[2] < match[1]:
                    # Raised or grew an anomaly that was never posted: hand it on again, so a crash
                    # between commit and send loses nothing.
                    results[i] = ScoreResult(match[0], revision=match[1], needs_notify=True, already_scored=True,
                                             outcome="already_scored")
                else:
                    results[i] = ScoreResult(None, already_scored=True, outcome="already_scored")
    return results  # type: ignore[return-value]


def _assign(results: list, p: _Pending, anomaly: Anomaly, *, revision: int, notify: bool) -> None:
    """Every event that touched the anomaly gets it; the last one carries the notification."""
    last = p.indexes[-1]
    for i in p.indexes:
        prev = results[i]
        outcome = "anomaly" if (p.created and i == p.indexes[0]) else "grouped"
        results[i] = ScoreResult(anomaly, revision=revision, needs_notify=notify and i == last,
                                 outcome=outcome, score=prev.score, components=prev.components)


__all__ = ["COMPONENT_ORDER", "ScoreResult", "Thresholds", "score_cost_event", "score_cost_events", "thresholds_from"]
