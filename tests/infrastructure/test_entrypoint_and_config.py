"""The CLI entry point (as `cdk synth` runs it) and the context parsing, without the big fixture."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CONNECTED_ACCOUNTS, REPO_ROOT, fake_deps_layer, scrubbed_environment, synth_context


def test_cli_entry_point_synths_without_credentials_docker_or_nag_errors(tmp_path: Path) -> None:
    """What `npx aws-cdk@2 synth` does: run cdk.json's app with CDK_CONTEXT_JSON/CDK_OUTDIR.

    The environment has no AWS credentials, profile or region and no usable Docker, and the
    entry point registers cdk-nag as a validation plugin: any unacknowledged AwsSolutions
    error, lookup or bundling attempt makes this exit non-zero.
    """
    app_command = json.loads((REPO_ROOT / "cdk.json").read_text())["app"].split()
    assert app_command[-1] == "cdk/app.py"
    env = scrubbed_environment(tmp_path)
    env["CDK_OUTDIR"] = str(tmp_path / "cdk.out")
    env["CDK_CONTEXT_JSON"] = json.dumps(synth_context(tmp_path))
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "cdk/app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    template = json.loads((tmp_path / "cdk.out" / "Dd0cCost.template.json").read_text())
    assert template["Resources"]
    print(f"\ncdk/app.py synth + cdk-nag in a fresh process: {time.monotonic() - started:.1f}s")


def test_missing_deps_layer_fails_synth_naming_the_build_script(tmp_path: Path) -> None:
    from dd0c_cost_cdk.layers import DepsLayerMissing, check_deps_layer

    with pytest.raises(DepsLayerMissing, match=r"scripts/build_deps_layer\.sh"):
        check_deps_layer(tmp_path / "nope")
    (tmp_path / "empty" / "python").mkdir(parents=True)
    with pytest.raises(DepsLayerMissing, match=r"scripts/build_deps_layer\.sh"):
        check_deps_layer(tmp_path / "empty")
    assert check_deps_layer(fake_deps_layer(tmp_path)) == tmp_path / "deps-layer"


def _config(**context):
    import aws_cdk as cdk

    from dd0c_cost_cdk.config import DeployConfig

    return DeployConfig.from_node(cdk.App(context=context).node)


def test_context_parsing_accepts_cli_strings() -> None:
    config = _config(
        connectedAccountIds="111122223333, 444455556666",
        dbDeletionProtection="false",
        dbMinCapacity="0",
        natGateways="2",
    )
    assert config.connected_account_ids == ("111122223333", "444455556666")
    assert config.db_deletion_protection is False
    assert config.db_min_capacity == 0 and config.nat_gateways == 2
    assert _config(connectedAccountIds=json.dumps(CONNECTED_ACCOUNTS)).connected_account_ids == tuple(
        CONNECTED_ACCOUNTS
    )
    assert _config().connected_account_ids == ()
    assert _config().bus_name == "dd0c-cost"


@pytest.mark.parametrize(
    "context",
    [
        {"connectedAccountIds": '["12345"]'},
        {"connectedAccountIds": '["111122223333", "111122223333"]'},
        {"organizationId": "my-org"},
        {"alarmEmail": "nobody"},
        {"logRetentionDays": "13"},
        {"dbMinCapacity": "8", "dbMaxCapacity": "4"},
        {"slackSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack"},
    ],
)
def test_bad_context_is_rejected(context) -> None:
    from dd0c_cost_cdk.config import ConfigError

    with pytest.raises(ConfigError):
        _config(**context)


@pytest.mark.parametrize(
    ("context", "expected_principals"),
    [
        ({"connectedAccountIds": '["111122223333"]'}, ["account"]),
        ({"organizationId": "o-a1b2c3d4e5"}, ["org"]),
        ({}, []),
    ],
    ids=["accounts-only", "org-only", "nobody"],
)
def test_bus_policy_variants(context, expected_principals) -> None:
    """A small stack with only the bus: no '*' principal without the org condition, ever."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from dd0c_cost_cdk.config import DeployConfig
    from dd0c_cost_cdk.ingress import EventBusIngress

    app = cdk.App(context=context)
    stack = cdk.Stack(app, "BusOnly")
    EventBusIngress(stack, "Ingress", config=DeployConfig.from_node(app.node))
    policies = Template.from_stack(stack).find_resources("AWS::Events::EventBusPolicy")
    kinds = []
    for policy in policies.values():
        statement = policy["Properties"]["Statement"]
        assert statement["Action"] == "events:PutEvents" and statement["Effect"] == "Allow"
        if statement["Principal"] == "*":
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
            kinds.append("org")
        else:
            assert "111122223333" in json.dumps(statement["Principal"])
            kinds.append("account")
    assert kinds == expected_principals


def test_visibility_timeout_shorter_than_six_consumer_timeouts_fails_synth() -> None:
    import dataclasses

    import aws_cdk as cdk

    from dd0c_cost.topology import TOPOLOGY
    from dd0c_cost_cdk.alarms import AlarmTopic
    from dd0c_cost_cdk.config import DeployConfig
    from dd0c_cost_cdk.queues import PipelineQueues

    spec = TOPOLOGY.queues[0]
    short = dataclasses.replace(spec, visibility_timeout_s=6 * TOPOLOGY.consumer_of(spec.name).timeout_s - 1)
    topology = dataclasses.replace(TOPOLOGY, queues=(short, *TOPOLOGY.queues[1:]))
    app = cdk.App()
    stack = cdk.Stack(app, "QueuesOnly")
    config = DeployConfig.from_node(app.node, topology)
    with pytest.raises(ValueError, match="6x"):
        PipelineQueues(stack, "Queues", config=config, alarms=AlarmTopic(stack, "Alarms", name_prefix="x", email=None))


def test_disabling_deletion_protection_is_acknowledged_not_silently_allowed(tmp_path: Path) -> None:
    from cdk_nag import AwsSolutionsChecks

    from dd0c_cost_cdk.app import build_app

    context = {**synth_context(tmp_path), "dbDeletionProtection": "false"}
    _app, stack = build_app(context, outdir=tmp_path / "cdk.out", nag=False)
    cluster = stack.database.cluster.node.default_child
    assert stack.resolve(cluster.deletion_protection) is False
    acknowledged = [
        entry.data for entry in stack.database.cluster.node.metadata if entry.type == "aws:cdk:acknowledged-rules"
    ]
    assert any(key.endswith("AwsSolutions-RDS10") for data in acknowledged for key in data)
    report = AwsSolutionsChecks().validate_scope(stack)
    assert [v.rule_name for v in report.violations if v.severity == "error"] == []
