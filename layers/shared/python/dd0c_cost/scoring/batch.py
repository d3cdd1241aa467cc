"""One tenant's share of a scoring transaction: its events, the state ``dd0c.scoring_load`` hands
back (rows as JSON) and what ``dd0c.scoring_save`` stores (a JSON argument and the state texts)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from psycopg import pq
from psycopg.abc import Dumper
from psycopg.adapt import PyFormat, Transformer

from dd0c_cost.db.one_trip import Statement
from dd0c_cost.events.models import CostEvent
from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.scoring.observation import Observation, actor_key_of, sanitize
from dd0c_cost.scoring.series import FeedbackRule, SeriesState, TenantState


def state_of(cls, row: dict | None):
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


def _baseline_row(b) -> dict[str, Any]:
    return {"n": b.n, "mean": b.mean, "m2": b.m2, "w": b.w, "level": b.level, "first": b.first_t, "last": b.t_last}


def rules_of(rows: list[dict[str, Any]] | None) -> list[FeedbackRule]:
    """The feedback rules as ``dd0c.scoring_load`` returns them."""
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


class TenantBatch:
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
        self.grown: list[Statement] = []  # grown anomalies' list_json, written in the last round trip too

    def load_payload(self) -> bytes:
        """``dd0c.scoring_load``'s argument: the series, events, accounts, types and novelty keys."""
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
        )

    def loaded(self, got: dict) -> None:
        """Take the series and tenant state ``dd0c.scoring_load`` returned."""
        self.series = {row["k"]: state_of(SeriesState, row) for row in got["series"]}
        self.tenant = tenant = state_of(TenantState, got["tenant"])
        for dim, key, last, usd in got["novelty"]:
            tenant.novelty[dim][key] = [last, usd]

    def save_statement(self, statement: bytes, tenant: bytes) -> Statement:
        """``dd0c.scoring_save``'s call (migration 032): a JSON argument with the touched series, the tenant,
        novelty keys and scores, then the series' state texts (a text[], in binary: PostgreSQL need not parse
        it) in the order of the series, then the tenant's."""
        series, tenant_state = self.series, self.tenant
        keys = sorted(self.touched)
        payload = orjson.dumps(
            {
                "series": [{"k": k, "i": i, **_baseline_row(series[k])} for i, k in enumerate(keys, 1)],
                "tenant": _baseline_row(tenant_state),
                "novelty": tenant_state.novelty_rows(),
                "events": self.scores,
            }
        )
        states = text_array().dump([_text(series[k].state_json()) for k in keys]) if keys else b"{}"
        formats = [pq.Format.TEXT, pq.Format.TEXT, pq.Format.BINARY if keys else pq.Format.TEXT, pq.Format.TEXT]
        tenant_text = _text(tenant_state.state_json(novelty=False)).encode()
        return Statement(statement, [tenant, payload, states, tenant_text], formats=formats)


@functools.cache
def text_array() -> Dumper:
    """psycopg's dumper of a list of str as a binary text[] (made once: a Transformer costs more than the dump)."""
    return Transformer().get_dumper(["text"], PyFormat.BINARY)
