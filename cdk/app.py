#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"). All logic lives in cdk/dd0c_cost_cdk."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "cdk", ROOT / "layers" / "shared" / "python"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# cdk-nag reads every property of every resource, including ones aws-cdk-lib marks deprecated
# (e.g. CfnEventBusPolicy#principal, which we never set); don't print a warning for each.
os.environ.setdefault("JSII_DEPRECATED", "quiet")

from dd0c_cost_cdk.app import build_app  # noqa: E402
from dd0c_cost_cdk.config import ConfigError  # noqa: E402
from dd0c_cost_cdk.layers import DepsLayerMissing  # noqa: E402

if __name__ == "__main__":
    try:
        app, _ = build_app()
    except (ConfigError, DepsLayerMissing, FileNotFoundError) as exc:
        sys.exit(f"dd0c-cost: {exc}")
    app.synth()
