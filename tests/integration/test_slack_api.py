"""Posting to Slack through the Web API, against a local fake Slack (tests/fakes/slack_api.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dd0c_cost.crypto import Redacted
from dd0c_cost.notify.delivery import Workspace
from dd0c_cost.notify.message import MessageContext, build_anomaly_message
from dd0c_cost.notify.slack import SlackNotifier, SlackNotifyError, SlackRateLimited
from dd0c_cost.scoring.models import AnomalyStatus
from dd0c_cost.settings import Settings
from tests.anomalies import TENANT_ID, make_anomaly
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackAPI, channel_id_for


@pytest.fixture
def fake_slack():
    with FakeSlackAPI() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_BASE_URL", "SLACK_CHANNEL", "DD0C_OUTBOX_PATH", "DD0C_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def slack_settings(fake: FakeSlackAPI, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": DEFAULT_TOKEN,
        "slack_api_base_url": fake.base_url,
        "slack_channel": "#cost-alerts",
        "DD0C_DATA_DIR": tmp_path,
    }
    values.update(overrides)
    return Settings(**values)


def workspace(token: str = DEFAULT_TOKEN) -> Workspace:
    return Workspace(tenant_id=TENANT_ID, kind="slack", source="env", token=Redacted(token), team_id="T0FAKE")


def test_post_sends_blocks_to_slack(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    anomaly = make_anomaly()
    result = SlackNotifier(slack_settings(fake_slack, tmp_path)).post(anomaly, workspace(), "#cost-alerts")

    assert result.destination == "slack"
    assert result.channel == channel_id_for("#cost-alerts")  # Slack answers with the channel ID
    assert result.ts
    [call] = fake_slack.calls_to("chat.postMessage")
    expected = build_anomaly_message(anomaly)
    assert call.params["channel"] == "#cost-alerts"
    assert call.params["blocks"] == expected["blocks"]
    assert call.params["text"] == expected["text"]
    assert call.headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}"
    assert not (tmp_path / "slack-outbox.jsonl").exists()


def test_update_rewrites_message(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    notifier = SlackNotifier(slack_settings(fake_slack, tmp_path))
    posted = notifier.post(make_anomaly(), workspace(), "#cost-alerts")
    updated = notifier.update(
        make_anomaly(status=AnomalyStatus.ACKNOWLEDGED),
        workspace(),
        posted.channel,
        posted.ts,
        context=MessageContext(status_by="<@U42>"),
    )

    assert (updated.channel, updated.ts, updated.destination) == (posted.channel, posted.ts, "slack")
    [call] = fake_slack.calls_to("chat.update")
    assert call.params["ts"] == posted.ts and call.params["channel"] == posted.channel
    stored = fake_slack.messages[(posted.channel, posted.ts)]
    assert "Acknowledged by <@U42>" in json.dumps(stored["blocks"])


def test_client_is_created_once_and_reused(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    settings = slack_settings(fake_slack, tmp_path)
    first = SlackNotifier(settings)
    assert first.client(workspace()) is first.client(workspace())
    assert SlackNotifier(settings).client(workspace()) is first.client(workspace())  # a warm Lambda reuses it
    assert SlackNotifier(settings).client(workspace("xoxb-other")) is not first.client(workspace())  # one per workspace


def test_base_url_without_trailing_slash(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    settings = slack_settings(fake_slack, tmp_path, slack_api_base_url=fake_slack.base_url.rstrip("/"))
    assert SlackNotifier(settings).post(make_anomaly(), workspace(), "#cost-alerts").destination == "slack"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_slack_error_surfaces_with_code(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackNotifyError) as info:
        SlackNotifier(slack_settings(fake_slack, tmp_path)).post(make_anomaly(), workspace(), "#cost-alerts")
    assert info.value.error == "channel_not_found"
    assert info.value.method == "chat.postMessage"
    assert not info.value.retryable
    assert "channel_not_found" in str(info.value) and "route" in str(info.value)


def test_wrong_token_is_invalid_auth(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    with pytest.raises(SlackNotifyError) as info:
        SlackNotifier(slack_settings(fake_slack, tmp_path)).post(
            make_anomaly(), workspace("xoxb-wrong"), "#cost-alerts"
        )
    assert info.value.error == "invalid_auth"


def test_rate_limit_raises_for_sqs_retry(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    fake_slack.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackRateLimited) as info:
        SlackNotifier(slack_settings(fake_slack, tmp_path)).post(make_anomaly(), workspace(), "#cost-alerts")
    assert info.value.retry_after == 7
    assert info.value.retryable and info.value.status == 429
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # no sleeping retry inside the Lambda
