"""A bounded schemathesis run against the local server (``dd0c-cost serve``'s handler on an
ephemeral port, real PostgreSQL, moto queues): whatever the OpenAPI document allows a client to
send, with a valid API key, no request gets a 5xx or no answer.

Bounded and deterministic: ``derandomize`` (the same examples every run), a few examples per
operation, no example database."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.integration.test_api import bearer
from tests.integration.test_http_bad_input import live_server  # noqa: F401  (fixture)

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
schema = schemathesis.openapi.from_path(OPENAPI)


@pytest.fixture
def configured(app_env, monkeypatch):
    """A fully configured deployment (a missing setting is a 5xx by design: our configuration)."""
    from dd0c_cost.settings import reset_settings

    monkeypatch.setenv("SLACK_SIGNING_SECRET", "fuzz-signing-secret")
    monkeypatch.setenv("DD0C_CENTRAL_BUS_ARN", "arn:aws:events:us-east-1:123456789012:event-bus/dd0c-cost")
    monkeypatch.setenv("DD0C_ACCOUNT_ID", "123456789012")
    monkeypatch.setenv("SLACK_CLIENT_ID", "1234.5678")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "fuzz-client-secret")
    monkeypatch.setenv("DD0C_PUBLIC_URL", "https://dd0c.example.com")
    reset_settings()


@schema.parametrize()
@settings(max_examples=5, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, configured, tenants, live_server):  # noqa: F811
    base_url, _ = live_server
    _, key = tenants["a"]
    case.call_and_validate(base_url=base_url, headers=bearer(key), checks=[not_a_server_error], timeout=60)
