"""Notify posts through slack_sdk's WebClient to a Slack API base URL (here a local fake), and a
Slack rate limit leaves the message to be retried rather than lost; the local `serve` answers
HTTP like API Gateway."""

from __future__ import annotations

import json
import threading
import urllib.request

from dd0c_cost.db import operator
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.topology import NOTIFY
from dd0c_cost_tools.local.runner import LocalPipeline
from tests.fakes.slack_api import FakeSlackAPI
from tests.records import run_instances


def _launch_gpus(pipeline, tenant):
    record = run_instances("111122223333", instance_type="p4d.24xlarge", count=8)
    body = IngestMessage(tenant_id=tenant, origin=Origin(source="replay"), record=record).model_dump_json()
    pipeline.send_ingest([("111122223333", body)])
    return record


def test_anomaly_is_posted_to_slack_with_buttons(app_env, operator_conn, monkeypatch):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333"})
    with FakeSlackAPI() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        monkeypatch.setenv("SLACK_TENANT", "acme")  # the env token serves this one tenant
        monkeypatch.setenv("SLACK_API_BASE_URL", slack.base_url)
        with LocalPipeline() as pipeline:
            record = _launch_gpus(pipeline, tenant)
            pipeline.drain()
        posts = slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    params = posts[0].params
    assert "p4d.24xlarge" in params["text"] and "alice" in params["text"]
    blocks = json.dumps(params["blocks"])
    for action_id in ("anomaly_acknowledge", "anomaly_snooze", "anomaly_expected"):
        assert action_id in blocks
    assert record["eventID"] in blocks  # the CloudTrail event id is in the message
    assert not (app_env / "slack-outbox.jsonl").exists()


def test_slack_rate_limit_leaves_the_notification_queued_for_retry(app_env, operator_conn, monkeypatch):
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333"})
    with FakeSlackAPI() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        monkeypatch.setenv("SLACK_TENANT", "acme")  # the env token serves this one tenant
        monkeypatch.setenv("SLACK_API_BASE_URL", slack.base_url)
        slack.rate_limit_next("chat.postMessage", retry_after=1)
        with LocalPipeline() as pipeline:
            _launch_gpus(pipeline, tenant)
            pipeline.drain()
            assert pipeline.take_dead_letters(NOTIFY) == []
        posts = slack.calls_to("chat.postMessage")
    # The first attempt was rate limited (429); the redelivery posted it: one message landed.
    assert [p.status for p in posts] == [429, 200]


def test_serve_answers_like_api_gateway(app_env, operator_conn):
    from dd0c_cost_tools.local.serve import serve

    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333"})
    key = operator.create_api_key(operator_conn, tenant)
    ready = threading.Event()
    port: list[int] = []

    def on_ready(p):
        port.append(p)
        ready.set()

    thread = threading.Thread(target=serve, kwargs={"port": 0, "max_requests": 3, "ready": on_ready}, daemon=True)
    thread.start()
    assert ready.wait(30)
    base = f"http://127.0.0.1:{port[0]}"
    with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
        assert json.load(response) == {"status": "ok"}
    request = urllib.request.Request(
        f"{base}/v1/ingest",
        method="POST",
        data=json.dumps([run_instances("111122223333", instance_type="p4d.24xlarge", count=8)]).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202 and json.load(response)["accepted"] == 1
    # The pipeline ran between requests: the anomaly is readable through the API.
    listing = urllib.request.Request(f"{base}/v1/anomalies", headers={"authorization": f"Bearer {key}"})
    with urllib.request.urlopen(listing, timeout=10) as response:
        anomalies = json.load(response)["anomalies"]
    assert len(anomalies) == 1 and anomalies[0]["severity"] == "critical"
    thread.join(10)


def test_a_growing_burst_updates_its_slack_message_instead_of_posting_again(app_env, operator_conn, monkeypatch):
    from datetime import UTC, datetime, timedelta

    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {"111122223333"})
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    launches = [
        run_instances("111122223333", instance_type="p4d.24xlarge", count=8, when=start + timedelta(minutes=2 * i))
        for i in range(2)
    ]
    with FakeSlackAPI() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        monkeypatch.setenv("SLACK_TENANT", "acme")  # the env token serves this one tenant
        monkeypatch.setenv("SLACK_API_BASE_URL", slack.base_url)
        with LocalPipeline() as pipeline:
            for record in launches:  # one at a time, as they would arrive
                body = IngestMessage(tenant_id=tenant, origin=Origin(source="replay"), record=record).model_dump_json()
                pipeline.send_ingest([("111122223333", body)])
                pipeline.drain()
        posts, updates = slack.calls_to("chat.postMessage"), slack.calls_to("chat.update")
    assert len(posts) == 1
    assert len(updates) == 1 and updates[0].params["ts"] == posts[0].response["ts"]
    assert all(r["eventID"] in json.dumps(updates[0].params["blocks"]) for r in launches)
