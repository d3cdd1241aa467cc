"""``bench``: the benchmarks (each parses its own options)."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "nab": "dd0c_cost_tools.bench.nab",
    "score": "dd0c_cost_tools.bench.score_core",
    "normalize": "dd0c_cost_tools.bench.normalize",
    "dashboard": "dd0c_cost_tools.bench.dashboard",
    "console": "dd0c_cost_tools.bench.dashboard:main_console",
    "imports": "dd0c_cost_tools.bench.imports",
    "api": "dd0c_cost_tools.bench.api",
    "backfill": "dd0c_cost_tools.bench.backfill",
}


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmarks: nab, score, normalize, dashboard, console, imports, api, backfill (--json for machine output)",
        add_help=False,
    )
    p.add_argument("name", choices=sorted(BENCHMARKS))
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    module, _, function = BENCHMARKS[args.name].partition(":")
    return getattr(importlib.import_module(module), function or "main")(args.rest)
