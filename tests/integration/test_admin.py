"""The operator's door to a deployed database: the admin function's actions against a real
PostgreSQL, and ``dd0c-cost --stack NAME ...`` reaching them through CloudFormation and Lambda
(botocore stubs that check each request and answer with the function's real result)."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from dd0c_cost import admin
from dd0c_cost.settings import reset_settings
from dd0c_cost_tools import cli
from dd0c_cost_tools.cli import remote

BUS = "arn:aws:events:eu-west-1:000011112222:event-bus/dd0c-cost"


@pytest.fixture
def deployed(app_env, monkeypatch):
    """The admin function's environment: its database, the bus and account the stack gives it."""
    monkeypatch.setenv("DD0C_CENTRAL_BUS_ARN", BUS)
    monkeypatch.setenv("DD0C_ACCOUNT_ID", "000011112222")
    reset_settings()
    yield
    reset_settings()


def test_actions_create_tenants_keys_and_accounts_and_report_the_schema(deployed):
    created = admin.handle({"action": "tenants.create", "args": {"name": "acme"}})
    assert created["ok"] and created["result"]["name"] == "acme"
    assert [t["name"] for t in admin.handle({"action": "tenants.list"})["result"]] == ["acme"]
    key = admin.handle({"action": "keys.create", "args": {"tenant": "acme", "scope": "read", "name": "ci"}})
    assert key["ok"] and key["result"]["secret"].startswith("dd0c_") and key["result"]["scope"] == "read"
    connected = admin.handle(
        {
            "action": "accounts.connect",
            "args": {"tenant": "acme", "account_id": "111122223333", "regions": ["eu-west-1"]},
        }
    )
    assert connected["ok"] and connected["result"]["template_parameters"]["CentralBusArn"] == BUS
    [account] = admin.handle({"action": "accounts.list", "args": {"tenant": "acme"}})["result"]
    assert account["account_id"] == "111122223333" and account["tenant"] == "acme"
    status = admin.handle({"action": "db.status"})["result"]
    assert status["migrations_pending"] == [] and status["tenants"] == ["acme"]
    json.dumps([created, key, connected, status])  # every answer travels as JSON


def test_mistakes_come_back_as_data_with_the_fix(deployed):
    unknown = admin.handle({"action": "tenants.drop"})
    assert not unknown["ok"] and "tenants.list" in unknown["fix"]
    typo = admin.handle({"action": "keys.create", "args": {"tenant": "typo"}})
    assert not typo["ok"] and typo["error"] == "no tenant named 'typo'" and "tenants create typo" in typo["fix"]
    assert not admin.handle({"action": "tenants.create", "args": {}})["ok"]
    assert not admin.handle({"unexpected": 1})["ok"]


def _stubbed(monkeypatch, stack: str, events: list[dict]):
    """CloudFormation answers the stack's outputs; Lambda answers with admin.handle of the request."""
    cfn = boto3.client("cloudformation", region_name="eu-west-1")
    lam = boto3.client("lambda", region_name="eu-west-1")
    cfn_stub, lam_stub = Stubber(cfn), Stubber(lam)
    for event in events:
        cfn_stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": stack,
                        "CreationTime": "2026-01-01T00:00:00Z",
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [{"OutputKey": remote.OUTPUT, "OutputValue": "dd0c-cost-admin"}],
                    }
                ]
            },
            {"StackName": stack},
        )
        body = json.dumps(admin.handle(event)).encode()
        lam_stub.add_response(
            "invoke",
            {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))},
            {"FunctionName": "dd0c-cost-admin", "Payload": json.dumps(event).encode()},
        )
    cfn_stub.activate()
    lam_stub.activate()
    monkeypatch.setattr(remote, "_client", {"cloudformation": cfn, "lambda": lam}.__getitem__)
    return cfn_stub, lam_stub


def test_the_cli_runs_operator_commands_against_a_stack(deployed, monkeypatch, capsys):
    stubs = _stubbed(
        monkeypatch,
        "Dd0cCost",
        [
            {"action": "tenants.create", "args": {"name": "acme"}},
            {"action": "tenants.list", "args": {}},
            {
                "action": "keys.create",
                "args": {"tenant": "nobody", "scope": "write", "name": None, "expires_in_days": None},
            },
        ],
    )
    assert cli.main(["--stack", "Dd0cCost", "tenants", "create", "acme"]) == 0
    assert cli.main(["--stack", "Dd0cCost", "tenants", "list"]) == 0
    out = capsys.readouterr().out
    assert "acme" in out.splitlines()[-1]
    assert cli.main(["--stack", "Dd0cCost", "keys", "create", "--tenant", "nobody"]) == 2
    assert "no tenant named 'nobody'" in capsys.readouterr().err
    for stub in stubs:
        stub.assert_no_pending_responses()
