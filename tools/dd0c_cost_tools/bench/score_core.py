"""Speed of the scoring (``dd0c-cost bench score``).

Headline: the composite event engine, which is what raises alerts on cost events
(``scoring.engine``: ``sanitize`` + ``step``, series and tenant state in memory), in cost
events per second on one core, next to a plain per-series Welford z-score loop over the same
events in the same run, and their ratio; median and best of ``--repeat`` runs, with the machine
load.

Then the usage path's detector: a synthetic, deterministic series (5-minute steps, a daily
cycle, noise, occasional spikes and a level shift) fed to the detector the usage poller runs
(``usage.detect.new_detector``: :class:`~dd0c_cost.scoring.streaming.StreamingDetector` with
``USAGE_PARAMS``), points per second of ``update(t, x)`` next to the same Welford loop.

Second part (``pipeline_events_per_s``): the scoring Lambda's work end to end against a real
PostgreSQL (an embedded, ephemeral server with the migrations applied): each SQS message body
is parsed (``CostEvent.model_validate_json``), the batch is scored by
:func:`dd0c_cost.scoring.scorer.score_cost_events` (row locks, once-only claim, state load and
save, anomalies), and the notify messages are built. The cost events are stored first, as the
normalise stage does, outside the timing. SQS itself (receive, delete, send) and the Lambda
runtime are not included. Reported: batches of 10 messages of one FIFO group (what the score
function receives from its queue), and for comparison batches of 10 mixed groups and one message
per call (the per-record handler). Per event: client and PostgreSQL backend CPU, and the WAL the
scoring wrote (bytes; unlike times, it does not depend on how busy the machine is).

``--json`` prints exactly ``{"composite_events_per_s", "welford_events_per_s", "composite_to_welford",
"core_points_per_s", "pipeline_events_per_s"}`` (medians; ``--no-pipeline`` leaves the last out;
``pipeline_events_per_s`` is null if PostgreSQL is missing).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time

from dd0c_cost.scoring.streaming import Welford

TARGET_POINTS_PER_S = 100_000


def synthetic_series(n: int, seed: int = 7) -> tuple[list[float], list[float]]:
    """Deterministic test series: (epoch seconds, value)."""
    rng = random.Random(seed)
    t0 = 1_700_000_000.0
    ts, xs = [], []
    level = 10.0
    for i in range(n):
        t = t0 + 300.0 * i
        if i == n // 2:
            level = 14.0
        x = level + 3.0 * math.sin(2 * math.pi * (t % 86400.0) / 86400.0) + rng.gauss(0.0, 0.5)
        if rng.random() < 0.002:
            x += rng.uniform(5.0, 20.0)
        ts.append(t)
        xs.append(max(x, 0.0))
    return ts, xs


def time_detector(ts: list[float], xs: list[float]) -> float:
    """Seconds to score every point with a fresh detector of the usage path (range not given)."""
    from dd0c_cost.usage.detect import new_detector

    det = new_detector()
    upd = det.update
    t0 = time.perf_counter()
    for t, x in zip(ts, xs, strict=True):
        upd(t, x)
    return time.perf_counter() - t0


def time_welford(ts: list[float], xs: list[float]) -> float:
    """Seconds for the baseline: z against an expanding Welford mean/variance, then update."""
    w = Welford()
    add, z = w.add, w.zscore
    t0 = time.perf_counter()
    for _t, x in zip(ts, xs, strict=True):
        s = abs(z(x))
        s = s / (1.0 + s)
        add(x)
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------ pipeline
TARGET_EVENTS_PER_S = 5_000
_ITYPES = (("m5.large", 0.096), ("c5.xlarge", 0.17), ("t3.medium", 0.0416), ("r5.2xlarge", 0.504))


def synthetic_cost_events(n: int, tenants: int = 20, accounts_per_tenant: int = 2, seed: int = 7):
    """A deterministic stream of priced EC2 cost events in event-time order: per account a steady
    churn (a call every 3 h on average, so the stream covers a couple of weeks: cold start, then
    warm baselines) of small launches and terminations by a few people and an autoscaling role,
    with a rare burst (20 launches in minutes, 0.5 % of calls) and a rarer GPU launch (0.1 %). Returns
    (tenant names, {tenant name: [account ids]}, [CostEvent]) with placeholder tenant ids."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from dd0c_cost.events.models import Actor, CostAction, CostEvent, PriceQuote

    rng = random.Random(seed)
    names = [f"bench-{i:03d}" for i in range(tenants)]
    accounts = {
        name: [f"{100000000000 + i * 100 + j:012d}" for j in range(accounts_per_tenant)] for i, name in enumerate(names)
    }
    streams = [(name, acct) for name in names for acct in accounts[name]]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    per_stream = max(1, n // len(streams))
    out: list[tuple[datetime, CostEvent]] = []
    seq = 0
    for _name, acct in streams:
        t = start
        running: list[tuple[str, float, str]] = []  # (instance id, $/h, type)
        people = [Actor(display_name=p, principal_arn=f"arn:aws:iam::{acct}:user/{p}") for p in ("ana", "bo", "cy")]
        asg = Actor(
            display_name="asg/AutoScaling",
            principal_arn=f"arn:aws:sts::{acct}:assumed-role/asg/AutoScaling",
            session_issuer_arn=f"arn:aws:iam::{acct}:role/asg",
        )
        made = 0
        while made < per_stream:
            t += timedelta(minutes=rng.expovariate(1 / 180.0))
            roll = rng.random()
            if running and roll < 0.42:
                k = min(len(running), rng.randint(1, 3))
                gone, running = running[:k], running[k:]
                items = [(gone, -sum(r[1] for r in gone), CostAction.DELETE, gone[0][2], 1.0)]
            elif roll < 0.425:  # a burst: 20 single launches within minutes
                itype, unit = _ITYPES[0]
                items = []
                for _ in range(20):
                    seq += 1
                    iid = f"i-{seq:017x}"
                    running.append((iid, unit, itype))
                    items.append(([(iid, unit, itype)], unit, CostAction.CREATE, itype, unit))
            elif roll < 0.426:
                seq += 1
                iid = f"i-{seq:017x}"
                running.append((iid, 8 * 32.77, "p4d.24xlarge"))
                items = [([(iid, 8 * 32.77, "p4d.24xlarge")], 8 * 32.77, CostAction.CREATE, "p4d.24xlarge", 32.77)]
            else:
                itype, unit = _ITYPES[rng.randrange(len(_ITYPES))]
                q = rng.randint(1, 4)
                new = []
                for _ in range(q):
                    seq += 1
                    new.append((f"i-{seq:017x}", unit, itype))
                running.extend(new)
                items = [(new, q * unit, CostAction.CREATE, itype, unit)]
            actor = asg if 0.42 <= roll < 0.425 or rng.random() < 0.3 else people[rng.randrange(3)]
            for k, (res, usd, action, itype, unit) in enumerate(items):
                when = t + timedelta(seconds=10 * k)
                out.append(
                    (
                        when,
                        CostEvent(
                            tenant_id=uuid.UUID(int=0),
                            account_id=acct,
                            region="us-east-1",
                            event_id=uuid.uuid4().hex,
                            event_time=when,
                            event_source="ec2.amazonaws.com",
                            event_name="RunInstances" if action is CostAction.CREATE else "TerminateInstances",
                            actor=actor,
                            service="ec2",
                            resource_type="ec2:instance",
                            resource_ids=[r[0] for r in res],
                            action=action,
                            quantity=float(len(res) if action is CostAction.DELETE else max(1, round(usd / unit))),
                            attributes={"instance_type": itype},
                            unit_price=PriceQuote(usd_per_hour=unit, source="bench", as_of="2026-01-01"),
                            estimated_usd_per_hour=round(usd, 6),
                        ),
                    )
                )
                made += 1
    out.sort(key=lambda p: p[0])
    return names, accounts, [e for _, e in out]


def _batches(bodies: list[tuple[str, str]], mode: str) -> list[list[str]]:
    """SQS deliveries: ``group`` = up to 10 consecutive messages of one FIFO group, ``mixed`` =
    10 consecutive messages in arrival order, ``single`` = one message per call."""
    if mode == "single":
        return [[b] for _, b in bodies]
    if mode == "mixed":
        flat = [b for _, b in bodies]
        return [flat[i : i + 10] for i in range(0, len(flat), 10)]
    per_group: dict[str, list[str]] = {}
    for group, body in bodies:
        per_group.setdefault(group, []).append(body)
    queues = list(per_group.items())
    out, i = [], 0
    while queues:  # round robin over groups, as concurrent pollers would drain them
        _g, q = queues[i % len(queues)]
        out.append(q[:10])
        del q[:10]
        if not q:
            queues.pop(i % len(queues))
        else:
            i += 1
    return out


def store_cost_events(url: str, conn, stream) -> tuple[list, dict[str, str]]:
    """A synthetic stream's tenants and accounts made by the operator, and its cost events stored under
    RLS through ``conn``: the events with their tenant ids, and the tenant id by name."""
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.events.store import insert_cost_event

    names, accounts, events = stream
    op = operator.open_operator_connection(url)
    ids = {name: operator.ensure_tenant(op, name) for name in names}
    for name in names:
        operator.attach_accounts(op, ids[name], set(accounts[name]))
    op.close()
    owner = {acct: ids[name] for name in names for acct in accounts[name]}
    events = [e.model_copy(update={"tenant_id": owner[e.account_id]}) for e in events]
    for tenant_id in ids.values():
        with conn.pipeline(), tenant_transaction(conn, tenant_id):
            for e in events:
                if e.tenant_id == tenant_id:
                    insert_cost_event(conn, e)
    return events, ids


def run_pipeline_bench(n_events: int, repeat: int, modes=("group", "mixed", "single"), *, out=None) -> dict[str, dict]:
    """Events/s of the scoring function per delivery mode (best of ``repeat``), on a fresh embedded PostgreSQL."""
    import psycopg

    from dd0c_cost.db.connection import open_connection
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost.events.models import CostEvent, NotifyMessage
    from dd0c_cost.scoring.scorer import score_cost_events
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres

    server = EmbeddedPostgres.ephemeral(prefix="dd0c-bench-")
    url = server.start()
    try:
        migrate(url)
        conn = open_connection(url)
        events, _ids = store_cost_events(url, conn, synthetic_cost_events(n_events))
        bodies = [(e.series_key, e.model_dump_json()) for e in events]
        results: dict[str, dict] = {}
        backend = conn.info.backend_pid
        for mode in modes:
            runs = []
            for _ in range(repeat):
                with psycopg.connect(url, autocommit=True) as admin:  # superuser: outside RLS, resets all tenants
                    admin.execute("UPDATE dd0c.cost_events SET scored_at = NULL, score = NULL, score_components = NULL")
                    admin.execute("TRUNCATE dd0c.spend_baselines, dd0c.tenant_baselines, dd0c.anomalies CASCADE")
                    admin.execute("VACUUM ANALYZE")
                    lsn = admin.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
                notified = anomalies = 0
                s0 = _process_cpu_seconds(backend)
                c0 = time.process_time()
                t0 = time.perf_counter()
                for batch in _batches(list(bodies), mode):
                    parsed = [CostEvent.model_validate_json(b) for b in batch]
                    for ev, r in zip(parsed, score_cost_events(conn, parsed), strict=True):
                        if r.error is not None:
                            raise r.error
                        if r.outcome == "anomaly":
                            anomalies += 1
                        if r.anomaly is not None and r.needs_notify:
                            NotifyMessage(
                                tenant_id=ev.tenant_id, anomaly_id=r.anomaly.id, revision=r.revision
                            ).model_dump_json()
                            notified += 1
                elapsed = time.perf_counter() - t0
                cpu = time.process_time() - c0
                server_cpu = _process_cpu_seconds(backend) - s0
                with psycopg.connect(url) as admin:  # WAL written by the scoring: does not depend on the load
                    wal = admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn]).fetchone()[0]
                runs.append((elapsed, anomalies, notified, cpu, server_cpu, float(wal)))
            best = min(runs)
            median = sorted(runs)[len(runs) // 2]
            results[mode] = {
                "events_per_s": len(events) / best[0],
                "median_events_per_s": len(events) / median[0],
                "seconds": best[0],
                "events": len(events),
                "anomalies": best[1],
                "notify_messages": best[2],
                "client_cpu_us_per_event": 1e6 * min(r[3] for r in runs) / len(events),
                "server_cpu_us_per_event": 1e6 * min(r[4] for r in runs) / len(events),
                "wal_bytes_per_event": min(r[5] for r in runs) / len(events),
            }
            if out:
                print(
                    f"  {mode:7s} {results[mode]['events_per_s']:10,.0f} events/s "
                    f"(median {results[mode]['median_events_per_s']:,.0f}; CPU per event: client "
                    f"{results[mode]['client_cpu_us_per_event']:.0f} us, PostgreSQL backend "
                    f"{results[mode]['server_cpu_us_per_event']:.0f} us; WAL {results[mode]['wal_bytes_per_event']:,.0f} bytes)",
                    file=out,
                )
        conn.close()
        return results
    finally:
        server.stop()


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (the PostgreSQL backend serving the bench), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_composite_engine(events) -> tuple[float, int]:
    """Seconds for the composite core alone (sanitize + step) over the events, state in memory."""
    from dd0c_cost.scoring.config import DEFAULT_CONFIG
    from dd0c_cost.scoring.engine import step
    from dd0c_cost.scoring.observation import Observation, sanitize
    from dd0c_cost.scoring.series import SeriesState, TenantState

    series: dict[str, SeriesState] = {}
    tenants: dict[str, TenantState] = {}
    t0 = time.perf_counter()
    for e in events:
        obs = sanitize(e)
        if not isinstance(obs, Observation):
            continue
        s = series.get(e.series_key + e.resource_type)
        if s is None:
            s = series[e.series_key + e.resource_type] = SeriesState()
        tn = tenants.get(e.account_id)
        if tn is None:
            tn = tenants[e.account_id] = TenantState()
        step(obs, s, tn, DEFAULT_CONFIG, [])
    return time.perf_counter() - t0, len(events)


def time_welford_events(events) -> tuple[float, int]:
    """Seconds for the baseline over the same events: per series (same key as the engine), |z| of
    the event's $/h against an expanding Welford mean/variance, then the update."""
    series: dict[str, Welford] = {}
    t0 = time.perf_counter()
    for e in events:
        w = series.get(e.series_key + e.resource_type)
        if w is None:
            w = series[e.series_key + e.resource_type] = Welford()
        x = e.estimated_usd_per_hour or 0.0
        s = abs(w.zscore(x))
        s = s / (1.0 + s)
        w.add(x)
    return time.perf_counter() - t0, len(events)


def composite_headline(n_events: int, repeat: int) -> dict:
    """Events/s of the composite engine and of the Welford loop, interleaved in one run."""
    _, _, events = synthetic_cost_events(n_events)
    comp, base = [], []
    for _ in range(repeat):
        secs, n = time_composite_engine(events)
        comp.append(n / secs)
        secs, n = time_welford_events(events)
        base.append(n / secs)
    return {
        "events": len(events),
        "composite_median": statistics.median(comp),
        "composite_best": max(comp),
        "welford_median": statistics.median(base),
        "welford_best": max(base),
        "ratio_median": statistics.median(comp) / statistics.median(base),
    }


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="dd0c-cost bench score",
        description="Points/s of the streaming scoring core on one core, and cost "
        "events/s of the scoring function against PostgreSQL.",
    )
    ap.add_argument("--points", type=int, default=100_000, help="points per run (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs; the best is reported (default 3)")
    ap.add_argument("--events", type=int, default=10_000, help="cost events for the pipeline part (default 10000)")
    ap.add_argument("--no-pipeline", action="store_true", help="skip the PostgreSQL part")
    ap.add_argument("--json", action="store_true", help="print the medians as JSON (see the module docstring)")
    a = ap.parse_args(argv)
    if a.points < 1 or a.repeat < 1 or a.events < 100:
        ap.error("--points and --repeat must be >= 1, --events >= 100")

    head = composite_headline(a.events, a.repeat)
    ts, xs = synthetic_series(a.points)
    core_runs = [a.points / time_detector(ts, xs) for _ in range(a.repeat)]
    base_runs = [a.points / time_welford(ts, xs) for _ in range(a.repeat)]
    core_pps, base_pps = statistics.median(core_runs), statistics.median(base_runs)

    pipeline: dict[str, dict] | None = None
    pipeline_error = None
    if not a.no_pipeline:
        try:
            pipeline = run_pipeline_bench(a.events, max(1, min(a.repeat, 2)), out=None if a.json else sys.stderr)
        except Exception as exc:  # noqa: BLE001 - e.g. no PostgreSQL binaries: report, do not crash
            pipeline_error = f"{type(exc).__name__}: {exc}"
    if a.json:
        out = {
            "composite_events_per_s": round(head["composite_median"]),
            "welford_events_per_s": round(head["welford_median"]),
            "composite_to_welford": round(head["ratio_median"], 4),
            "core_points_per_s": round(core_pps),
        }
        if not a.no_pipeline:
            out["pipeline_events_per_s"] = round(pipeline["group"]["events_per_s"]) if pipeline else None
        print(json.dumps(out))
        return 0
    print(f"dd0c-cost bench score: one thread; {_load()}")
    print(
        f"\nHEADLINE: the composite event engine (what alerts on cost events: sanitize + step, state in memory), "
        f"{head['events']:,} synthetic EC2 cost events, {a.repeat} runs interleaved with the baseline"
    )
    print(f"{'':34s} {'events/s median':>16s} {'best':>10s}  {'us/event':>8s}")
    print(
        f"{'composite engine':34s} {head['composite_median']:16,.0f} {head['composite_best']:10,.0f}  "
        f"{1e6 / head['composite_median']:8.1f}"
    )
    print(
        f"{'baseline: per-series Welford z':34s} {head['welford_median']:16,.0f} {head['welford_best']:10,.0f}  "
        f"{1e6 / head['welford_median']:8.2f}"
    )
    print(
        f"ratio composite/Welford (medians): {head['ratio_median']:.4f} "
        f"(the engine costs {1 / head['ratio_median']:.0f}x the baseline per event)"
    )
    print(f"\nusage path: its streaming detector (usage.detect.new_detector), {a.points} points, {a.repeat} runs")
    print(f"{'':34s} {'points/s median':>16s} {'best':>10s}  {'us/point':>8s}")
    print(f"{'StreamingDetector.update':34s} {core_pps:16,.0f} {max(core_runs):10,.0f}  {1e6 / core_pps:8.2f}")
    print(f"{'baseline: expanding Welford z':34s} {base_pps:16,.0f} {max(base_runs):10,.0f}  {1e6 / base_pps:8.2f}")
    print(
        f"ratio detector/baseline (medians): {core_pps / base_pps:.3f} "
        f"(the detector costs {base_pps / core_pps:.1f}x the baseline per point)"
    )
    verdict = "meets" if core_pps >= TARGET_POINTS_PER_S else "MISSES"
    print(f"target >= {TARGET_POINTS_PER_S:,} points/s: {verdict}")
    if a.no_pipeline:
        return 0
    if pipeline is None:
        print(f"scoring pipeline: not measured ({pipeline_error})")
        return 1
    print(
        f"\nscoring function end to end on PostgreSQL: {pipeline['group']['events']} cost events, "
        f"best and median of {max(1, min(a.repeat, 2))}, one process; embedded PostgreSQL with fsync, "
        f"synchronous_commit and full_page_writes off (not durable: this measures CPU and round trips); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'':34s} {'events/s':>12s}  {'median':>8s}  {'us/event':>8s}  {'client CPU us':>13s}  "
        f"{'PG CPU us':>9s}  {'WAL bytes':>9s}  anomalies  notify"
    )
    labels = {
        "group": "batches of 10, one FIFO group",
        "mixed": "batches of 10, mixed groups",
        "single": "one message per call",
    }
    for mode, r in pipeline.items():
        print(
            f"{labels[mode]:34s} {r['events_per_s']:12,.0f}  {r['median_events_per_s']:8,.0f}  "
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
