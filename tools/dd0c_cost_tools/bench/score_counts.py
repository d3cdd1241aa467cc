"""Load-proof figures of the scoring function (``dd0c-cost bench score-counts``): the PostgreSQL backend's
instructions per scored event (valgrind's cachegrind, the same on every run whatever else the machine is
doing), the WAL written per event, and a digest of everything the scoring stored and returned.

``bench score``'s stream (``synthetic_cost_events``, anomaly and event ids made deterministic) is stored
as the normaliser stores it; then, per delivery mode, every cost event is scored by
``scoring.scorer.score_cost_events`` in a child process (SQS bodies parsed, notify messages built, as
``bench score`` does) against a server started under cachegrind. The digest covers every cost event's
score, every series and tenant baseline (state compared as ``jsonb``), novelty key and anomaly row (wall-clock
columns left out, anomaly ids named by their first event) and every result: run it on two checkouts to show
a change keeps them (``--client`` also counts the client's instructions, the child's less one that scores
nothing: it includes the first call's lazy imports). The child does what the score function does and no
more: its imports' objects frozen out of the collector's way (``gc.freeze``, as the Lambda handler does), its
results pickled for the parent, which renders them for the digest (decision 102).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import json
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

_CACHEGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
_DIGESTED = ("cost_events", "spend_baselines", "tenant_baselines", "tenant_novelty", "anomalies")


def _instructions(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary in {path}")


def _child(url: str, bodies_path: str, mode: str, out: str) -> None:
    """Score the bodies (``mode`` batches) on one connection, doing per batch what the score function does
    (parse the bodies, score, build the notify messages); write its backend pid and the results.

    As the Lambda handler does after its imports (``dd0c_cost.cold_start_done``), what the imports built goes
    to the collector's permanent generation; and the results are rendered for the digest by the parent
    (``_result_lines``), from a pickle: the Lambda renders nothing, so the client's count should not either."""
    counter = itertools.count(1)
    uuid.uuid4 = lambda: uuid.UUID(int=(0xABCD << 96) + next(counter))  # deterministic anomaly ids
    from dd0c_cost.db.connection import open_connection
    from dd0c_cost.events.models import CostEvent, NotifyMessage
    from dd0c_cost.scoring.scorer import score_cost_events
    from dd0c_cost_tools.bench.score_core import _batches

    gc.freeze()
    bodies = [tuple(json.loads(line)) for line in Path(bodies_path).read_text().splitlines()]
    conn = open_connection(url)
    got = []
    for batch in _batches(bodies, mode):
        parsed = [CostEvent.model_validate_json(b) for b in batch]
        for ev, r in zip(parsed, score_cost_events(conn, parsed), strict=True):
            if r.error is not None:
                raise r.error
            if r.anomaly is not None and r.needs_notify:
                NotifyMessage(tenant_id=ev.tenant_id, anomaly_id=r.anomaly.id, revision=r.revision).model_dump_json()
            got.append((ev.event_id, r))
    pid = conn.info.backend_pid
    conn.close()
    Path(out).write_bytes(pickle.dumps({"pid": pid, "results": got, "n": len(bodies)}))
    os._exit(0)  # as a Lambda: no interpreter finalisation in the count


def _result_lines(got: list) -> list[str]:
    """Every result as a line of JSON (what the digest covers)."""
    lines = []
    for event_id, r in got:
        a = r.anomaly.model_dump(mode="json") if r.anomaly is not None else None
        what = [event_id, r.outcome, r.reason, r.score, r.values, r.revision, r.needs_notify, r.already_scored]
        lines.append(json.dumps([*what, a, [c.model_dump() for c in r.components]], sort_keys=True, default=str))
    return sorted(lines)


def _stream(n_events: int):
    """``bench score``'s stream with deterministic event ids."""
    from dd0c_cost_tools.bench.score_core import synthetic_cost_events

    rng = random.Random(99)
    real = uuid.uuid4
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
    try:
        return synthetic_cost_events(n_events)
    finally:
        uuid.uuid4 = real


def _digest(url: str, events, names: dict, results: list[str]) -> str:
    """sha256 of every table the scoring writes and of the results, with run-specific ids named (tenants by
    name, events by their place in the stream, anomalies by their first event) before rows are sorted."""
    import psycopg

    where = {e.event_id: f"E{i}" for i, e in enumerate(events)}
    with psycopg.connect(url) as admin:
        named = {str(tid): name for tid, name in names.items()} | where
        named |= {str(r[0]): f"A{where[r[1]]}" for r in admin.execute("SELECT id, event_ids[1] FROM dd0c.anomalies")}
        ids = re.compile("|".join(re.escape(k) for k in sorted(named, key=len, reverse=True)))
        parts = []
        for table in _DIGESTED:
            rows = admin.execute(
                f"SELECT (to_jsonb(t) - 'created_at' - 'updated_at' - 'scored_at')::text FROM dd0c.{table} t"
            ).fetchall()
            parts.append("\n".join(sorted(ids.sub(lambda m: named[m[0]], r[0]) for r in rows)))
    results = sorted(ids.sub(lambda m: named[m[0]], line) for line in results)
    return hashlib.sha256("\n".join([*parts, *results]).encode()).hexdigest()[:16]


