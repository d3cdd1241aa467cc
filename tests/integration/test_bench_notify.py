"""``bench notify`` runs each configuration on its own PostgreSQL in one process. A run that
started on the previous run's cached runtime connection (to a server since stopped) failed its
first records with AdminShutdown: retried, so every alert was still timed, but the bench measured a
dependency failure it did not mean to and logged it as "record failed"."""

from __future__ import annotations

import pytest


@pytest.mark.usefixtures("app_env")
def test_consecutive_runs_start_on_their_own_database(capfd):
    from dd0c_cost_tools.bench.notify_latency import _one_run

    for _ in range(2):
        run = _one_run(3, llm_delay_s=None)
        assert len(run["to_post"]) == 3
    out, err = capfd.readouterr()
    assert "record failed" not in out + err
    assert "AdminShutdown" not in out + err
