#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"). All logic lives in cdk/dd0c_cost_cdk.

Run with the project venv's Python (``source .venv/bin/activate``): ``dd0c_cost`` comes from its
editable install, and ``dd0c_cost_cdk`` sits next to this script (Python puts the script's folder
on ``sys.path``).
"""

import os
import sys

# cdk-nag reads every property of every resource, including ones aws-cdk-lib marks deprecated
# (e.g. CfnEventBusPolicy#principal, which we never set); don't print a warning for each.
os.environ.setdefault("JSII_DEPRECATED", "quiet")

from dd0c_cost_cdk.app import build_app
from dd0c_cost_cdk.config import ConfigError
from dd0c_cost_cdk.layers import DepsLayerMissing

if __name__ == "__main__":
    try:
        app, _ = build_app()
    except (ConfigError, DepsLayerMissing, FileNotFoundError) as exc:
        sys.exit(f"dd0c-cost: {exc}")
    app.synth()
