"""Faults are not bad input (issue 7): a dependency that fails mid-replay is reported by name,
never counted as a reject; read = processed + rejected + failed always; and running the same
replay again finishes the work with nothing doubled.

Reproduces: with the database stopped mid-replay, ``replay`` exited 0 and reported
``processing_failed 109`` as if the input were bad, and the totals stopped adding up."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dd0c_cost.backfill.bulk import BulkLoader
from dd0c_cost.db import operator
from dd0c_cost.db.connection import close_connection, open_connection, tenant_transaction
from tests.faults.replays import PATHS, replay_by
from tests.records import run_instances

ACCOUNT = "111122223333"
# psycopg's names for the server going away: terminated mid-session, then refused
DATABASE_GONE = {"AdminShutdown", "OperationalError"}


def _replay(kind, paths, db_url, tmp_path, progress=None):
    return replay_by(kind, [Path(p) for p in paths], "acme", db_url, tmp_path / "rejects.jsonl", progress=progress)


def _adds_up(summary) -> None:
    assert summary.read == summary.processed + sum(summary.rejected.values()) + sum(summary.failed.values())


def _database_name(db_url: str) -> str:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT current_database()").fetchone()[0]


def _admin(db_url: str):
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(db_url)
    params["dbname"] = "postgres"
    return psycopg.connect(make_conninfo(**params), autocommit=True)


@pytest.mark.parametrize("kind", PATHS)
def test_a_database_outage_mid_replay_is_a_named_failure_and_a_rerun_finishes_the_work(
    kind, app_env, db_url, tmp_path, monkeypatch
):
    records = [run_instances(ACCOUNT, user=f"dev{i}") for i in range(40)]
    path = tmp_path / "input.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    name = _database_name(db_url)
    stopped = []

    def stop_the_database_after_ten(stage, done, total):
        if done >= 10 and not stopped:
            stopped.append(done)
            with _admin(db_url) as admin:  # as if the server went away: nobody may connect now
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])

    if kind == "bulk":  # batches of ten; the database goes away before the second one
        init, flush = BulkLoader.__init__, BulkLoader.flush

        def small_batches(self, *args, **kwargs):
            init(self, *args, **kwargs)
            self.batch_records = 10

        def stopping_flush(self):
            stop_the_database_after_ten("replay", self.summary.read, 40)
            flush(self)

        with monkeypatch.context() as patched:
            patched.setattr(BulkLoader, "__init__", small_batches)
            patched.setattr(BulkLoader, "flush", stopping_flush)
            first = _replay(kind, [path], db_url, tmp_path)
        assert first.cost_events == 10 and sum(first.failed.values()) == 30
    else:
        first = _replay(kind, [path], db_url, tmp_path, progress=stop_the_database_after_ten)

    assert stopped
    assert first.rejected == {}  # nothing about the input was wrong
    assert sum(first.failed.values()) > 0 and set(first.failed) <= DATABASE_GONE
    _adds_up(first)

    with _admin(db_url) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    close_connection()
    second = _replay(kind, [path], db_url, tmp_path)

    assert second.failed == {} and second.read == 40
    # The unfinished ones are finished now; the finished ones are recognised as duplicates.
    assert set(second.rejected) <= {"duplicate"}
    assert second.cost_events + second.rejected["duplicate"] == 40
    assert second.cost_events >= sum(first.failed.values()) - 1  # (one may have committed as the server went)
    op = operator.open_operator_connection(db_url)
    tenant = operator.find_tenant(op, "acme")
    op.close()
    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant):
        stored = conn.execute("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM dd0c.cost_events").fetchone()
    conn.close()
    assert stored == {"n": 40, "d": 40}  # nothing lost, nothing doubled
    evidence = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert {e["reason"] for e in evidence if e["run_id"] == first.run_id} == {f"failed:{n}" for n in first.failed}
    # The rerun appended (it had nothing to add): the first run's evidence is still there.
    assert len([e for e in evidence if e["run_id"] == first.run_id]) == sum(first.failed.values()) + sum(
        first.scoring_failed.values()
    ) + sum(first.alerts_failed.values())
    assert (tmp_path / "rejects.jsonl").stat().st_mode & 0o777 == 0o600
