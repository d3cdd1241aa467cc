"""One synthesis of the CDK app, shared by every infrastructure test (jsii synth is slow).

Synth runs with the AWS environment scrubbed (no credentials, no profile, no region, no
instance metadata) and with CDK_DOCKER pointing at a binary that does not exist, so any
credential use, lookup or Docker bundling would fail the fixture.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

CONNECTED_ACCOUNTS = ["111122223333", "444455556666"]
ORGANIZATION_ID = "o-a1b2c3d4e5"
ALARM_EMAIL = "oncall@example.com"


def scrubbed_environment(tmp: Path) -> dict[str, str]:
    """The process environment minus anything that could give AWS credentials or a default
    account/region, and with Docker made unusable."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith(("AWS_", "CDK_")) or k in {"JSII_RUNTIME"})}
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DOCKER": str(tmp / "no-docker-here"),
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
        }
    )
    return env


def fake_deps_layer(tmp: Path) -> Path:
    """Stands in for scripts/build_deps_layer.sh's output (tests never hit PyPI)."""
    path = tmp / "deps-layer"
    (path / "python").mkdir(parents=True, exist_ok=True)
    (path / "python" / "placeholder_dep.py").write_text("# stands in for third-party packages\n")
    return path


def synth_context(tmp: Path) -> dict[str, Any]:
    from dd0c_cost_cdk.app import cdk_json_context

    return {
        **cdk_json_context(),
        "connectedAccountIds": json.dumps(CONNECTED_ACCOUNTS),  # a string, as `-c` passes it
        "organizationId": ORGANIZATION_ID,
        "alarmEmail": ALARM_EMAIL,
        "depsLayerPath": str(fake_deps_layer(tmp)),
        "functionsPath": str(REPO_ROOT / "functions"),
    }


@dataclass
class Synth:
    app: Any
    stack: Any
    assembly: Any
    template: dict[str, Any]
    assertions: Any  # aws_cdk.assertions.Template
    outdir: Path
    seconds: float

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def logical_id(self, construct: Any) -> str:
        child = getattr(construct.node, "default_child", None) or construct
        return self.stack.resolve(self.stack.get_logical_id(child))

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}


@contextlib.contextmanager
def only_scrubbed_environment(tmp: Path) -> Iterator[None]:
    """Run a synth with nothing but ``scrubbed_environment`` (no credentials, no Docker), then
    put the process environment back."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(scrubbed_environment(tmp))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    tmp = tmp_path_factory.mktemp("cdk")
    with only_scrubbed_environment(tmp):
        from aws_cdk.assertions import Template

        from dd0c_cost_cdk.app import build_app

        started = time.monotonic()
        # cdk-nag runs once, explicitly, in test_cdk_nag (the CLI entry point runs it as a plugin).
        app, stack = build_app(synth_context(tmp), outdir=tmp / "cdk.out", nag=False)
        assembly = app.synth()
        seconds = time.monotonic() - started
        template = assembly.get_stack_by_name(stack.stack_name).template
    # Yielded with the environment put back: a session fixture that yielded inside the block left
    # every later test of its worker without PYTHONPATH (subprocesses then imported another tree).
    yield Synth(
        app=app,
        stack=stack,
        assembly=assembly,
        template=template,
        assertions=Template.from_json(template),
        outdir=tmp / "cdk.out",
        seconds=seconds,
    )
