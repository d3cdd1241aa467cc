#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"). All logic lives in cdk/dd0c_cost_cdk."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "cdk", ROOT / "layers" / "shared" / "python"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from dd0c_cost_cdk.app import build_app  # noqa: E402

if __name__ == "__main__":
    app, _ = build_app()
    app.synth()
