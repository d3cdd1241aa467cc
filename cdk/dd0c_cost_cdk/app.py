"""Build the CDK app. ``cdk/app.py`` (the CLI entry point) and the tests both call build_app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from .config import REPO_ROOT, DeployConfig
from .stack import Dd0cCostStack

STACK_NAME = "Dd0cCost"


def cdk_json_context() -> dict[str, Any]:
    """The context block of cdk.json (the CLI passes it itself; tests pass it explicitly)."""
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


def build_app(
    context: dict[str, Any] | None = None, *, outdir: str | Path | None = None, nag: bool = True
) -> tuple[cdk.App, Dd0cCostStack]:
    """The app with one environment-agnostic stack: no account/region at synth, so no lookups
    and no credentials; ``cdk deploy`` binds it to the CLI's account and region.

    With ``nag`` the cdk-nag AwsSolutions pack runs as a validation plugin and any
    unacknowledged error fails synth (and therefore ``cdk deploy``).
    """
    kwargs: dict[str, Any] = {}
    if context is not None:
        kwargs["context"] = context
    if outdir is not None:
        kwargs["outdir"] = str(outdir)
    app = cdk.App(**kwargs)
    config = DeployConfig.from_node(app.node)
    stack = Dd0cCostStack(
        app,
        STACK_NAME,
        config=config,
        description="dd0c/cost: real-time AWS cost anomaly detection from CloudTrail",
    )
    cdk.Tags.of(stack).add("project", "dd0c-cost")
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
