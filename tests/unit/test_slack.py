"""Slack: message building, posting (fake Slack Web API / outbox), interaction verification."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.signature import Clock, SignatureVerifier

from dd0c_cost.crypto import Redacted
from dd0c_cost.notify.delivery import Workspace
from dd0c_cost.notify.interactions import InteractionRejected, SlackAction, parse_interaction
from dd0c_cost.notify.message import ACTION_ACKNOWLEDGE, ACTION_EXPECTED, ACTION_SNOOZE, build_anomaly_message
from dd0c_cost.notify.slack import SlackNotifier
from dd0c_cost.scoring.models import AnomalyStatus, ScoreComponent
from dd0c_cost.settings import Settings
from tests.anomalies import ANOMALY_ID, TENANT_ID, make_anomaly
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackAPI

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_714_533_200.0


# --- helpers ------------------------------------------------------------------------------------
def block(message: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in message["blocks"] if b.get("block_id") == block_id)


def all_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def interactive_elements(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    assert len(message["text"]) <= 3000
    for b in blocks:
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150
        if b["type"] == "section":
            if "text" in b:
                assert len(b["text"]["text"]) <= 3000
            assert len(b.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in b.get("fields", []))
        if b["type"] == "context":
            assert len(b["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in b["elements"])
        if b["type"] == "actions":
            assert len(b["elements"]) <= 25
            for e in b["elements"]:
                assert len(e["action_id"]) <= 255
                if e["type"] == "button":
                    assert len(e["text"]["text"]) <= 75
                    assert len(e["value"]) <= 2000
                for option in e.get("options", []):
                    assert len(option["text"]["text"]) <= 75
                    assert len(option["value"]) <= 150
    # slack_sdk's own validators, on a re-parse of what we send.
    for parsed in Block.parse_all(blocks):
        parsed.to_dict()


# --- message ------------------------------------------------------------------------------------
def test_message_header_says_severity_and_cost() -> None:
    message = build_anomaly_message(make_anomaly())
    header = block(message, "anomaly_header")
    assert header["type"] == "header"
    assert "CRITICAL" in header["text"]["text"]
    assert "$175.00/h" in header["text"]["text"]
    assert "$127,750/month" in header["text"]["text"]  # 175 × 730


def test_message_says_who_what_where_when_why() -> None:
    message = build_anomaly_message(make_anomaly())
    facts = " ".join(f["text"] for f in block(message, "anomaly_facts")["fields"])
    assert "intern@acme" in facts and "assumed-role/Developer/intern@acme" in facts
    assert "8 × p4d.24xlarge (64 A100 GPUs)" in facts and "intern@acme (role Developer)" in facts
    assert "`123456789012`" in facts and "`ap-southeast-2`" in facts
    assert "2024-05-01 03:12:45 UTC" in facts
    why = block(message, "anomaly_why")["text"]["text"]
    assert "never launched in this account" in why and "8.2σ" in why
    context = " ".join(e["text"] for e in block(message, "anomaly_context")["elements"])
    assert "3b6a7c1e-0000-4f00-8000-000000000001" in context and "3b6a7c1e-0000-4f00-8000-000000000002" in context
    assert str(ANOMALY_ID) in context
    assert_within_slack_limits(message)


def test_fallback_text_mentions_rate_and_actor() -> None:
    text = build_anomaly_message(make_anomaly())["text"]
    assert "$175.00/h" in text
    assert "intern@acme" in text
    assert "ap-southeast-2" in text and "p4d.24xlarge" in text


def test_buttons_carry_action_ids_and_anomaly_reference() -> None:
    message = build_anomaly_message(make_anomaly())
    elements = {e["action_id"]: e for e in interactive_elements(message)}
    assert set(elements) == {ACTION_ACKNOWLEDGE, ACTION_SNOOZE, ACTION_EXPECTED}  # no dead remediate/ticket buttons

    for action_id in (ACTION_ACKNOWLEDGE, ACTION_EXPECTED):
        assert elements[action_id]["type"] == "button"
        assert json.loads(elements[action_id]["value"]) == {"anomaly_id": str(ANOMALY_ID), "tenant_id": str(TENANT_ID)}
        assert " " not in elements[action_id]["value"]  # compact JSON
    assert elements[ACTION_EXPECTED]["confirm"]["title"]["text"]

    snooze = elements[ACTION_SNOOZE]
    assert snooze["type"] == "static_select"
    values = [json.loads(o["value"]) for o in snooze["options"]]
    assert [v["snooze_seconds"] for v in values] == [3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600]
    assert all(v["anomaly_id"] == str(ANOMALY_ID) and v["tenant_id"] == str(TENANT_ID) for v in values)
    assert all(e.get("url") is None for e in elements.values())


def test_long_lists_are_truncated_with_more_marker() -> None:
    anomaly = make_anomaly(
        resource_ids=[f"i-{n:017x}" for n in range(500)],
        event_ids=[str(uuid.UUID(int=n)) for n in range(300)],
    )
    message = build_anomaly_message(anomaly)
    resources = block(message, "anomaly_resources")["text"]["text"]
    assert "(500)" in resources
    assert "+490 more" in resources
    assert "i-00000000000000000" in resources and f"i-{499:017x}" not in resources
    context = block(message, "anomaly_context")["elements"][0]["text"]
    assert "+290 more" in context
    assert_within_slack_limits(message)


def test_limits_hold_for_pathological_input() -> None:
    long = "x" * 5000
    anomaly = make_anomaly(
        actor="arn:aws:iam::123456789012:user/" + long,
        summary="<!channel> " + long,
        resource_ids=["arn:aws:ec2:ap-southeast-2:123456789012:instance/" + "i" * 400] * 60,
        event_ids=["e" * 128] * 200,
        components=[ScoreComponent(name=f"c{n}", value=0.5, reason=long) for n in range(30)],
        attributes={"instance_type": "y" * 3000, "quantity": 1_000_000},
        estimated_hourly_usd=123_456_789.0,
    )
    message = build_anomaly_message(anomaly, dashboard_url="https://app.example/" + "a" * 4000)
    assert_within_slack_limits(message)
    assert "<!channel>" not in all_text(message)  # user-controlled text is escaped, no @channel pings


def test_minimal_anomaly_renders() -> None:
    anomaly = make_anomaly(
        resource_ids=[],
        event_ids=[],
        components=[],
        attributes={},
        summary="",
        actor="root",
        detected_at=datetime(2024, 5, 1, 3, 0),
    )  # naive: taken as UTC
    message = build_anomaly_message(anomaly)
    assert_within_slack_limits(message)
    assert "2024-05-01 03:00:00 UTC" in all_text(message)
    assert "1 EC2 instance" in message["text"]


def test_status_after_actions() -> None:
    acked = build_anomaly_message(make_anomaly(status=AnomalyStatus.ACKNOWLEDGED), status_by="<@U123>")
    assert "Acknowledged by <@U123>" in block(acked, "anomaly_status")["text"]["text"]
    assert {e["action_id"] for e in interactive_elements(acked)} == {ACTION_SNOOZE, ACTION_EXPECTED}

    snoozed = make_anomaly(status=AnomalyStatus.SNOOZED, snoozed_until=datetime(2024, 5, 2, 3, 0, tzinfo=UTC))
    assert "until 2024-05-02 03:00:00 UTC" in all_text(build_anomaly_message(snoozed))

    expected = build_anomaly_message(make_anomaly(status=AnomalyStatus.EXPECTED), status_by="bob <script>")
    assert interactive_elements(expected) == []
    assert "bob &lt;script&gt;" in block(expected, "anomaly_status")["text"]["text"]


# --- posting ------------------------------------------------------------------------------------


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


OUTBOX = Workspace(tenant_id=TENANT_ID, kind="outbox", source="outbox")


def test_outbox_without_token(tmp_path: Path) -> None:
    outbox = tmp_path / "nested" / "dir" / "outbox.jsonl"
    settings = Settings(slack_bot_token=None, slack_channel="#cost-alerts", DD0C_OUTBOX_PATH=outbox)
    notifier = SlackNotifier(settings)
    anomaly = make_anomaly()

    posted = notifier.post(anomaly, OUTBOX, "#cost-alerts")
    assert posted.destination == "outbox" and posted.channel == "#cost-alerts"
    notifier.update(make_anomaly(status=AnomalyStatus.SNOOZED), OUTBOX, posted.channel, posted.ts)

    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert [line["kind"] for line in lines] == ["post", "update"]
    expected = build_anomaly_message(anomaly)
    assert lines[0]["channel"] == "#cost-alerts"
    assert lines[0]["anomaly_id"] == str(ANOMALY_ID)
    assert lines[0]["text"] == expected["text"] and lines[0]["blocks"] == expected["blocks"]
    assert lines[1]["ts"] == posted.ts and lines[1]["status"] == "snoozed"


def test_outbox_default_path_is_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(slack_bot_token=None, DD0C_DATA_DIR=tmp_path / "data")
    SlackNotifier(settings).post(make_anomaly(), OUTBOX, "#cost-alerts")
    assert (tmp_path / "data" / "slack-outbox.jsonl").read_text().count("\n") == 1


# --- interactions -------------------------------------------------------------------------------
def block_actions_payload(action: dict[str, Any]) -> dict[str, Any]:
    """Shaped like Slack's block_actions payload for a click on a message in a channel."""
    return {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T0ACME"},
        "api_app_id": "A0DD0C",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1714533165.000100",
            "channel_id": "C0ALERTS",
            "is_ephemeral": False,
        },
        "trigger_id": "123.456.abc",
        "team": {"id": "T0ACME", "domain": "acme"},
        "channel": {"id": "C0ALERTS", "name": "cost-alerts"},
        "message": {"type": "message", "ts": "1714533165.000100", "text": "..."},
        "response_url": "https://hooks.slack.com/actions/T0ACME/1/abc",
        "actions": [{"block_id": "anomaly_actions", "action_ts": "1714533200.1", **action}],
    }


