"""The synthetic cost-event stream the scoring benchmarks feed (``bench score``, ``bench
score-counts``, the engine trace): priced EC2 launches and terminations per account, how SQS
delivers them to the score function, and how they are stored before scoring, as the normalise
stage would."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

_ITYPES = (("m5.large", 0.096), ("c5.xlarge", 0.17), ("t3.medium", 0.0416), ("r5.2xlarge", 0.504))
GPU_TYPE, GPU_UNIT, GPUS = "p4d.24xlarge", 32.77, 8
# One change to an account's fleet: (the instances (id, $/h, type), $/h, action, type, $/h of one unit).
Change = tuple[list[tuple[str, float, str]], float, Any, str, float]


def synthetic_cost_events(n: int, tenants: int = 20, accounts_per_tenant: int = 2, seed: int = 7):
    """A deterministic stream of priced EC2 cost events in event-time order: per account a steady
    churn (a call every 3 h on average, so the stream covers a couple of weeks: cold start, then
    warm baselines) of small launches and terminations by a few people and an autoscaling role,
    with a rare burst (20 launches in minutes, 0.5 % of calls) and a rarer GPU launch (0.1 %). Returns
    (tenant names, {tenant name: [account ids]}, [CostEvent]) with placeholder tenant ids."""
    from datetime import UTC, datetime

    rng = random.Random(seed)
    names = [f"bench-{i:03d}" for i in range(tenants)]
    accounts = {
        name: [f"{100000000000 + i * 100 + j:012d}" for j in range(accounts_per_tenant)] for i, name in enumerate(names)
    }
    streams = [(name, acct) for name in names for acct in accounts[name]]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    per_stream = max(1, n // len(streams))
    instance_numbers = itertools.count(1)  # instance ids are unique across the whole stream
    out: list = []
    for _name, acct in streams:
        out.extend(_account_events(rng, acct, start, per_stream, instance_numbers))
    out.sort(key=lambda p: p[0])
    return names, accounts, [e for _, e in out]


def _account_events(rng: random.Random, acct: str, start, per_stream: int, instance_numbers: Iterator[int]) -> list:
    """(event time, CostEvent) of one account, at least ``per_stream`` of them."""
    from datetime import timedelta

    from dd0c_cost.events.models import Actor

    t = start
    running: list[tuple[str, float, str]] = []  # (instance id, $/h, type)
    people = [Actor(display_name=p, principal_arn=f"arn:aws:iam::{acct}:user/{p}") for p in ("ana", "bo", "cy")]
    asg = Actor(
        display_name="asg/AutoScaling",
        principal_arn=f"arn:aws:sts::{acct}:assumed-role/asg/AutoScaling",
        session_issuer_arn=f"arn:aws:iam::{acct}:role/asg",
    )
    out: list = []
    while len(out) < per_stream:
        t += timedelta(minutes=rng.expovariate(1 / 180.0))
        roll = rng.random()
        changes = _fleet_changes(rng, roll, running, instance_numbers)
        actor = asg if 0.42 <= roll < 0.425 or rng.random() < 0.3 else people[rng.randrange(3)]
        for k, change in enumerate(changes):
            when = t + timedelta(seconds=10 * k)
            out.append((when, _cost_event(acct, when, actor, change)))
    return out


def _fleet_changes(
    rng: random.Random, roll: float, running: list[tuple[str, float, str]], instance_numbers: Iterator[int]
) -> list[Change]:
    """What one call does to the account's running instances (``running`` is updated): a
    termination of 1-3 of them, a burst of 20 single launches, a GPU launch or a small launch."""
    from dd0c_cost.events.models import CostAction

    def launch(unit: float, itype: str) -> tuple[str, float, str]:
        instance = (f"i-{next(instance_numbers):017x}", unit, itype)
        running.append(instance)
        return instance

    if running and roll < 0.42:
        k = min(len(running), rng.randint(1, 3))
        gone = running[:k]
        del running[:k]
        return [(gone, -sum(r[1] for r in gone), CostAction.DELETE, gone[0][2], 1.0)]
    if roll < 0.425:  # a burst: 20 single launches within minutes
        itype, unit = _ITYPES[0]
        return [([launch(unit, itype)], unit, CostAction.CREATE, itype, unit) for _ in range(20)]
    if roll < 0.426:
        gpu = launch(GPUS * GPU_UNIT, GPU_TYPE)
        return [([gpu], GPUS * GPU_UNIT, CostAction.CREATE, GPU_TYPE, GPU_UNIT)]
    itype, unit = _ITYPES[rng.randrange(len(_ITYPES))]
    q = rng.randint(1, 4)
    return [([launch(unit, itype) for _ in range(q)], q * unit, CostAction.CREATE, itype, unit)]


def _cost_event(acct: str, when, actor, change: Change):
    import uuid

    from dd0c_cost.events.models import CostAction, CostEvent, PriceQuote

    res, usd, action, itype, unit = change
    return CostEvent(
        tenant_id=uuid.UUID(int=0),
        account_id=acct,
        region="us-east-1",
        event_id=uuid.uuid4().hex,
        event_time=when,
        event_source="ec2.amazonaws.com",
        event_name="RunInstances" if action is CostAction.CREATE else "TerminateInstances",
        actor=actor,
        service="ec2",
        resource_type="ec2:instance",
        resource_ids=[r[0] for r in res],
        action=action,
        quantity=float(len(res) if action is CostAction.DELETE else max(1, round(usd / unit))),
        attributes={"instance_type": itype},
        unit_price=PriceQuote(usd_per_hour=unit, source="bench", as_of="2026-01-01"),
        estimated_usd_per_hour=round(usd, 6),
    )


def sqs_batches(bodies: list[tuple[str, str]], mode: str) -> list[list[str]]:
    """SQS deliveries: ``group`` = up to 10 consecutive messages of one FIFO group, ``mixed`` =
    10 consecutive messages in arrival order, ``single`` = one message per call."""
    if mode == "single":
        return [[b] for _, b in bodies]
    if mode == "mixed":
        flat = [b for _, b in bodies]
        return [flat[i : i + 10] for i in range(0, len(flat), 10)]
    per_group: dict[str, list[str]] = {}
    for group, body in bodies:
        per_group.setdefault(group, []).append(body)
    queues = list(per_group.items())
    out, i = [], 0
    while queues:  # round robin over groups, as concurrent pollers would drain them
        _g, q = queues[i % len(queues)]
        out.append(q[:10])
        del q[:10]
        if not q:
            queues.pop(i % len(queues))
        else:
            i += 1
    return out


def store_cost_events(url: str, conn, stream) -> tuple[list, dict[str, str]]:
    """A synthetic stream's tenants and accounts made by the operator, and its cost events stored under
    RLS through ``conn``: the events with their tenant ids, and the tenant id by name."""
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.events.store import insert_cost_event

    names, accounts, events = stream
    op = operator.open_operator_connection(url)
    ids = {name: operator.ensure_tenant(op, name) for name in names}
    for name in names:
        operator.attach_accounts(op, ids[name], set(accounts[name]))
    op.close()
    owner = {acct: ids[name] for name in names for acct in accounts[name]}
    events = [e.model_copy(update={"tenant_id": owner[e.account_id]}) for e in events]
    for tenant_id in ids.values():
        with conn.pipeline(), tenant_transaction(conn, tenant_id):
            for e in events:
                if e.tenant_id == tenant_id:
                    insert_cost_event(conn, e)
    return events, ids
