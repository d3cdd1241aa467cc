"""Calendar recurrence (scoring/recurrence.py through engine.step): monthly, month-end, weekly and
every-N-days changes are explained after one earlier occurrence (two for every N days); a first or a
much bigger occurrence still alerts. Event time only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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
