"""Both replay paths behind one call, so each fault test runs against both: the bulk path
(``dd0c-cost replay``'s default) and the real handlers on emulated queues (``--via-queues``)."""

from __future__ import annotations

from pathlib import Path

import pytest

PATHS = [pytest.param("bulk", id="bulk"), pytest.param("queues", id="via-queues")]


def replay_by(kind: str, paths: list[Path], tenant: str, db_url: str, rejects: Path, progress=None):
    """A ``ReplaySummary`` (the CLI's) from ``kind`` = "bulk" or "queues"."""
    if kind == "bulk":
        from dd0c_cost_tools.cli.commands.replay import run_bulk_replay

        return run_bulk_replay(paths, tenant, db_url, rejects, progress=progress)
    from dd0c_cost_tools.local.replay import replay

    return replay(paths, tenant, db_url, rejects_path=rejects, progress=progress)