def button(action_id: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": value, "text": {"type": "plain_text", "text": "x"}}


def ref(**extra: Any) -> str:
    return json.dumps({"anomaly_id": str(ANOMALY_ID), "tenant_id": str(TENANT_ID), **extra}, separators=(",", ":"))


def signed_request(payload: Any, *, secret: str = SECRET, timestamp: float = NOW) -> tuple[dict[str, str], str]:
    body = urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})
    ts = str(int(timestamp))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }, body


def test_signing_helper_matches_slack_spec() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())))
    ts = headers["X-Slack-Request-Timestamp"]
    by_hand = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    assert headers["X-Slack-Signature"] == by_hand

    class At(Clock):
        def now(self) -> float:
            return NOW

    assert SignatureVerifier(SECRET, clock=At()).is_valid_request(body, headers)


def test_acknowledge_click_is_accepted() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())))
    action = parse_interaction(headers, body, SECRET, now=NOW + 10)
    assert action == SlackAction(
        action_id=ACTION_ACKNOWLEDGE,
        subject_kind="anomaly",
        subject_id=str(ANOMALY_ID),
        tenant_id=TENANT_ID,
        value={"anomaly_id": str(ANOMALY_ID), "tenant_id": str(TENANT_ID)},
        user_id="U0ALICE",
        user_name="alice",
        team_id="T0ACME",
        channel_id="C0ALERTS",
        message_ts="1714533165.000100",
        snooze_seconds=None,
        response_url="https://hooks.slack.com/actions/T0ACME/1/abc",
        trigger_id="123.456.abc",
        # the same signed request twice has the same key: acted on once (migration 008)
        request_key=hashlib.sha256(
            f"{headers['X-Slack-Request-Timestamp']}:{headers['X-Slack-Signature']}".encode()
        ).hexdigest(),
        slack_timestamp=int(headers["X-Slack-Request-Timestamp"]),
    )
    assert action.anomaly_id == ANOMALY_ID
    assert action.user_mention == "<@U0ALICE>"


