"""Backfill speed (``dd0c-cost bench backfill``): ``dd0c-cost replay``'s bulk path end to end on a
generated mixed stream (default 1,000,000 records, about 5 % cost-relevant, the rest read-only
noise, four weeks, eight files of JSON Lines that the replay merges by event time).

Setup, outside the timing: the stream is generated (``bench.streams``, deterministic) into a
temporary directory, and an ephemeral embedded PostgreSQL is started and migrated (fsync off, as
for every benchmark here: this measures the pipeline, not the disk). Timed: everything
``dd0c-cost replay`` does: reading and merging the files, normalising, storing the cost events,
scoring them, and the notifications (to the outbox file). Each run gets a fresh database.

Reported per run, then the median next to the best: records/s (wall), wall seconds, this process's
CPU seconds (user + system: what the machine's other work does not inflate), PostgreSQL's CPU
seconds (all the cluster's processes, from /proc), peak RSS of this process (MB), and the counts
(cost events, not cost-relevant, rejected, anomalies). Targets: 5,000 records/s or more on one core
for the mixed stream; 1,000,000 records in under 4 minutes; peak RSS under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_RECORDS_PER_S = 5_000
TARGET_SECONDS_PER_MILLION = 240.0
TARGET_RSS_MB = 500.0


def _cluster_cpu_seconds(postmaster_pid: int) -> float:
    """User + system CPU of the PostgreSQL cluster: the postmaster and every child, live and reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [postmaster_pid]
    try:
        children = Path(f"/proc/{postmaster_pid}/task/{postmaster_pid}/children").read_text().split()
        pids += [int(p) for p in children]
    except OSError:
        pass
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, and (for the postmaster) cutime, cstime of children that exited
        total += (int(fields[11]) + int(fields[12])) / tick
        if pid == postmaster_pid:
            total += (int(fields[13]) + int(fields[14])) / tick
    return total


def _postmaster_pid(server) -> int | None:
    pidfile = Path(server.pgdata) / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def run_once(paths: list[Path], *, batch_records: int) -> dict:
    from dd0c_cost.db.connection import close_connection
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost.notify.slack import reset_notifier
    from dd0c_cost.settings import reset_settings
    from dd0c_cost_tools.local.backfill import bulk_replay
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres

    server = EmbeddedPostgres.ephemeral(prefix="dd0c-bench-backfill-")
    url = server.start()
    data = tempfile.mkdtemp(prefix="dd0c-bench-backfill-data-")
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "DD0C_DATA_DIR", "SLACK_BOT_TOKEN")}
    try:
        migrate(url)
        os.environ.update({"DATABASE_URL": url, "DD0C_DATA_DIR": data})
        os.environ.pop("SLACK_BOT_TOKEN", None)
        reset_settings()
        reset_notifier()
        close_connection()
        pm = _postmaster_pid(server)
        pg0 = _cluster_cpu_seconds(pm) if pm else 0.0
        c0 = time.process_time()
        t0 = time.perf_counter()
        summary = bulk_replay(paths, "bench-backfill", url, batch_records=batch_records)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        pg = (_cluster_cpu_seconds(pm) - pg0) if pm else None
    finally:
        close_connection()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings()
        server.stop()
    return {
        "records": summary.read,
        "records_per_s": summary.read / wall,
        "seconds": wall,
        "client_cpu_s": cpu,
        "postgres_cpu_s": pg,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cost_events": summary.cost_events,
        "not_cost_relevant": summary.not_cost_relevant,
        "rejected": sum(summary.rejected.values()),
        "anomalies": summary.anomalies,
        "spilled_runs": getattr(summary, "spilled_runs", 0),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dd0c-cost bench backfill", description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--cost-share", type=float, default=0.05, help="share of cost-relevant calls (default 0.05)")
    ap.add_argument("--weeks", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=1, help="runs (fresh database each); median and best")
    ap.add_argument("--batch-records", type=int, default=None, help="bulk batch size (default: the loader's)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    from dd0c_cost.backfill.bulk import DEFAULT_BATCH_RECORDS
    from dd0c_cost_tools.bench.streams import write_stream

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="dd0c-bench-stream-") as tmp:
        t0 = time.perf_counter()
        paths = write_stream(Path(tmp), a.records, weeks=a.weeks, cost_share=a.cost_share)
        generated = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        runs = [run_once(paths, batch_records=a.batch_records or DEFAULT_BATCH_RECORDS) for _ in range(a.repeat)]
    med = {k: statistics.median(r[k] for r in runs) for k in ("records_per_s", "seconds", "client_cpu_s")}
    best = max(runs, key=lambda r: r["records_per_s"])
    result = {
        "records": a.records,
        "input_mb": round(size_mb, 1),
        "files": len(paths),
        "generated_s": round(generated, 1),
        "runs": runs,
        "median_records_per_s": round(med["records_per_s"]),
        "best_records_per_s": round(best["records_per_s"]),
        "loadavg": [round(x, 2) for x in load],
    }
    if a.json:
        print(json.dumps(result))
    else:
        _print_table(a, result["files"], size_mb, load, runs, med, best)
    return 0


def _print_table(
    a: argparse.Namespace, files: int, size_mb: float, load: tuple, runs: list[dict], med: dict, best: dict
) -> None:
    print(
        f"backfill (dd0c-cost replay, bulk path): {a.records:,} generated records ({a.cost_share:.0%} cost-relevant), "
        f"{files} files, {size_mb:,.0f} MB of JSON Lines; {a.repeat} run(s), fresh database each, "
        f"fsync off; load average {load[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'run':>4s} {'records/s':>10s} {'seconds':>8s} {'client CPU s':>13s} {'PostgreSQL CPU s':>17s} "
        f"{'peak RSS MB':>12s} {'cost events':>12s} {'anomalies':>10s}"
    )
    for i, r in enumerate(runs, 1):
        pg = f"{r['postgres_cpu_s']:.1f}" if r["postgres_cpu_s"] is not None else "-"
        print(
            f"{i:4d} {r['records_per_s']:10,.0f} {r['seconds']:8.1f} {r['client_cpu_s']:13.1f} {pg:>17s} "
            f"{r['peak_rss_mb']:12.0f} {r['cost_events']:12,d} {r['anomalies']:10,d}"
        )
    cpu_rate = a.records / med["client_cpu_s"] if med["client_cpu_s"] else float("nan")
    print(
        f"median {med['records_per_s']:,.0f} records/s (best {best['records_per_s']:,.0f}); "
        f"per CPU-second of this process: {cpu_rate:,.0f} records"
    )
    per_million = med["seconds"] * 1_000_000 / a.records
    rss = max(r["peak_rss_mb"] for r in runs)
    ok = (
        med["records_per_s"] >= TARGET_RECORDS_PER_S
        and per_million <= TARGET_SECONDS_PER_MILLION
        and rss <= TARGET_RSS_MB
    )
    print(
        f"targets >= {TARGET_RECORDS_PER_S:,} records/s, 1M in < {TARGET_SECONDS_PER_MILLION / 60:.0f} min "
        f"({per_million:.0f} s per million here), peak RSS < {TARGET_RSS_MB:.0f} MB ({rss:.0f}): "
        f"{'meets' if ok else 'MISSES'}"
    )


if __name__ == "__main__":
    sys.exit(main())
