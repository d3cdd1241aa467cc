"""A digest of everything the scoring core decides on generated streams, to prove that a change
meant to make it faster changed no result.

    python -m dd0c_cost_tools.bench.engine_trace [--events N] [--corpus DIR]

Streams: ``bench score``'s priced EC2 churn (three seeds), ``bench streams``' CloudTrail trail
(normalised by the live normaliser: priced and unpriced changes), and, with ``--corpus``, the
licensed CloudTrail corpus. Each cost event goes through what ``scorer.py`` runs per event
(``sanitize``, ``step`` or ``step_unpriced``) with anomaly ids from a counter, and feedback rules
made from every third anomaly (so the feedback damper is exercised). Per event the trace holds
the score, every component's value and rendered reason, the action, anomaly id, severity, bump,
new ids and the burst; at the end every series' and tenant's state. Printed: one SHA-256 per
stream and the counts of each action. Run it before and after a change: equal digests, equal
results.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import orjson

from dd0c_cost.events.models import CostEvent
from dd0c_cost.scoring.config import DEFAULT_CONFIG
from dd0c_cost.scoring.engine import step
from dd0c_cost.scoring.observation import Ignored, Observation, sanitize
from dd0c_cost.scoring.series import FeedbackRule, SeriesState, TenantState
from dd0c_cost.scoring.shape import step_unpriced

_TENANT = uuid.UUID(int=1)


def trace(events: Iterable[CostEvent]) -> tuple[str, Counter]:
    """(SHA-256 of the trace, counts of actions and ignore reasons)."""
    digest, counts = hashlib.sha256(), Counter()
    series: dict[str, SeriesState] = {}
    tenants: dict[str, TenantState] = {}
    rules: list[FeedbackRule] = []
    ids = itertools.count(1)

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=next(ids))

    for event in events:
        key = f"{event.tenant_id}:{event.account_id}:{event.resource_type}"
        s = series.setdefault(key, SeriesState())
        tn = tenants.setdefault(str(event.tenant_id), TenantState())
        obs = sanitize(event)
        if isinstance(obs, Ignored):
            shaped = step_unpriced(event, s, tn, DEFAULT_CONFIG, new_id=new_id) if obs.code == "price_unknown" else None
            if shaped is None:
                counts[f"ignored:{obs.code}"] += 1
                digest.update(orjson.dumps([event.event_id, obs.code, obs.detail]))
                continue
            ev, obs = shaped
        else:
            ev = step(obs, s, tn, DEFAULT_CONFIG, rules, new_id=new_id)
        counts[ev.action] += 1
        digest.update(
            orjson.dumps(
                [
                    event.event_id,
                    ev.score,
                    [(name, value, reason()) for name, value, reason in ev.parts],
                    ev.action,
                    ev.anomaly_id,
                    ev.severity.value,
                    ev.bump,
                    ev.new_event_ids,
                    ev.new_resource_ids,
                    ev.burst,
                ],
                option=orjson.OPT_NON_STR_KEYS,
            )
        )
        if ev.action == "create" and counts["create"] % 3 == 0:
            rules.append(_rule_of(obs, ev, len(rules)))
    for key in sorted(series):
        digest.update(orjson.dumps([key, series[key].state_json(), _numbers(series[key])]))
    for key in sorted(tenants):
        tn = tenants[key]
        digest.update(orjson.dumps([key, tn.state_json(), _numbers(tn), sorted(tn.dirty.items())]))
    return digest.hexdigest(), counts


def _numbers(b) -> list:
    return [b.n, b.mean, b.m2, b.w, b.level, b.t_last, b.first_t]


def _rule_of(obs: Observation, ev, n: int) -> FeedbackRule:
    b = ev.burst or {}
    return FeedbackRule(
        anomaly_id=str(ev.anomaly_id),
        status="expected" if n % 2 else "false_positive",
        account_id=obs.account_id,
        resource_type=obs.resource_type,
        actor_key=obs.actor_key,
        region=obs.region,
        families=tuple(b.get("fam") or ()),
        hourly_usd=float(b.get("u") or obs.x),
        t=obs.t,
        by="trace",
    )


def priced_churn(n: int, seed: int) -> list[CostEvent]:
    from dd0c_cost_tools.bench.score_core import synthetic_cost_events

    names, accounts, events = synthetic_cost_events(n, seed=seed)
    owner = {acct: uuid.UUID(int=10 + i) for i, name in enumerate(names) for acct in accounts[name]}
    rng_ids = itertools.count()
    # synthetic_cost_events draws event ids from uuid4: replace them by a counter (same order)
    return [e.model_copy(update={"tenant_id": owner[e.account_id], "event_id": f"e{next(rng_ids)}"}) for e in events]


def normalised(records: Iterable[dict]) -> list[CostEvent]:
    from dd0c_cost.events.normalize import MemoryHistory, OutcomeKind, normalize_record
    from dd0c_cost.pricing import get_price_book

    book, history = get_price_book(), MemoryHistory()
    out = []
    for record in records:
        outcome = normalize_record(record, _TENANT, book, history)
        if outcome.kind is OutcomeKind.COST_EVENT and outcome.cost_event is not None:
            out.append(outcome.cost_event)
    out.sort(key=lambda e: e.event_time)
    return out


def trail(n: int) -> list[CostEvent]:
    from dd0c_cost_tools.bench.streams import write_stream

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_stream(Path(tmp), n, cost_share=0.3, weeks=8.0)
        records = [orjson.loads(line) for p in paths for line in p.read_bytes().splitlines()]
    return normalised(records)


def corpus(directory: Path) -> list[CostEvent]:
    records = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            records.extend(value.get("Records", [value]) if isinstance(value, dict) else [])
    return normalised(records)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dd0c_cost_tools.bench.engine_trace", description=__doc__)
    p.add_argument("--events", type=int, default=20_000, help="events per priced stream (default %(default)s)")
    p.add_argument("--corpus", type=Path, help="a folder of CloudTrail JSON Lines (e.g. the shared corpus)")
    a = p.parse_args(argv)
    streams: list[tuple[str, list[CostEvent]]] = [
        (f"priced churn seed {seed}", priced_churn(a.events, seed)) for seed in (7, 8, 9)
    ]
    streams.append(("trail (normalised)", trail(a.events * 2)))
    if a.corpus:
        streams.append(("corpus", corpus(a.corpus)))
    for name, events in streams:
        digest, counts = trace(events)
        print(f"{name:22s} {len(events):7,d} events  {digest}  {dict(sorted(counts.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
