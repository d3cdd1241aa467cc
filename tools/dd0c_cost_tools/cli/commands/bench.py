"""``bench nab|score|normalize|detect|notify|dashboard|console|zombies``: the benchmarks (each takes its
own options: ``--help`` after the benchmark's name lists them)."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "nab": ("dd0c_cost_tools.bench.nab", "the streaming detector on NAB realAWSCloudwatch (score and speed)"),
    "score": ("dd0c_cost_tools.bench.score_core", "the scoring core and the score function on PostgreSQL"),
    "score-counts": (
        "dd0c_cost_tools.bench.score_counts",
        "the score function's backend instructions and WAL per event, and a digest of what it stored (valgrind)",
    ),
    "normalize": ("dd0c_cost_tools.bench.normalize", "the normaliser on the CloudTrail corpus vs JSON parsing"),
    "detect": (
        "dd0c_cost_tools.bench.detect",
        "recall, precision and delay on a labelled CloudTrail stream vs a daily-billing baseline",
    ),
    "notify": (
        "dd0c_cost_tools.bench.notify_latency",
        "cost event in the notify queue to the Slack call, p50/p99, with and without the LLM",
    ),
    "dashboard": ("dd0c_cost_tools.bench.dashboard", "the dashboard API on 1 M anomalies / 100 tenants"),
    "console": ("dd0c_cost_tools.bench.console", "the web console's first load in Chromium"),
    "imports": ("dd0c_cost_tools.bench.imports", "each handler's cold import in fresh interpreters (layers only)"),
    "api": ("dd0c_cost_tools.bench.api", "the local API server: p50/p99 at 1 and 32 clients, server CPU"),
    "backfill": ("dd0c_cost_tools.bench.backfill", "the bulk replay path on a generated stream (records/s, RSS)"),
    "zombies": (
        "dd0c_cost_tools.bench.zombies",
        "the zombie hunter on 1,000 moto resources (GetMetricData calls, scan time)",
    ),
}


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmarks: nab, score, normalize, detect, notify, dashboard, console, zombies, imports, api, "
        "backfill (each prints figures; --json for machines)",
    )
    names = p.add_subparsers(dest="bench_name", metavar="BENCHMARK", required=True)
    for name, (_target, purpose) in BENCHMARKS.items():
        s = names.add_parser(name, help=purpose, add_help=False, prefix_chars="\0")
        s.add_argument(
            "rest", nargs=argparse.REMAINDER, help=f"options of the benchmark (dd0c-cost bench {name} --help)"
        )
        s.set_defaults(func=cmd_bench)


def benchmark_main(name: str):
    target, _purpose = BENCHMARKS[name]
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function or "main")


def cmd_bench(args) -> int:
    run = benchmark_main(args.bench_name)
    if {"-h", "--help"} & set(args.rest):
        return run(args.rest)
    from dd0c_cost_tools.bench.machine import host_line

    # on stderr under --json, so machine-read stdout stays one JSON document
    out = sys.stderr if "--json" in args.rest else sys.stdout
    print(host_line("before"), file=out, flush=True)
    code = run(args.rest)
    print(host_line("after"), file=out, flush=True)
    return code
