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
from dd0c_cost_tools.bench.score_pipeline import TARGET_EVENTS_PER_S, print_pipeline, run_pipeline_bench
from dd0c_cost_tools.bench.score_stream import sqs_batches as _batches
from dd0c_cost_tools.bench.score_stream import store_cost_events, synthetic_cost_events

# The stream and the pipeline part live in score_stream and score_pipeline; other benchmarks import
# them from here too.
__all__ = [
    "TARGET_EVENTS_PER_S",
    "TARGET_POINTS_PER_S",
    "_batches",
    "composite_headline",
    "main",
    "run_pipeline_bench",
    "store_cost_events",
    "synthetic_cost_events",
]

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

    pipeline: dict[str, dict] | None = None
    pipeline_error = None
    pipeline_runs = max(1, min(a.repeat, 2))
    if not a.no_pipeline:
        try:
            pipeline = run_pipeline_bench(a.events, pipeline_runs, out=None if a.json else sys.stderr)
        except Exception as exc:  # noqa: BLE001 - e.g. no PostgreSQL binaries: report, do not crash
            pipeline_error = f"{type(exc).__name__}: {exc}"
    if a.json:
        out = {
            "composite_events_per_s": round(head["composite_median"]),
            "welford_events_per_s": round(head["welford_median"]),
            "composite_to_welford": round(head["ratio_median"], 4),
            "core_points_per_s": round(statistics.median(core_runs)),
        }
        if not a.no_pipeline:
            out["pipeline_events_per_s"] = round(pipeline["group"]["events_per_s"]) if pipeline else None
        print(json.dumps(out))
        return 0
    print(f"dd0c-cost bench score: one thread; {_load()}")
    _print_headline(head, a.repeat)
    _print_usage_detector(core_runs, base_runs, a.points)
    if a.no_pipeline:
        return 0
    if pipeline is None:
        print(f"scoring pipeline: not measured ({pipeline_error})")
        return 1
    print_pipeline(pipeline, pipeline_runs)
    return 0


def _print_headline(head: dict, repeat: int) -> None:
    print(
        f"\nHEADLINE: the composite event engine (what alerts on cost events: sanitize + step, state in memory), "
        f"{head['events']:,} synthetic EC2 cost events, {repeat} runs interleaved with the baseline"
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


def _print_usage_detector(core_runs: list[float], base_runs: list[float], points: int) -> None:
    core_pps, base_pps = statistics.median(core_runs), statistics.median(base_runs)
    print(f"\nusage path: its streaming detector (usage.detect.new_detector), {points} points, {len(core_runs)} runs")
    print(f"{'':34s} {'points/s median':>16s} {'best':>10s}  {'us/point':>8s}")
    print(f"{'StreamingDetector.update':34s} {core_pps:16,.0f} {max(core_runs):10,.0f}  {1e6 / core_pps:8.2f}")
    print(f"{'baseline: expanding Welford z':34s} {base_pps:16,.0f} {max(base_runs):10,.0f}  {1e6 / base_pps:8.2f}")
    print(
        f"ratio detector/baseline (medians): {core_pps / base_pps:.3f} "
        f"(the detector costs {base_pps / core_pps:.1f}x the baseline per point)"
    )
    verdict = "meets" if core_pps >= TARGET_POINTS_PER_S else "MISSES"
    print(f"target >= {TARGET_POINTS_PER_S:,} points/s: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
