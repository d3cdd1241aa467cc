"""Alerts are never lost (issue 7): the database is the truth for what must be posted, and after
Slack comes back every missed alert is posted exactly once (Retry-After honoured).

Reproduces: with Slack unreachable (token set, closed port), ``dd0c-cost demo`` exited 0, counted
the alert as ``rejected: processing_failed``, and a later run never sent it: the anomaly's
``notified_revision`` stayed behind its revision for good."""

from __future__ import annotations

import socket

import pytest

from dd0c_cost.notify.slack import reset_notifier
from dd0c_cost.settings import reset_settings
from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.replays import PATHS, replay_by


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _point_slack_at(monkeypatch, base_url: str, token: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    monkeypatch.setenv("SLACK_API_BASE_URL", base_url)
    monkeypatch.setenv("SLACK_TENANT", "demo")  # the env token serves the demo tenant only
    reset_settings()
    reset_notifier()


@pytest.mark.parametrize("kind", PATHS)
def test_slack_down_then_up_posts_every_missed_alert_exactly_once(kind, app_env, db_url, tmp_path, monkeypatch):
    from dd0c_cost_tools.local.replay import retry_unsent_alerts
    from dd0c_cost_tools.local.sample import sample_path

    def replay(paths, tenant, db_url, *, rejects_path):
        return replay_by(kind, paths, tenant, db_url, rejects_path)

    with FakeSlackAPI() as slack:
        _point_slack_at(monkeypatch, f"http://127.0.0.1:{_closed_port()}/api/", slack.token)
        down = replay([sample_path()], "demo", db_url, rejects_path=tmp_path / "rejects.jsonl")

        assert down.anomalies >= 1
        assert "processing_failed" not in down.rejected and down.faults > 0  # a fault, by name, not bad input
        assert set(down.alerts_failed) == {"URLError"}
        assert down.read == down.processed + sum(down.rejected.values()) + sum(down.failed.values())

        # Slack is back, and answers the first post with a 429.
        _point_slack_at(monkeypatch, slack.base_url, slack.token)
        slack.rate_limit_next("chat.postMessage", retry_after=2)
        waits: list[float] = []
        up = retry_unsent_alerts(db_url, sleep=waits.append)

        assert (up.pending, up.posted, dict(up.failed)) == (down.anomalies, down.anomalies, {})
        assert waits == [2.0]  # Retry-After honoured
        again = retry_unsent_alerts(db_url, sleep=waits.append)
        assert (again.pending, again.posted) == (0, 0)
        rerun = replay([sample_path()], "demo", db_url, rejects_path=tmp_path / "rejects.jsonl")
        assert rerun.faults == 0 and rerun.alerts_resent == 0

        posted = [c for c in slack.calls_to("chat.postMessage") if c.status == 200 and c.response.get("ok")]
        assert len(posted) == down.anomalies  # every missed alert, exactly once
