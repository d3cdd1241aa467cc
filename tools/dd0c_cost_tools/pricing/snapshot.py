"""The price snapshot's format, derivations and provenance: the one writer that both
``scripts/build_price_snapshot.py`` (from the licensed CSV data set) and ``dd0c-cost pricing
refresh`` (from the AWS Price List API) call, so the two cannot drift apart.

Format. Each table is one JSON object: the small header keys first (sorted, compact), then each
big mapping (``prices``, ``items``, ``markup_over_ec2``) with one region per line, so the files stay
valid JSON and diff per region in git. Output is deterministic: sorted keys, no timestamps, ASCII,
no NaN, ``\\n`` line ends. ``provenance.json`` is indented JSON with sorted keys.

Derivations. Region ratios are the median of (region price / us-east-1 price) over the keys listed
in both (at least ``MIN_COMMON_TYPES_FOR_RATIO``); RDS markups are the median RDS/EC2 price ratio
per (region, engine, family letter, Graviton|x86) with coarser fallbacks. Rounding comes from
``dd0c_cost.pricing.derive`` (the price book rounds its own estimates the same way).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from dd0c_cost.pricing.derive import ratio4, sig6

SCHEMA = 1
HOURS_PER_MONTH = 730
BASE_REGION = "us-east-1"
LICENSE_FILE = "LICENSE-Apache-2.0.txt"
MIN_COMMON_TYPES_FOR_RATIO = 20
# An AWS region code (commercial or GovCloud); Local Zones (us-east-1-bos-1) do not match.
REGION_RE = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d+$")
# EC2 families on Graviton (m6g, c7gn, r8g, ...): their RDS markup is kept apart from x86's.
GRAVITON_FAMILY_RE = re.compile(r"^[a-z]+\d+g")

__all__ = [
    "BASE_REGION",
    "GRAVITON_FAMILY_RE",
    "HOURS_PER_MONTH",
    "LICENSE_FILE",
    "MIN_COMMON_TYPES_FOR_RATIO",
    "REGION_RE",
    "SCHEMA",
    "dumps",
    "median_ratio",
    "provenance_text",
    "ratio4",
    "rds_markups",
    "sig6",
    "table_ratios",
    "table_text",
    "write_table",
]


def dumps(obj: Any) -> str:
    """Compact, sorted, ASCII JSON with no NaN: one value of a table."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def table_text(header: dict, big: dict[str, dict]) -> str:
    """A table's text: header keys first, then each big mapping one region per line."""
    items = [f"{json.dumps(k)}:{dumps(header[k])}" for k in sorted(header)]
    for key in sorted(big):
        inner = big[key]
        sub = ",\n".join(f"{json.dumps(k)}:{dumps(inner[k])}" for k in sorted(inner))
        items.append(f"{json.dumps(key)}:{{\n{sub}\n}}")
    text = "{\n" + ",\n".join(items) + "\n}\n"
    json.loads(text)  # must stay valid JSON
    return text


def write_table(path: Path, header: dict, big: dict[str, dict]) -> None:
    path.write_text(table_text(header, big), encoding="utf-8", newline="\n")


def provenance_text(provenance: dict) -> str:
    return json.dumps(provenance, sort_keys=True, indent=1) + "\n"


def median_ratio(prices: dict, base: dict, min_common: int = MIN_COMMON_TYPES_FOR_RATIO) -> tuple[float, int] | None:
    """(median of prices[k] / base[k] over the keys in both, how many), or None under ``min_common``."""
    rs = sorted(prices[k] / base[k] for k in prices if k in base and base[k] > 0)
    if not rs or len(rs) < min_common:
        return None
    return ratio4(statistics.median(rs)), len(rs)


def _flat(d: dict, prefix: tuple = ()) -> dict:
    out: dict = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, (*prefix, k)))
        else:
            out[(*prefix, k)] = v
    return out


def table_ratios(prices: dict[str, dict], min_common: int = MIN_COMMON_TYPES_FOR_RATIO) -> dict[str, float]:
    """Each region's median price ratio vs us-east-1 over the (flattened) keys both list."""
    if BASE_REGION not in prices:
        return {}
    base = _flat(prices[BASE_REGION])
    out = {}
    for region in sorted(prices):
        res = median_ratio(_flat(prices[region]), base, min_common)
        if res:
            out[region] = res[0]
    return out


def rds_markups(rds: dict[str, dict[str, dict[str, float]]], ec2: dict[str, dict[str, float]]) -> dict:
    """Median RDS/EC2 price ratio of the same instance size per region and key
    ``engine|family letter|graviton or x86``, with the coarser keys ``engine|*|arch``,
    ``engine|letter|*`` and ``engine|*|*``: how the price book estimates classes the RDS table lacks."""
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for region, engines in rds.items():
        twins = ec2.get(region, {})
        for engine, classes in engines.items():
            for cls, price in classes.items():
                twin = cls[3:] if cls.startswith("db.") else ""
                if twin not in twins:
                    continue
                fam = twin.split(".", 1)[0]
                letter, arch = fam[0], ("graviton" if GRAVITON_FAMILY_RE.match(fam) else "x86")
                m = price / twins[twin]
                for key in (f"{engine}|{letter}|{arch}", f"{engine}|*|{arch}", f"{engine}|{letter}|*", f"{engine}|*|*"):
                    samples[region][key].append(m)
    return {
        region: {k: ratio4(statistics.median(sorted(v))) for k, v in sorted(keys.items())}
        for region, keys in sorted(samples.items())
    }
