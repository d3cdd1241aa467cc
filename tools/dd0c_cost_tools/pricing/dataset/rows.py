"""Reading the data set's CSV files: every price row checked before anything is derived from it
(missing, non-numeric, negative, zero or absurd prices stop the build, each bad row named)."""

from __future__ import annotations

import csv
import hashlib
import math
import statistics
from collections import defaultdict
from pathlib import Path


class BuildError(Exception):
    pass


def check_rows(name: str, rows: list[dict[str, str]]) -> None:
    """Reject missing, non-numeric, negative, zero or absurd (>= 1000 x the family median) prices,
    naming each bad row (file, line, key); the build stops rather than ship them."""
    spec = PRICE_COLUMNS.get(name)
    if spec is None:
        return
    column, family = spec
    bad: list[str] = []
    values: dict[str, list[float]] = defaultdict(list)
    parsed: list[tuple[int, dict[str, str], float]] = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        raw = (row.get(column) or "").strip()
        try:
            usd = float(raw)
        except ValueError:
            bad.append(f"{name}:{line} {_row_key(row)}: {column} {raw!r} is missing or not a number")
            continue
        if not math.isfinite(usd) or usd <= 0:  # NaN, inf, negative, zero
            bad.append(f"{name}:{line} {_row_key(row)}: {column} {raw!r} is not a positive price")
            continue
        parsed.append((line, row, usd))
        values[family(row)].append(usd)
    medians = {fam: statistics.median(v) for fam, v in values.items()}
    for line, row, usd in parsed:
        med = medians[family(row)]
        if usd >= ABSURD_FACTOR * med:
            bad.append(
                f"{name}:{line} {_row_key(row)}: {column} {usd:g} is >= {ABSURD_FACTOR:g} x its family median {med:g}"
            )
    if bad:
        raise BuildError(f"{len(bad)} bad price row(s): " + "; ".join(bad[:20]) + (" ..." if len(bad) > 20 else ""))


def _row_key(row: dict[str, str]) -> str:
    keys = ("service", "item", "region", "location", "instance_type", "instance_class", "node_type", "engine")
    return "/".join(row[k] for k in keys if row.get(k))


# Price column and "family" of each input file, for the bad-row check (check_rows).
PRICE_COLUMNS: dict[str, tuple[str, object]] = {
    "ec2_ondemand_linux.csv": ("usd_per_hour", lambda r: r["instance_type"].split(".", 1)[0]),
    "ec2_ondemand_linux_local_zones.csv": ("usd_per_hour", lambda r: r["instance_type"].split(".", 1)[0]),
    "ec2_ondemand_linux_cn_CNY.csv": ("usd_per_hour", lambda r: r["instance_type"].split(".", 1)[0]),
    "elasticache_ondemand.csv": ("usd_per_hour", lambda r: r["node_type"].split(".")[1]),
    "opensearch_ondemand.csv": ("usd_per_hour", lambda r: r["instance_type"].split(".", 1)[0]),
    "rds_ondemand_single_az_2021.csv": ("usd_per_hour", lambda r: r["instance_class"].split(".")[1]),
    "service_rates.csv": ("usd", lambda r: f"{r['service']}/{r['item']}"),
    "service_rates_more.csv": ("usd", lambda r: f"{r['service']}/{r['item'].split('.', 1)[0]}"),
}
# A row priced this many times its family's median is a typo or a unit error, never a price.
ABSURD_FACTOR = 1000.0


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise BuildError(f"missing input file {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    check_rows(path.name, rows)
    return rows


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one(values: set[str], what: str) -> str:
    if len(values) != 1:
        raise BuildError(f"expected one {what}, got {sorted(values)}")
    return next(iter(values))


def family_of(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]
