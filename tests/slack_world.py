"""A small world for Slack end-to-end tests: the real api handler and pipeline (moto queues, real
PostgreSQL), the local Slack fake (OAuth + Web API), and helpers to install the app for a tenant
through the real OAuth flow and to click buttons as Slack would (signed requests).

    def test_x(world):
        acme = world.tenant("acme", "111122223333")
        world.install(acme, "T0ACME")
        anomaly = world.raise_anomaly(acme)
        reply = world.click(acme, "anomaly_acknowledge", anomaly["id"])
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

import pytest
from slack_sdk.signature import SignatureVerifier

from dd0c_cost.db import operator
from dd0c_cost.events.models import IngestMessage, Origin
from tests.fakes.slack_api import FakeSlackAPI
from tests.records import run_instances

SIGNING_SECRET = "test-signing-secret"


@dataclass
class Tenant:
    name: str
    id: UUID
    key: str
    account: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def signed(body: str, *, secret: str = SIGNING_SECRET, timestamp: float | None = None) -> dict[str, str]:
    ts = str(int(time.time() if timestamp is None else timestamp))
    return {
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


class World:
    def __init__(self, pipeline, slack: FakeSlackAPI, operator_conn, db_url: str) -> None:
        self.pipeline = pipeline
        self.slack = slack
        self.operator_conn = operator_conn
        self.db_url = db_url
        self._api = pipeline.handler("api")
        self._launches = 0

    # -- HTTP ---------------------------------------------------------------------------------
    def http(self, method: str, path: str, *, body: bytes | str = b"", headers: dict | None = None) -> dict:
        """The raw API Gateway result of one request."""
        from dd0c_cost_tools.local.runner import LambdaContext
        from dd0c_cost_tools.local.serve import apigw_v2_event

        raw = body if isinstance(body, bytes) else body.encode()
        headers = {"content-type": "application/json", **(headers or {})}
        return self._api(apigw_v2_event(method, path, headers, raw, "127.0.0.1"), LambdaContext("api"))

    def api(self, method: str, path: str, tenant: Tenant | None = None, *, json_body=None, headers=None):
        headers = dict(headers or {})
        if tenant is not None:
            headers["authorization"] = f"Bearer {tenant.key}"
        result = self.http(method, path, body=json.dumps(json_body) if json_body is not None else b"", headers=headers)
        payload = (
            json.loads(result["body"])
            if result.get("body") and result["body"].startswith(("{", "["))
            else result.get("body")
        )
        return result["statusCode"], payload

    # -- tenants, installs ----------------------------------------------------------------------
    def tenant(self, name: str, account: str) -> Tenant:
        tenant_id = operator.ensure_tenant(self.operator_conn, name)
        operator.attach_accounts(self.operator_conn, tenant_id, {account})
        return Tenant(name, tenant_id, operator.create_api_key(self.operator_conn, tenant_id), account)

    def install(self, tenant: Tenant, team_id: str, **consent) -> dict:
        """The whole OAuth v2 flow, as a browser would click through it; returns the redirect's result."""
        status, link = self.api("POST", "/v1/slack/install", tenant)
        assert status == 201, link
        start = self.http("GET", urlsplit(link["install_url"]).path + "?" + urlsplit(link["install_url"]).query)
        assert start["statusCode"] == 302, start
        cookies = "; ".join(c.split(";", 1)[0] for c in start.get("cookies") or [])
        self.slack.next_install(team_id, **consent)
        try:
            urllib.request.build_opener(_NoRedirect).open(start["headers"]["Location"], timeout=10)
            raise AssertionError("the consent screen should redirect")
        except urllib.error.HTTPError as exc:  # 302 surfaces as an HTTPError without a redirect handler
            back = exc.headers["Location"]
        parts = urlsplit(back)
        return self.http("GET", parts.path + "?" + parts.query, headers={"cookie": cookies})

    # -- anomalies ---------------------------------------------------------------------------
    def raise_anomaly(
        self, tenant: Tenant, *, instance_type: str = "p4d.24xlarge", count: int = 8, user: str | None = None
    ) -> dict:
        """Launch GPUs in the tenant's account, run the pipeline, return the newest anomaly (API view)."""
        self._launches += 1
        # a different person each time: one person's launches close together grow one anomaly
        kwargs = {"instance_type": instance_type, "count": count, "user": user or f"engineer{self._launches}"}
        record = run_instances(tenant.account, **kwargs)
        body = IngestMessage(tenant_id=tenant.id, origin=Origin(source="replay"), record=record).model_dump_json()
        self.pipeline.send_ingest([(tenant.account, body)])
        self.pipeline.drain()
        status, listing = self.api("GET", "/v1/anomalies", tenant)
        assert status == 200 and listing["anomalies"], listing
        found = next(a for a in listing["anomalies"] if record["eventID"] in a["event_ids"])
        return self.anomaly(tenant, found["id"])

    def anomaly(self, tenant: Tenant, anomaly_id: str) -> dict:
        status, body = self.api("GET", f"/v1/anomalies/{anomaly_id}", tenant)
        assert status == 200, body
        return body

    # -- Slack interactions -----------------------------------------------------------------------
    def payload(
        self,
        tenant: Tenant,
        action_id: str,
        subject_id: str,
        *,
        team_id: str,
        user: str = "U0ALICE",
        value: dict | None = None,
        enterprise_id: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        subject: str = "anomaly",
    ) -> dict:
        ref = {f"{subject}_id": str(subject_id), "tenant_id": str(tenant.id), **(value or {})}
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": team_id},
            "team": {"id": team_id, "domain": team_id.lower()},
            "container": {
                "type": "message",
                "message_ts": message_ts or "1.000001",
                "channel_id": channel or "C0ALERTS",
            },
            "channel": {"id": channel or "C0ALERTS"},
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            "response_url": self.slack.response_url(action_id),
            "actions": [{"action_id": action_id, "type": "button", "value": json.dumps(ref), "action_ts": "1.1"}],
        }
        if enterprise_id:
            payload["enterprise"] = {"id": enterprise_id}
            payload["user"]["enterprise_id"] = enterprise_id
        return payload

    def post_interaction(self, payload: dict, *, secret: str = SIGNING_SECRET, timestamp: float | None = None):
        body = urlencode({"payload": json.dumps(payload)})
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            **signed(body, secret=secret, timestamp=timestamp),
        }
        result = self.http("POST", "/slack/interactions", body=body, headers=headers)
        return result["statusCode"], json.loads(result["body"]) if result.get("body") else {}

    def click(self, tenant: Tenant, action_id: str, subject_id: str, *, team_id: str | None = None, **kwargs):
        message = self.message_of(tenant, subject_id) if kwargs.get("subject", "anomaly") == "anomaly" else {}
        kwargs.setdefault("channel", message.get("channel"))
        kwargs.setdefault("message_ts", message.get("ts"))
        payload = self.payload(tenant, action_id, subject_id, team_id=team_id or self.team_of(tenant), **kwargs)
        return self.post_interaction(payload)

    def submit(self, tenant: Tenant, view: dict, values: dict, *, team_id: str | None = None, user: str = "U0ALICE"):
        """Submit a modal we opened (``view`` as views.open received it) with ``values``
        (block_id -> action_id -> value dict)."""
        payload = {
            "type": "view_submission",
            "user": {"id": user, "username": user.lower(), "team_id": team_id or self.team_of(tenant)},
            "team": {"id": team_id or self.team_of(tenant)},
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            "view": {
                "id": view.get("id", "V0"),
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "state": {"values": values},
            },
        }
        return self.post_interaction(payload)

    def team_of(self, tenant: Tenant) -> str:
        _, body = self.api("GET", "/v1/slack", tenant)
        return (body.get("installation") or {}).get("team_id") or "T0FAKE"

    def message_of(self, tenant: Tenant, anomaly_id: str) -> dict:
        status, body = self.api("GET", f"/v1/anomalies/{anomaly_id}", tenant)
        return body["delivery"] if status == 200 else {}

    def event(self, payload: dict, *, secret: str = SIGNING_SECRET):
        body = json.dumps(payload)
        result = self.http("POST", "/slack/events", body=body, headers=signed(body, secret=secret))
        return result["statusCode"], json.loads(result["body"])

    def posts_in(self, team_id: str) -> list:
        return [c for c in self.slack.calls_to("chat.postMessage") if c.team_id == team_id and c.status == 200]


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def slack_fake(app_env, monkeypatch):
    from dd0c_cost.settings import reset_settings

    with FakeSlackAPI() as fake:
        monkeypatch.setenv("SLACK_API_BASE_URL", fake.base_url)
        monkeypatch.setenv("SLACK_AUTHORIZE_URL", fake.authorize_url)
        monkeypatch.setenv("SLACK_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("SLACK_CLIENT_SECRET", fake.client_secret)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        reset_settings()
        yield fake


@pytest.fixture
def world(slack_fake, operator_conn, db_url):
    from dd0c_cost_tools.local.runner import LocalPipeline

    with LocalPipeline() as pipeline:
        yield World(pipeline, slack_fake, operator_conn, db_url)
