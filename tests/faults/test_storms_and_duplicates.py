"""A 429 storm from Slack, and every SQS message delivered twice: every alert is posted exactly
once, Retry-After is honoured, and nothing is stored or scored twice (issue 7)."""

from __future__ import annotations

import hashlib

from dd0c_cost.notify.slack import reset_notifier
from dd0c_cost.settings import reset_settings
from tests.faults.conftest import TENANT, ledger, posts

SAMPLE_COST_EVENTS = 63
STORM = 100  # consecutive 429s: more than a replay's deliveries can absorb


def _slack_env(monkeypatch, slack) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    monkeypatch.setenv("SLACK_API_BASE_URL", slack.base_url)
    monkeypatch.setenv("SLACK_TENANT", TENANT)
    reset_settings()
    reset_notifier()


def _replay(db_url, tmp_path):
    from dd0c_cost_tools.local.replay import replay
    from dd0c_cost_tools.local.sample import sample_path

    return replay([sample_path()], TENANT, db_url, rejects_path=tmp_path / "rejects.jsonl")


def test_a_429_storm_leaves_alerts_unsent_by_name_then_each_is_posted_once(
    app_env, db_url, tmp_path, monkeypatch, slack
):
    from dd0c_cost_tools.local.replay import retry_unsent_alerts

    _slack_env(monkeypatch, slack)
    for _ in range(STORM):
        slack.rate_limit_next("chat.postMessage", retry_after=7)

    stormed = _replay(db_url, tmp_path)

    assert stormed.anomalies >= 1
    assert set(stormed.alerts_failed) == {"SlackRateLimited"}  # a fault by name, not a reject
    assert "processing_failed" not in stormed.rejected and stormed.failed == {}
    assert posts(slack) == [] and len(slack.calls_to("chat.postMessage")) >= 3  # every delivery refused

    slack.calm()  # the storm dies down: three more 429s, then Slack accepts
    for _ in range(3):
        slack.rate_limit_next("chat.postMessage", retry_after=7)
    waits: list[float] = []
    up = retry_unsent_alerts(db_url, sleep=waits.append)

    assert (up.posted, dict(up.failed)) == (ledger(db_url).anomalies, {})
    assert waits == [7.0, 7.0, 7.0]  # Retry-After honoured on every 429, no other waiting
    assert len(posts(slack)) == ledger(db_url).anomalies and ledger(db_url).unsent == 0
    again = retry_unsent_alerts(db_url, sleep=waits.append)
    assert (again.pending, again.posted, len(posts(slack))) == (0, 0, ledger(db_url).anomalies)


def test_every_message_delivered_twice_changes_nothing(app_env, db_url, tmp_path, monkeypatch, slack):
    """SQS is at-least-once: each message of every queue (ingest, cost events, notify) is sent
    twice under different deduplication ids, so both copies are delivered."""
    from dd0c_cost import queues
    from dd0c_cost_tools.local.runner import LocalPipeline

    _slack_env(monkeypatch, slack)
    send_to_url = queues.send_to_url
    copies: list[str] = []

    def twice(url, body, *, group, deduplication, attributes=None):
        copies.append(url)
        send_to_url(url, body, group=group, deduplication=deduplication + "-again", attributes=attributes)
        return send_to_url(url, body, group=group, deduplication=deduplication, attributes=attributes)

    send_ingest = LocalPipeline.send_ingest

    def ingest_twice(self, bodies):
        bodies = list(bodies)
        sent = send_ingest(self, bodies)
        again = [(group, body) for group, body in bodies]
        url = self.queues["ingest"].url
        for start in range(0, len(again), 10):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": body,
                    "MessageGroupId": group,
                    "MessageDeduplicationId": hashlib.sha256(body.encode()).hexdigest() + "-again",
                }
                for i, (group, body) in enumerate(again[start : start + 10])
            ]
            self._send_batch(url, entries)
        return sent

    monkeypatch.setattr(queues, "send_to_url", twice)
    monkeypatch.setattr(LocalPipeline, "send_ingest", ingest_twice)

    summary = _replay(db_url, tmp_path)

    assert any("cost-events" in url for url in copies) and any("notify" in url for url in copies)
    assert summary.faults == 0
    assert summary.cost_events == SAMPLE_COST_EVENTS
    assert summary.rejected["duplicate"] >= SAMPLE_COST_EVENTS  # every second copy recognised
    after = ledger(db_url)
    assert (after.cost_events, after.distinct_events, after.unscored) == (SAMPLE_COST_EVENTS,) * 2 + (0,)
    assert after.anomalies == summary.anomalies >= 1 and after.unsent == 0
    assert len(posts(slack)) == after.anomalies  # the second notify message posted nothing