def test_round_trip_from_rendered_message() -> None:
    """The values we render are exactly what parse_interaction accepts back."""
    message = build_anomaly_message(make_anomaly())
    elements = {e["action_id"]: e for e in interactive_elements(message)}
    snooze_choice = elements[ACTION_SNOOZE]["options"][1]
    select = {"type": "static_select", "action_id": ACTION_SNOOZE, "selected_option": snooze_choice}
    for action, want_seconds in ((elements[ACTION_EXPECTED], None), (select, 4 * 3600)):
        action = {k: v for k, v in action.items() if k != "confirm"}
        headers, body = signed_request(block_actions_payload(action))
        parsed = parse_interaction(headers, body.encode(), SECRET, now=NOW)
        assert (parsed.anomaly_id, parsed.tenant_id, parsed.snooze_seconds) == (ANOMALY_ID, TENANT_ID, want_seconds)


def test_headers_are_case_insensitive_and_body_may_be_bytes() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_EXPECTED, ref())))
    lowered = {k.lower(): v for k, v in headers.items()}  # API Gateway lowercases header names
    assert parse_interaction(lowered, body.encode(), SECRET, now=NOW).action_id == ACTION_EXPECTED
    multi = {k: [v] for k, v in headers.items()}  # multiValueHeaders shape
    assert parse_interaction(multi, body, SECRET, now=NOW).action_id == ACTION_EXPECTED


def test_snooze_button_without_seconds_defaults_to_24h() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_SNOOZE, ref())))
    assert parse_interaction(headers, body, SECRET, now=NOW).snooze_seconds == 24 * 3600


