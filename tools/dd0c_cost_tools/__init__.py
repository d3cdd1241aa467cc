"""dd0c/cost developer and operator tooling: the ``dd0c-cost`` CLI, the local runner and embedded
PostgreSQL, benchmarks, the contracts generator and the price-snapshot tooling.

Installed by ``pip install -e .`` for development and operations; never shipped to Lambda (the
shared layer is ``layers/shared/python/dd0c_cost`` alone, and a test proves it imports none of this).
"""

from __future__ import annotations

from pathlib import Path

# tools/dd0c_cost_tools/__init__.py -> the checkout (this package is only ever used from one).
REPO_ROOT = Path(__file__).resolve().parents[2]
