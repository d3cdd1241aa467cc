"""A replay killed with SIGKILL mid-way, then run again; and two replays of one file at once.
Either way: every record is stored once, every cost event is scored, every anomaly is posted to
Slack exactly once (issue 7: nothing lost, nothing doubled)."""

from __future__ import annotations

import signal

import pytest

from dd0c_cost_tools.local.sample import sample_path
from tests.faults.conftest import adds_up, finish, ledger, posts, process_env, start_replay

# The bundled sample: 150 records, 63 of them cost events (see README "Figures").
SAMPLE_COST_EVENTS = 63


@pytest.mark.parametrize(
    "kill_at",
    [
        # just after the 10th cost event was stored and handed to the (in-memory) scoring queue:
        # the queue dies with the process; the event is in the database, unscored
        ("normalize", "cost_event", 10),
        # just after the first anomaly was stored and its alert queued: the alert is not posted
        ("score", "anomaly", 1),
    ],
    ids=["after-10th-cost-event", "after-first-anomaly"],
)
def test_a_replay_killed_mid_way_then_run_again_loses_and_doubles_nothing(kill_at, db_url, tmp_path, slack):
    env = process_env(db_url, tmp_path, slack)

    code, summary, err = finish(start_replay(env, sample_path(), kill_at=kill_at))
    assert code == -signal.SIGKILL, err  # killed where we said, before it could finish
    assert summary is None
    killed = ledger(db_url)
    if kill_at[0] == "normalize":
        assert killed.cost_events == 10 and killed.unscored >= 1  # stored, its scoring message gone
    else:
        assert killed.unsent >= 1 and posts(slack) == []  # stored, its alert message gone

    code, summary, err = finish(start_replay(env, sample_path()))
    assert code == 0, err
    assert summary["failed"] == summary["scoring_failed"] == summary["alerts_failed"] == {}
    assert adds_up(summary)
    # What the killed run stored is recognised; the rest is new.
    assert summary["cost_events"] + summary["rejected"].get("duplicate", 0) == SAMPLE_COST_EVENTS

    after = ledger(db_url)
    assert (after.cost_events, after.distinct_events, after.unscored) == (SAMPLE_COST_EVENTS,) * 2 + (0,)
    assert after.anomalies >= 1 and after.unsent == 0
    assert len(posts(slack)) == after.anomalies  # every alert, exactly once


def test_two_replays_of_one_file_at_once_store_score_and_post_everything_once(db_url, tmp_path, slack):
    env = process_env(db_url, tmp_path, slack)

    first = start_replay(env, sample_path())
    second = start_replay(env, sample_path())
    results = [finish(first), finish(second)]

    for code, summary, err in results:
        assert code == 0, err
        assert summary["failed"] == summary["scoring_failed"] == summary["alerts_failed"] == {}
        assert adds_up(summary)
    # Each cost event was stored by exactly one of them; the other saw a duplicate.
    assert sum(summary["cost_events"] for _, summary, _ in results) == SAMPLE_COST_EVENTS
    after = ledger(db_url)
    assert (after.cost_events, after.distinct_events, after.unscored) == (SAMPLE_COST_EVENTS,) * 2 + (0,)
    assert after.anomalies >= 1 and after.unsent == 0
    assert len(posts(slack)) == after.anomalies
