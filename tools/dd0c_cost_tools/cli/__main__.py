"""``python -m dd0c_cost_tools.cli`` is ``dd0c-cost``."""

import sys

from dd0c_cost_tools.cli import main

sys.exit(main())