def _setup(server, n_events: int, work: Path):
    """Migrations, tenants and the stored cost events; the stream's bodies in a file."""
    from dd0c_cost.db.connection import open_connection
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.bench.score_core import store_cost_events

    url = server.start()
    migrate(url)
    conn = open_connection(url)
    events, ids = store_cost_events(url, conn, _stream(n_events))
    conn.close()
    (work / "bodies.jsonl").write_text("".join(json.dumps([e.series_key, e.model_dump_json()]) + "\n" for e in events))
    return events, {tid: name for name, tid in ids.items()}


def _reset(url: str) -> str:
    """Nothing scored yet; the WAL position."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("UPDATE dd0c.cost_events SET scored_at = NULL, score = NULL, score_components = NULL")
        admin.execute(
            "TRUNCATE dd0c.spend_baselines, dd0c.tenant_baselines, dd0c.tenant_novelty, dd0c.anomalies CASCADE"
        )
        admin.execute("VACUUM ANALYZE")
        return admin.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def _run_mode(url: str, mode: str, work: Path, counts: Path, client: bool) -> dict:
    import psycopg

    env = {**os.environ, "PYTHONHASHSEED": "0"}
    child = [sys.executable, "-m", "dd0c_cost_tools.bench.score_counts", "--child", url]
    out = work / f"{mode}.json"
    figures: dict = {}
    if client:
        empty = work / "empty.jsonl"
        empty.write_text("")
        run = [
            *_CACHEGRIND,
            f"--cachegrind-out-file={counts}/client0.{mode}",
            *child,
            str(empty),
            mode,
            str(work / "x"),
        ]
        subprocess.run(run, env=env, check=True, capture_output=True)
    lsn = _reset(url)
    prefix = [*_CACHEGRIND, f"--cachegrind-out-file={counts}/client.{mode}"] if client else []
    subprocess.run([*prefix, *child, str(work / "bodies.jsonl"), mode, str(out)], env=env, check=True)
    res = pickle.loads(out.read_bytes())  # (written by our own child)
    n = res["n"]
    with psycopg.connect(url) as admin:
        wal = admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn]).fetchone()[0]
    backend = counts / f"pg.{res['pid']}"
    for _ in range(60):  # written when the backend exits
        if backend.exists() and backend.stat().st_size:
            break
        time.sleep(0.5)
    figures["backend_instructions_per_event"] = round(_instructions(backend) / n)
    if client:
        cl = _instructions(counts / f"client.{mode}") - _instructions(counts / f"client0.{mode}")
        figures["client_instructions_per_event"] = round(cl / n)
    figures["wal_bytes_per_event"] = round(float(wal) / n)
    return {"events": n, **figures, "results": _result_lines(res["results"])}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(*argv[1:5])
    ap = argparse.ArgumentParser(prog="dd0c-cost bench score-counts", description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1000, help="cost events of the stream (default 1000)")
    ap.add_argument("--modes", nargs="+", default=["group", "mixed"], choices=["group", "mixed", "single"])
    ap.add_argument("--client", action="store_true", help="also count the client's instructions")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("bench score-counts: valgrind is not installed", file=sys.stderr)
        return 1
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres

    work = Path(tempfile.mkdtemp(prefix="dd0c-score-counts-"))
    counts = work / "counts"
    counts.mkdir()
    for path in (work, counts):  # the server may run as another user
        path.chmod(0o777 if path == counts else 0o755)
    server = EmbeddedPostgres(work / "pg", ephemeral=True)
    try:
        events, names = _setup(server, a.events, work)
        server.stop()
        plain = server._server_args
        server._server_args = lambda: [*_CACHEGRIND, f"--cachegrind-out-file={counts}/pg.%p", *plain()]
        server.startup_timeout = 300
        url = server.start()
        out = {}
        for mode in a.modes:
            got = _run_mode(url, mode, work, counts, a.client)
            got["digest"] = _digest(url, events, names, got.pop("results"))
            out[mode] = got
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        print(json.dumps(out))
    else:
        print(f"bench score-counts: {a.events} requested events; instructions by valgrind cachegrind")
        for mode, got in out.items():
            print(
                f"  {mode:6s} " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in got.items())
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
