"""``bench score``'s second part: the score function end to end on a real PostgreSQL (an embedded,
ephemeral server with the migrations applied), per SQS delivery mode: each message body parsed,
the batch scored by :func:`dd0c_cost.scoring.scorer.score_cost_events`, the notify messages built;
events/s, client and backend CPU per event and the WAL the scoring wrote (see ``score_core``)."""

from __future__ import annotations

import os
import time

from dd0c_cost_tools.bench.score_stream import sqs_batches, store_cost_events, synthetic_cost_events

TARGET_EVENTS_PER_S = 5_000
MODE_LABELS = {
    "group": "batches of 10, one FIFO group",
    "mixed": "batches of 10, mixed groups",
    "single": "one message per call",
}


def run_pipeline_bench(n_events: int, repeat: int, modes=("group", "mixed", "single"), *, out=None) -> dict[str, dict]:
    """Events/s of the scoring function per delivery mode (best of ``repeat``), on a fresh embedded PostgreSQL."""
    from dd0c_cost.db.connection import open_connection
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres

    server = EmbeddedPostgres.ephemeral(prefix="dd0c-bench-")
    url = server.start()
    try:
        migrate(url)
        conn = open_connection(url)
        events, _ids = store_cost_events(url, conn, synthetic_cost_events(n_events))
        bodies = [(e.series_key, e.model_dump_json()) for e in events]
        results: dict[str, dict] = {}
        for mode in modes:
            runs = [_timed_run(url, conn, bodies, mode) for _ in range(repeat)]
            results[mode] = _summary(runs, len(events))
            if out:
                r = results[mode]
                print(
                    f"  {mode:7s} {r['events_per_s']:10,.0f} events/s "
                    f"(median {r['median_events_per_s']:,.0f}; CPU per event: client "
                    f"{r['client_cpu_us_per_event']:.0f} us, PostgreSQL backend "
                    f"{r['server_cpu_us_per_event']:.0f} us; WAL {r['wal_bytes_per_event']:,.0f} bytes)",
                    file=out,
                )
        conn.close()
        return results
    finally:
        server.stop()


def _timed_run(url: str, conn, bodies: list[tuple[str, str]], mode: str) -> tuple:
    """One scoring of every message from a clean state: (seconds, anomalies, notify messages,
    client CPU s, backend CPU s, WAL bytes)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:  # superuser: outside RLS, resets all tenants
        admin.execute("UPDATE dd0c.cost_events SET scored_at = NULL, score = NULL, score_components = NULL")
        admin.execute("TRUNCATE dd0c.spend_baselines, dd0c.tenant_baselines, dd0c.anomalies CASCADE")
        admin.execute("VACUUM ANALYZE")
        lsn = admin.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    backend = conn.info.backend_pid
    s0 = _process_cpu_seconds(backend)
    c0 = time.process_time()
    t0 = time.perf_counter()
    anomalies, notified = _score_batches(conn, sqs_batches(list(bodies), mode))
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    server_cpu = _process_cpu_seconds(backend) - s0
    with psycopg.connect(url) as admin:  # WAL written by the scoring: does not depend on the load
        wal = admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn]).fetchone()[0]
    return elapsed, anomalies, notified, cpu, server_cpu, float(wal)


def _score_batches(conn, batches: list[list[str]]) -> tuple[int, int]:
    """What the score function does per delivery: parse, score, build the notify messages."""
    from dd0c_cost.events.models import CostEvent, NotifyMessage
    from dd0c_cost.scoring.scorer import score_cost_events

    notified = anomalies = 0
    for batch in batches:
        parsed = [CostEvent.model_validate_json(b) for b in batch]
        for ev, r in zip(parsed, score_cost_events(conn, parsed), strict=True):
            if r.error is not None:
                raise r.error
            if r.outcome == "anomaly":
                anomalies += 1
            if r.anomaly is not None and r.needs_notify:
                NotifyMessage(tenant_id=ev.tenant_id, anomaly_id=r.anomaly.id, revision=r.revision).model_dump_json()
                notified += 1
    return anomalies, notified


def _summary(runs: list[tuple], n_events: int) -> dict:
    best = min(runs)
    median = sorted(runs)[len(runs) // 2]
    return {
        "events_per_s": n_events / best[0],
        "median_events_per_s": n_events / median[0],
        "seconds": best[0],
        "events": n_events,
        "anomalies": best[1],
        "notify_messages": best[2],
        "client_cpu_us_per_event": 1e6 * min(r[3] for r in runs) / n_events,
        "server_cpu_us_per_event": 1e6 * min(r[4] for r in runs) / n_events,
        "wal_bytes_per_event": min(r[5] for r in runs) / n_events,
    }


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (the PostgreSQL backend serving the bench), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_pipeline(pipeline: dict[str, dict], runs: int) -> None:
    """The pipeline part of ``bench score``'s table."""
    print(
        f"\nscoring function end to end on PostgreSQL: {pipeline['group']['events']} cost events, "
        f"best and median of {runs}, one process; embedded PostgreSQL with fsync, "
        f"synchronous_commit and full_page_writes off (not durable: this measures CPU and round trips); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'':34s} {'events/s':>12s}  {'median':>8s}  {'us/event':>8s}  {'client CPU us':>13s}  "
        f"{'PG CPU us':>9s}  {'WAL bytes':>9s}  anomalies  notify"
    )
    for mode, r in pipeline.items():
        print(
            f"{MODE_LABELS[mode]:34s} {r['events_per_s']:12,.0f}  {r['median_events_per_s']:8,.0f}  "
            f"{1e6 / r['events_per_s']:8.1f}  {r['client_cpu_us_per_event']:13.0f}  "
            f"{r['server_cpu_us_per_event']:9.0f}  {r['wal_bytes_per_event']:9,.0f}  {r['anomalies']:9d}  "
            f"{r['notify_messages']:6d}"
        )
    g = pipeline["group"]
    cpu_bound = 1e6 / (g["client_cpu_us_per_event"] + g["server_cpu_us_per_event"])
    print(
        f"CPU-bound rate (one-group batches): 1e6 / (client + PostgreSQL CPU per event) = {cpu_bound:,.0f} "
        f"events/s: what one process and its backend sustain on an otherwise idle core each"
    )
    eps = pipeline["group"]["events_per_s"]
    print(
        f"target >= {TARGET_EVENTS_PER_S:,} events/s (batches): {'meets' if eps >= TARGET_EVENTS_PER_S else 'MISSES'}"
    )
