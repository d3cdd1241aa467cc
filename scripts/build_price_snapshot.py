#!/usr/bin/env python3
"""Build the offline price snapshot shipped in ``dd0c_cost/pricing/data/`` from ``shared/pricing``.

    .venv/bin/python scripts/build_price_snapshot.py --source ../shared/pricing
    .venv/bin/python scripts/build_price_snapshot.py --source ../shared/pricing --check   # verify only

The build is ``dd0c_cost_tools.pricing.dataset`` (its ``build`` module says what each file holds).
"""

from __future__ import annotations

import sys

from dd0c_cost_tools.pricing.dataset.build import main

if __name__ == "__main__":
    sys.exit(main())