def reject(
    headers: dict[str, Any] | None, body: str | bytes, *, secret: str = SECRET, now: float = NOW
) -> InteractionRejected:
    with pytest.raises(InteractionRejected) as info:
        parse_interaction(headers, body, secret, now=now)
    return info.value


def test_forged_signature_is_401() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())), secret="not-the-secret")
    rejected = reject(headers, body)
    assert rejected.status == 401 and "signature" in rejected.reason.lower()


def test_tampered_body_is_401() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())))
    other = str(uuid.uuid4())
    rejected = reject(headers, body.replace(str(ANOMALY_ID), other))
    assert rejected.status == 401


@pytest.mark.parametrize("drop", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
def test_missing_signature_headers_are_401(drop: str) -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())))
    del headers[drop]
    rejected = reject(headers, body)
    assert rejected.status == 401 and drop in rejected.reason
    assert reject(None, body).status == 401


def test_non_numeric_timestamp_is_401() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())))
    headers["X-Slack-Request-Timestamp"] = "yesterday"
    assert reject(headers, body).status == 401


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_stale_timestamp_is_401_even_if_signed(age: int) -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())), timestamp=NOW - age)
    rejected = reject(headers, body)
    assert rejected.status == 401 and "stale" in rejected.reason


def test_timestamp_within_window_is_accepted() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())), timestamp=NOW - 299)
    assert parse_interaction(headers, body, SECRET, now=NOW).action_id == ACTION_ACKNOWLEDGE


def test_missing_signing_secret_fails_closed() -> None:
    headers, body = signed_request(block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())))
    assert reject(headers, body, secret="").status == 500


def signed_raw_body(body: str) -> tuple[dict[str, str], str]:
    ts = str(int(NOW))
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }, body


@pytest.mark.parametrize(
    ("payload", "reason_part"),
    [
        ("{not json", "not JSON"),
        ([1, 2], "not a JSON object"),
        (
            {**block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())), "type": "shortcut"},
            "unsupported interaction type",
        ),
        (
            {**block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())), "type": "view_submission"},
            "unknown modal callback_id",
        ),
        ({**block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())), "actions": []}, "no actions"),
        (block_actions_payload(button("anomaly_remediate", ref())), "unknown action_id"),
        (block_actions_payload(button(ACTION_ACKNOWLEDGE, "")), "no value"),
        (block_actions_payload(button(ACTION_ACKNOWLEDGE, "not-json")), "not JSON"),
        (
            block_actions_payload(
                button(ACTION_ACKNOWLEDGE, json.dumps({"anomaly_id": "42", "tenant_id": str(TENANT_ID)}))
            ),
            "not a UUID",
        ),
        (
            block_actions_payload(
                button(ACTION_ACKNOWLEDGE, json.dumps({"anomaly_id": str(ANOMALY_ID), "tenant_id": "acme"}))
            ),
            "tenant_id is not a UUID",
        ),
        (
            block_actions_payload(button(ACTION_ACKNOWLEDGE, json.dumps({"anomaly_id": str(ANOMALY_ID)}))),
            "no tenant_id",
        ),
        (block_actions_payload(button(ACTION_SNOOZE, ref(snooze_seconds=-5))), "snooze_seconds"),
        (block_actions_payload(button(ACTION_SNOOZE, ref(snooze_seconds="1h"))), "snooze_seconds"),
        ({k: v for k, v in block_actions_payload(button(ACTION_ACKNOWLEDGE, ref())).items() if k != "user"}, "user_id"),
    ],
)
def test_malformed_payload_is_400(payload: Any, reason_part: str) -> None:
    headers, body = signed_request(payload)
    rejected = reject(headers, body)
    assert rejected.status == 400
    assert reason_part in rejected.reason


def test_body_without_payload_field_is_400() -> None:
    headers, body = signed_raw_body("foo=bar")
    rejected = reject(headers, body)
    assert rejected.status == 400 and "payload" in rejected.reason


def test_non_utf8_body_is_400() -> None:
    headers, _ = signed_raw_body("payload=x")
    assert reject(headers, b"payload=\xff\xfe").status == 400


def test_actor_name_attribute_from_scorer_is_preferred() -> None:
    anomaly = make_anomaly(attributes={"instance_type": "p4d.24xlarge", "quantity": 8, "actor_name": "Intern Ian"})
    message = build_anomaly_message(anomaly)
    assert "Intern Ian" in message["text"]
    who = block(message, "anomaly_facts")["fields"][1]["text"]
    assert "Intern Ian (role Developer)" in who and "assumed-role/Developer/intern@acme" in who
