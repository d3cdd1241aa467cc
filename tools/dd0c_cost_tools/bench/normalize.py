"""Speed of the normaliser (``dd0c-cost bench normalize``).

Runs every record of the CloudTrail corpus (the seven source files of
``shared/corpora/cloudtrail``, 4,266 records, one JSON line each) through the pure normaliser
on one core (one thread): parse the line (``parse_ingest_body``: orjson), validate it as
CloudTrail, look it up in the event catalogue, read ids/quantity/attributes, price it and build
the (validated) CostEvent. **No database**: no tenant lookup, no inherited sizing, nothing
stored or sent, so the figure is the CPU cost of normalising, not the Lambda's throughput.

In the same run it times merely parsing the same lines with ``orjson.loads`` (the fastest JSON
parser we use) and reports both rates and their ratio; the target is a ratio of at least 0.4.
Each figure is the best of ``--repeat`` runs (filters out noise from other work on the machine).

``--json`` prints exactly ``{"records_per_s": ..., "parse_only_per_s": ..., "ratio": ...}``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import orjson

from dd0c_cost.events.normalize import normalize_record
from dd0c_cost.pricing import get_price_book

TARGET_RATIO = 0.4
SOURCE_FILES = (
    "invictus_aws_dataset.jsonl",
    "panther_analysis.jsonl",
    "stratus_red_team.jsonl",
    "otrf_security_datasets.jsonl",
    "awsdocs.jsonl",
    "cloud_custodian.jsonl",
    "streamalert.jsonl",
)
_TENANT = uuid.UUID("00000000-0000-4000-8000-00000000be4c")


def default_corpus() -> Path:
    env = os.environ.get("DD0C_CLOUDTRAIL_CORPUS")
    if env:
        return Path(env)
    from dd0c_cost_tools import REPO_ROOT

    return REPO_ROOT.parent / "shared" / "corpora" / "cloudtrail"


def load_lines(corpus: Path) -> list[bytes]:
    lines: list[bytes] = []
    for name in SOURCE_FILES:
        path = corpus / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing (pass --corpus or set DD0C_CLOUDTRAIL_CORPUS)")
        lines.extend(line for line in path.read_bytes().splitlines() if line.strip())
    return lines


def time_parse_only(lines: list[bytes]) -> float:
    loads = orjson.loads
    gc.collect()
    t0 = time.perf_counter()
    for line in lines:
        loads(line)
    return time.perf_counter() - t0


def time_normalize(lines: list[bytes], book) -> float:
    tenant = _TENANT
    loads = orjson.loads
    gc.collect()
    t0 = time.perf_counter()
    for line in lines:
        normalize_record(loads(line), tenant, book)
    return time.perf_counter() - t0


def outcome_counts(lines: list[bytes], book) -> Counter:
    """The outcome of every record (untimed; also warms the price book up)."""
    return Counter(normalize_record(orjson.loads(line), _TENANT, book).kind for line in lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="dd0c-cost bench normalize",
        description="Records/s of the normaliser (no database) vs orjson parsing alone.",
    )
    ap.add_argument(
        "--corpus", type=Path, default=None, help="CloudTrail corpus directory (default: ../shared/corpora/cloudtrail)"
    )
    ap.add_argument("--repeat", type=int, default=7, help="runs; the best is reported (default 7)")
    ap.add_argument("--json", action="store_true", help='print only {"records_per_s", "parse_only_per_s", "ratio"}')
    a = ap.parse_args(argv)
    if a.repeat < 1:
        ap.error("--repeat must be >= 1")
    try:
        lines = load_lines(a.corpus or default_corpus())
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    book = get_price_book()
    counts = outcome_counts(lines, book)  # warm-up: loads the price tables, fills the memo
    time_parse_only(lines)
    norm_s, parse_s = float("inf"), float("inf")
    for _ in range(a.repeat):  # interleaved, so both see the same machine load
        norm_s = min(norm_s, time_normalize(lines, book))
        parse_s = min(parse_s, time_parse_only(lines))
    n = len(lines)
    records_per_s, parse_per_s = n / norm_s, n / parse_s
    ratio = records_per_s / parse_per_s
    if a.json:
        print(
            json.dumps(
                {
                    "records_per_s": round(records_per_s),
                    "parse_only_per_s": round(parse_per_s),
                    "ratio": round(ratio, 3),
                }
            )
        )
        return 0
    print(f"normaliser speed: {n:,} CloudTrail records, best of {a.repeat}, one thread, no database")
    print("  (parse + validate + catalogue + price + build CostEvent; no tenant lookup, no inherited sizing, no I/O)")
    print(f"{'':34s} {'records/s':>12s}  {'us/record':>9s}")
    print(f"{'normaliser (normalize_record)':34s} {records_per_s:12,.0f}  {1e6 / records_per_s:9.2f}")
    print(f"{'orjson.loads only':34s} {parse_per_s:12,.0f}  {1e6 / parse_per_s:9.2f}")
    print("outcomes: " + ", ".join(f"{k.value} {v:,}" for k, v in sorted(counts.items())))
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"ratio normaliser/parse-only: {ratio:.3f} (target >= {TARGET_RATIO}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
