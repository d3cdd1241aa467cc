"""The HTTP API as API Gateway invokes it: the real api handler, real PostgreSQL, moto queues."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost_tools.local.runner import LambdaContext
from dd0c_cost_tools.local.serve import apigw_v2_event
from tests.fakes.slack_api import FakeSlackAPI
from tests.records import run_instances

SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
def slack():
    with FakeSlackAPI() as fake:
        yield fake


@pytest.fixture
def api(local_pipeline, monkeypatch, slack):
    from dd0c_cost.settings import reset_settings

    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    # Single-workspace mode: the env token is tenant-a's, in workspace T0ACME.
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    monkeypatch.setenv("SLACK_TENANT", "tenant-a")
    monkeypatch.setenv("SLACK_TEAM_ID", "T0ACME")
    monkeypatch.setenv("SLACK_API_BASE_URL", slack.base_url)
    monkeypatch.setenv("INGEST_MAX_RECORDS", "5")
    monkeypatch.setenv("INGEST_MAX_BODY_BYTES", "20000")
    reset_settings()
    handler = local_pipeline.handler("api")

    def call(method, path, *, body=b"", headers=None):
        headers = {"content-type": "application/json", **(headers or {})}
        raw = body if isinstance(body, bytes) else body.encode()
        result = handler(apigw_v2_event(method, path, headers, raw, "127.0.0.1"), LambdaContext("api"))
        payload = json.loads(result["body"]) if result.get("body") else None
        return result["statusCode"], payload

    return call


@pytest.fixture
def tenants(operator_conn):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    operator.attach_accounts(operator_conn, a, {"111111111111"})
    operator.attach_accounts(operator_conn, b, {"222222222222"})
    return {"a": (a, operator.create_api_key(operator_conn, a)), "b": (b, operator.create_api_key(operator_conn, b))}


def bearer(key: str) -> dict:
    return {"authorization": f"Bearer {key}"}


def test_health_needs_no_key(api):
    assert api("GET", "/health") == (200, {"status": "ok"})


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "missing_credentials"),
        ({"authorization": "Bearer dd0c_not-a-real-key"}, "invalid_api_key"),
        ({"x-api-key": "nope"}, "invalid_api_key"),
    ],
)
def test_ingest_without_a_valid_key_is_refused(api, tenants, headers, error):
    status, body = api(
        "POST", "/v1/ingest", body=json.dumps({"Records": [run_instances("111111111111")]}), headers=headers
    )
    assert (status, body["error"]) == (401, error)


def test_ingest_limits_answer_with_specific_4xx(api, tenants):
    _, key = tenants["a"]
    too_many = json.dumps({"Records": [run_instances("111111111111") for _ in range(6)]})
    status, body = api("POST", "/v1/ingest", body=too_many, headers=bearer(key))
    assert (status, body["error"]) == (413, "too_many_records") and "limit is 5" in body["message"]
    too_big = json.dumps({"Records": [{"eventSource": "ec2.amazonaws.com", "pad": "x" * 30000}]})
    status, body = api("POST", "/v1/ingest", body=too_big, headers=bearer(key))
    assert (status, body["error"]) == (413, "body_too_large")
    status, body = api("POST", "/v1/ingest", body="{not json", headers=bearer(key))
    assert (status, body["error"]) == (400, "malformed_json")
    status, body = api("POST", "/v1/ingest", body="", headers=bearer(key))
    assert (status, body["error"]) == (400, "empty_body")


def test_ingested_records_flow_through_the_pipeline(api, tenants, local_pipeline, db_url):
    _tenant, key = tenants["a"]
    # Different people: a burst by one person would be grouped into one growing anomaly.
    records = [
        run_instances("111111111111", instance_type="p4d.24xlarge", count=8),
        run_instances("111111111111", user="bob"),
    ]
    status, body = api("POST", "/v1/ingest", body=json.dumps({"Records": records}), headers=bearer(key))
    assert (status, body) == (202, {"accepted": 2, "rejected": []})
    local_pipeline.drain()
    status, body = api("GET", "/v1/anomalies", headers=bearer(key))
    assert status == 200
    assert [a["event_ids"] for a in body["anomalies"]] == [[records[0]["eventID"]]]


def test_a_tenant_cannot_ingest_for_another_tenants_account(api, tenants, local_pipeline, db_url):
    tenant_b, _ = tenants["b"]
    _, key_a = tenants["a"]
    status, _ = api("POST", "/v1/ingest", body=json.dumps([run_instances("222222222222")]), headers=bearer(key_a))
    assert status == 202  # queued; the normaliser decides, and keeps the reject
    local_pipeline.drain()
    dead = local_pipeline.take_dead_letters("ingest")
    assert [m["MessageAttributes"]["reject_reason"]["StringValue"] for m in dead] == ["account_not_connected"]
    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant_b):
        assert conn.execute("SELECT count(*) AS n FROM dd0c.cost_events").fetchone()["n"] == 0
    conn.close()


def _one_anomaly(api, key, local_pipeline, account):
    record = run_instances(account, instance_type="p4d.24xlarge", count=8)
    api("POST", "/v1/ingest", body=json.dumps([record]), headers=bearer(key))
    local_pipeline.drain()
    return api("GET", "/v1/anomalies", headers=bearer(key))[1]["anomalies"][0]


def test_another_tenants_anomaly_id_is_not_found(api, tenants, local_pipeline):
    _, key_a = tenants["a"]
    _, key_b = tenants["b"]
    anomaly = _one_anomaly(api, key_a, local_pipeline, "111111111111")
    assert api("GET", f"/v1/anomalies/{anomaly['id']}", headers=bearer(key_a))[1]["id"] == anomaly["id"]
    status, body = api("GET", f"/v1/anomalies/{anomaly['id']}", headers=bearer(key_b))
    assert (status, body["error"]) == (404, "not_found")
    status, body = api("GET", "/v1/anomalies/42", headers=bearer(key_a))
    assert (status, body["error"]) == (400, "bad_anomaly_id")


def slack_request(
    action_id: str, anomaly_id: str, tenant_id: str, *, secret: str = SIGNING_SECRET, extra: dict | None = None
):
    value = json.dumps({"anomaly_id": anomaly_id, "tenant_id": tenant_id, **(extra or {})})
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice", "team_id": "T0ACME"},
        "team": {"id": "T0ACME"},
        "channel": {"id": "C0ALERTS"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0ALERTS"},
        "actions": [{"type": "button", "action_id": action_id, "value": value, "block_id": "b", "action_ts": "1"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))  # Slack's replay protection is about the request, not the event
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }
    return body, headers


def test_forged_slack_request_is_refused_and_changes_nothing(api, tenants, local_pipeline):
    tenant, key = tenants["a"]
    anomaly = _one_anomaly(api, key, local_pipeline, "111111111111")
    body, headers = slack_request("anomaly_acknowledge", anomaly["id"], str(tenant), secret="not-the-secret")
    status, response = api("POST", "/slack/interactions", body=body, headers=headers)
    assert (status, response["error"]) == (401, "slack_request_rejected")
    assert api("GET", f"/v1/anomalies/{anomaly['id']}", headers=bearer(key))[1]["status"] == "open"


def test_slack_acknowledge_and_event_time_snooze(api, tenants, local_pipeline):
    tenant, key = tenants["a"]
    anomaly = _one_anomaly(api, key, local_pipeline, "111111111111")
    body, headers = slack_request("anomaly_acknowledge", anomaly["id"], str(tenant))
    assert api("POST", "/slack/interactions", body=body, headers=headers)[0] == 200
    assert api("GET", f"/v1/anomalies/{anomaly['id']}", headers=bearer(key))[1]["status"] == "acknowledged"

    body, headers = slack_request("anomaly_snooze", anomaly["id"], str(tenant), extra={"snooze_seconds": 3600})
    assert api("POST", "/slack/interactions", body=body, headers=headers)[0] == 200
    snoozed = api("GET", f"/v1/anomalies/{anomaly['id']}", headers=bearer(key))[1]
    assert snoozed["status"] == "snoozed"
    # One hour after the newest event seen (event time), not after the wall clock.
    assert snoozed["snoozed_until"].startswith("2026-11-02T10:00:00")


def test_slack_action_naming_another_tenant_changes_nothing(api, tenants, local_pipeline):
    _tenant_a, key_a = tenants["a"]
    tenant_b, _ = tenants["b"]
    anomaly = _one_anomaly(api, key_a, local_pipeline, "111111111111")
    # tenant-b has no Slack workspace, so T0ACME is foreign to it (and it has no such anomaly either)
    body, headers = slack_request("anomaly_acknowledge", anomaly["id"], str(tenant_b))
    status, response = api("POST", "/slack/interactions", body=body, headers=headers)
    assert (status, response["ok"], response["error"]) == (200, False, "foreign_workspace")
    assert api("GET", f"/v1/anomalies/{anomaly['id']}", headers=bearer(key_a))[1]["status"] == "open"


def test_marking_expected_through_the_api_feeds_the_scorer(api, tenants, local_pipeline):
    _tenant, key = tenants["a"]
    anomaly = _one_anomaly(api, key, local_pipeline, "111111111111")
    status, body = api(
        "POST",
        f"/v1/anomalies/{anomaly['id']}/status",
        body=json.dumps({"status": "expected", "by": "alice"}),
        headers=bearer(key),
    )
    assert (status, body["status"]) == (200, "expected")
    # The same launch by the same person a day later no longer raises an anomaly.
    from datetime import UTC, datetime

    again = run_instances(
        "111111111111", instance_type="p4d.24xlarge", count=8, when=datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    )
    api("POST", "/v1/ingest", body=json.dumps([again]), headers=bearer(key))
    local_pipeline.drain()
    anomalies = api("GET", "/v1/anomalies", headers=bearer(key))[1]["anomalies"]
    assert [a["id"] for a in anomalies] == [anomaly["id"]]
    # Control: tenant B does the same twice without feedback and is alerted both times.
    _, key_b = tenants["b"]
    _one_anomaly(api, key_b, local_pipeline, "222222222222")
    api(
        "POST",
        "/v1/ingest",
        body=json.dumps(
            [
                {
                    **again,
                    "recipientAccountId": "222222222222",
                    "eventID": "control-2",
                    "userIdentity": {**again["userIdentity"], "accountId": "222222222222"},
                }
            ]
        ),
        headers=bearer(key_b),
    )
    local_pipeline.drain()
    assert len(api("GET", "/v1/anomalies", headers=bearer(key_b))[1]["anomalies"]) == 2
    status, body = api(
        "POST",
        f"/v1/anomalies/{anomaly['id']}/status",
        body=json.dumps({"status": "false_positive"}),
        headers=bearer(key_b),
    )
    assert (status, body["error"]) == (404, "not_found")
    status, _ = api(
        "POST", f"/v1/anomalies/{anomaly['id']}/status", body=json.dumps({"status": "bogus"}), headers=bearer(key)
    )
    assert status == 400  # invalid_request, with the field in detail


def test_account_requested_through_the_api_waits_for_operator_approval(
    api, tenants, local_pipeline, operator_conn, monkeypatch
):
    from dd0c_cost.settings import reset_settings

    tenant_a, key_a = tenants["a"]
    _, key_b = tenants["b"]
    request = json.dumps({"account_id": "333333333333", "regions": ["us-east-1", "eu-west-1"]})
    status, body = api("POST", "/v1/accounts", body=request, headers=bearer(key_a))
    assert (status, body["error"]) == (503, "onboarding_not_configured")

    monkeypatch.setenv("DD0C_CENTRAL_BUS_ARN", "arn:aws:events:us-east-1:123456789012:event-bus/dd0c-cost")
    monkeypatch.setenv("DD0C_ACCOUNT_ID", "123456789012")
    reset_settings()
    status, body = api("POST", "/v1/accounts", body=request, headers=bearer(key_a))
    assert status == 201 and body["approved"] is False and body["regions"] == ["us-east-1", "eu-west-1"]
    assert body["template_parameters"]["ExternalId"] == body["external_id"]
    again = api("POST", "/v1/accounts", body=request, headers=bearer(key_a))
    assert again[0] == 200 and again[1]["external_id"] == body["external_id"]
    # Another tenant cannot take (or learn about) the same account.
    status, refused = api("POST", "/v1/accounts", body=request, headers=bearer(key_b))
    assert (status, refused["error"]) == (409, "account_refused") and body["external_id"] not in json.dumps(refused)

    # Pending: its events are attributed to nobody.
    gpu = run_instances("333333333333", instance_type="p4d.24xlarge", count=8)
    api("POST", "/v1/ingest", body=json.dumps([gpu]), headers=bearer(key_a))
    local_pipeline.drain()
    dead = local_pipeline.take_dead_letters("ingest")
    assert [m["MessageAttributes"]["reject_reason"]["StringValue"] for m in dead] == ["unknown_account"]

    # The operator approves (same ExternalId); now the same events flow.
    approved = operator.connect_account(operator_conn, tenant_a, "333333333333", ["us-east-1"])
    assert approved.external_id == body["external_id"] and not approved.created
    api("POST", "/v1/ingest", body=json.dumps([{**gpu, "eventID": "after-approval"}]), headers=bearer(key_a))
    local_pipeline.drain()
    assert [a["account_id"] for a in api("GET", "/v1/anomalies", headers=bearer(key_a))[1]["anomalies"]] == [
        "333333333333"
    ]
    status, body = api("POST", "/v1/accounts", body=request, headers=bearer(key_a))
    assert status == 200 and body["approved"] is True
