"""Calendar recurrence (scoring/recurrence.py through engine.step): monthly, month-end, weekly and
every-N-days changes are explained after one earlier occurrence (two for every N days); a first or a
much bigger occurrence still alerts. Event time only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dd0c_cost.events.models import CostAction
from dd0c_cost.scoring.recurrence import rule_between
from tests.unit.test_composite import Engine, event

ROLE = "arn:aws:iam::111122223333:role/batch"
START = datetime(2026, 9, 1, tzinfo=UTC)


def _tenant_with_daily_dev(days: int, *, roundtrip: bool = False) -> tuple[Engine, list]:
    """An established tenant: a developer starts and stops two m5.large every working day."""
    eng = Engine(roundtrip=roundtrip)
    timeline = []
    for d in range(days):
        day = START + timedelta(days=d)
        timeline.append(event(day + timedelta(hours=9), "m5.large", 2, who="dev"))
        timeline.append(event(day + timedelta(hours=17), "m5.large", 2, action=CostAction.DELETE, who="dev"))
    return eng, timeline


def _job(when: datetime, q: int = 10, tag: str = "job") -> list:
    return [
        event(when, "r5.2xlarge", q, who="batch", role=ROLE, event_id=f"{tag}-{when:%Y%m%d}"),
        event(when + timedelta(hours=3), "r5.2xlarge", q, action=CostAction.DELETE, who="batch", role=ROLE),
    ]


def _run(eng: Engine, timeline: list) -> dict[str, object]:
    out = {}
    for e in sorted(timeline, key=lambda e: e.event_time):
        ev = eng(e)
        if e.event_id.startswith(("job-", "big-")):
            out[e.event_id] = ev
    return out


@pytest.mark.parametrize("roundtrip", [False, True])
def test_a_month_end_job_alerts_once_then_is_silent_on_its_second_run(roundtrip):
    eng, timeline = _tenant_with_daily_dev(95, roundtrip=roundtrip)
    ends = [datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 22, 30, tzinfo=UTC)]
    for when in ends:
        timeline += _job(when)
    got = _run(eng, timeline)
    first, second = got["job-20260930"], got["job-20261031"]
    assert first.action == "create"
    assert second.action == "none" and second.score < 0.5
    pattern = next(c for c in second.components if c.name == "pattern")
    assert pattern.value >= 0.8
    assert "month-end" in pattern.reason and "2026-09-30 22:00" in pattern.reason


def test_same_day_of_month_and_much_bigger_still_alerts():
    eng, timeline = _tenant_with_daily_dev(95)
    timeline += _job(datetime(2026, 9, 15, 4, tzinfo=UTC))
    timeline += _job(datetime(2026, 10, 15, 4, tzinfo=UTC))
    timeline += _job(datetime(2026, 11, 15, 4, tzinfo=UTC), q=40, tag="big")
    got = _run(eng, timeline)
    assert got["job-20260915"].action == "create"
    second = got["job-20261015"]
    assert second.action == "none" and "monthly" in next(c.reason for c in second.components if c.name == "pattern")
    assert got["big-20261115"].action == "create"  # 4x the usual count: not the same job


def test_every_ten_days_needs_two_earlier_occurrences():
    eng, timeline = _tenant_with_daily_dev(60)
    for k in range(4):
        timeline += _job(START + timedelta(days=3 + 10 * k, hours=13))
    got = _run(eng, timeline)
    ordered = [got[k] for k in sorted(got)]
    assert ordered[0].action == "create"
    assert ordered[1].action == "create"  # one gap says nothing about N
    assert all(later.action == "none" for later in ordered[2:])
    # Sep 24 is explained by the 10-day rhythm (Oct 4 may also read as "monthly" after Sep 4)
    assert "every 10 days" in next(c.reason for c in ordered[2].components if c.name == "pattern")


def test_another_principal_or_time_of_day_is_not_the_same_job():
    eng, timeline = _tenant_with_daily_dev(95)
    timeline += _job(datetime(2026, 9, 30, 22, tzinfo=UTC))
    noon = datetime(2026, 10, 31, 11, tzinfo=UTC)
    timeline.append(event(noon, "r5.2xlarge", 10, who="batch", role=ROLE, event_id="job-noon"))
    got = _run(eng, timeline)
    assert got["job-noon"].action == "create"


@pytest.mark.parametrize(
    "a, b, rule",
    [
        ("2026-01-31T23:00", "2026-02-28T23:30", "month-end"),
        ("2026-02-28T01:00", "2026-03-31T02:00", "month-end"),
        ("2026-01-15T04:00", "2026-03-15T05:00", "monthly"),
        ("2026-03-02T09:00", "2026-03-16T10:00", "weekly"),
        ("2026-03-02T09:00", "2026-03-02T21:00", None),  # same day
        ("2026-03-02T09:00", "2026-03-12T09:00", None),  # ten days: no calendar rule from one gap
        ("2026-01-15T04:00", "2026-02-15T09:00", None),  # another time of day
    ],
)
def test_calendar_rules(a, b, rule):
    t = [datetime.fromisoformat(x).replace(tzinfo=UTC).timestamp() for x in (a, b)]
    assert rule_between(*t) == rule


def test_many_daily_habits_do_not_push_last_months_job_out():
    """Found by bench detect: three developers x three instance types x an autoscaling group fill
    the series' occurrence list every day; the month-end job's one occurrence must survive."""
    from dd0c_cost.scoring.recurrence import MAX_OCCURRENCES, remember

    occurrences: list = []
    job = {"t0": START.timestamp(), "ty": {"ec2:instance": 20.0}, "q": 20.0, "u": 13.6}
    occurrences = remember(occurrences, job, "role:month-end")
    for d in range(1, 28):
        for who in ("ana", "bo", "cy", "role:asg"):
            for k, itype in enumerate(("t3.medium", "t3.large", "m5.large")):
                t = (START + timedelta(days=d, hours=9 + k)).timestamp()
                burst = {"t0": t, "ty": {f"ec2:instance:{itype}": 1.0}, "q": 1.0, "u": 0.1}
                occurrences = remember(occurrences, burst, who)
    assert len(occurrences) <= MAX_OCCURRENCES
    assert any(o[1] == "role:month-end" for o in occurrences)
    assert occurrences == sorted(occurrences, key=lambda o: o[0])


def _reference_remember(occurrences: list, b: dict, actor_key: str) -> list:
    """The occurrence list's rule as first written (sort by each shape's sorted types, rank, keep):
    the spec the faster ``remember`` must match, order of ties included."""
    from dd0c_cost.scoring.recurrence import KEEP_S, MAX_OCCURRENCES, PER_SHAPE

    t0 = b["t0"]
    for o in occurrences:
        if o[0] == t0 and o[1] == actor_key:
            o[2], o[3], o[4] = dict(b["ty"]), b["q"], round(b["u"], 6)
            break
    else:
        occurrences.append([t0, actor_key, dict(b["ty"]), b["q"], round(b["u"], 6)])
    ranked, per_shape = [], {}
    for o in sorted(occurrences, key=lambda o: -o[0]):
        if t0 - o[0] > KEEP_S:
            continue
        shape = (o[1], tuple(sorted(o[2])))
        rank = per_shape.get(shape, 0)
        if rank >= PER_SHAPE:
            continue
        per_shape[shape] = rank + 1
        ranked.append((rank, -o[0], o))
    ranked.sort(key=lambda r: (r[0], r[1]))
    kept = [o for _, _, o in ranked[:MAX_OCCURRENCES]]
    kept.sort(key=lambda o: o[0])
    return kept


def test_remember_and_match_keep_the_reference_rule_exactly():
    """The hot path's ``remember`` (stable sorts, types compared as sets) and ``match``'s inlined
    shape test give exactly what the plain rule gives: same list, same order (ties of start time
    across actors and shapes included), same match, on thousands of random bursts."""
    import copy
    import random

    from dd0c_cost.scoring.recurrence import COUNT_TOLERANCE, MIN_GAP_S, match, remember

    rng = random.Random(11)
    actors = ("ana", "bo", "role:asg", "role:month-end")
    kinds = ("t3.large", "m5.large", "p4d.24xlarge")
    fast: list = []
    slow: list = []
    t, hits = START.timestamp(), 0
    for _ in range(4000):
        t += rng.choice((0.0, 0.0, 3600.0, 86400.0, 7 * 86400.0, 20 * 86400.0))  # ties on purpose
        types = {k: float(rng.randint(1, 4)) for k in rng.sample(kinds, rng.randint(1, 2))}
        b = {"t0": t - rng.choice((0.0, 3600.0, 40 * 86400.0)), "ty": types, "q": sum(types.values()), "u": 1.5}
        who = rng.choice(actors)
        plain = [
            o
            for o in slow
            if o[1] == who
            and o[0] < b["t0"] - MIN_GAP_S + 1
            and set(types) <= set(o[2])
            and b["q"] <= o[3] * (1.0 + COUNT_TOLERANCE) + 1e-9
        ]
        got = match(fast, b["t0"], who, types, b["q"], b["u"], 1.25)
        # every occurrence the plain test keeps passes the inlined one too, and nothing else does:
        # matching on the plain survivors alone gives the same value and reason
        want = match(plain, b["t0"], who, types, b["q"], b["u"], 1.25)
        assert (got is None) == (want is None)
        assert plain or got is None
        hits += got is not None
        if got is not None and want is not None:
            assert (got[0], got[1]()) == (want[0], want[1]())
        fast = remember(fast, b, who)
        slow = _reference_remember(copy.deepcopy(slow), b, who)
        assert fast == slow
    assert hits > 100  # the rules did match, often


_DAY = 86400.0
_bursts = st.lists(
    st.tuples(
        st.sampled_from((0.0, 0.0, 3600.0, _DAY, 7 * _DAY, 45 * _DAY, 120 * _DAY)),  # step of event time (ties too)
        st.sampled_from((0.0, 0.0, 3600.0, 2 * _DAY, 200 * _DAY)),  # the burst began that long before
        st.sampled_from(("ana", "bo", "role:asg")),
        st.dictionaries(st.sampled_from(("t3.large", "m5.large", "p4d.24xlarge")), st.integers(1, 3), min_size=1),
    ),
    max_size=120,
)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(_bursts)
def test_remember_is_the_reference_rule_on_any_sequence(bursts):
    """Property: whatever the sequence (ties of start time, starts out of order, bursts too old to keep,
    one type or several, the same burst growing), the hot path's ``remember`` keeps exactly the list
    the plain rule keeps, in the same order."""
    import copy

    from dd0c_cost.scoring.recurrence import remember

    fast: list = []
    slow: list = []
    t = START.timestamp()
    for step, back, who, types in bursts:
        t += step
        b = {"t0": t - back, "ty": {k: float(n) for k, n in types.items()}, "q": float(sum(types.values())), "u": 0.5}
        fast = remember(fast, b, who)
        slow = _reference_remember(copy.deepcopy(slow), b, who)
        assert fast == slow
