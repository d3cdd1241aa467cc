"""The price snapshot's format, derivations and provenance: the one writer that both
``scripts/build_price_snapshot.py`` (``pricing.dataset``, from the licensed CSV data set) and
``dd0c-cost pricing refresh`` (``pricing.refresh``, from the AWS Price List API) call, so the two
cannot drift apart.

Format. Each table is one JSON object: the small header keys first (sorted, compact), then each
big mapping (``prices``, ``items``, ``markup_over_ec2``) with one region per line, so the files stay
valid JSON and diff per region in git. Output is deterministic: sorted keys, no timestamps, ASCII,
no NaN, ``\\n`` line ends. ``provenance.json`` is indented JSON with sorted keys.

Derivations. Region ratios are the median of (region price / us-east-1 price) over the keys listed
in both (at least ``MIN_COMMON_TYPES_FOR_RATIO``), and a region without EC2's takes ElastiCache's,
else OpenSearch's; a Local Zone's ratio is against its parent region; a scalar rate a region does
not list is derived by its policy (``derived_rates``); RDS markups are the median RDS/EC2 price ratio
per (region, engine, family letter, Graviton|x86) with coarser fallbacks. Rounding comes from
``dd0c_cost.pricing.derive`` (the price book rounds its own estimates the same way).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dd0c_cost.pricing as _runtime_pricing
from dd0c_cost.pricing.derive import ratio4, sig6

# The runtime package's snapshot: what the price book reads in the shared layer.
DEFAULT_DATA_DIR = Path(_runtime_pricing.__file__).resolve().parent / "data"
SCHEMA = 1
HOURS_PER_MONTH = 730
BASE_REGION = "us-east-1"
LICENSE_FILE = "LICENSE-Apache-2.0.txt"
MIN_COMMON_TYPES_FOR_RATIO = 20
# An AWS region code (commercial or GovCloud); Local Zones (us-east-1-bos-1) do not match.
REGION_RE = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d+$")
# EC2 families on Graviton (m6g, c7gn, r8g, ...): their RDS markup is kept apart from x86's.
GRAVITON_FAMILY_RE = re.compile(r"^[a-z]+\d+g")
# Region-code prefix -> geography, for the "geo" rate policy.
GEO_GROUPS = {
    "us": "north-america",
    "ca": "north-america",
    "mx": "north-america",
    "sa": "south-america",
    "eu": "europe",
    "ap": "asia-pacific",
    "me": "middle-east",
    "il": "middle-east",
    "af": "africa",
}

__all__ = [
    "BASE_REGION",
    "DEFAULT_DATA_DIR",
    "GEO_GROUPS",
    "GRAVITON_FAMILY_RE",
    "HOURS_PER_MONTH",
    "LICENSE_FILE",
    "MIN_COMMON_TYPES_FOR_RATIO",
    "REGION_RE",
    "SCHEMA",
    "derived_rates",
    "dumps",
    "geo_of",
    "median_ratio",
    "median_ratios",
    "parent_ratios",
    "provenance_text",
    "ratio4",
    "rds_markups",
    "region_ratios",
    "regions_document",
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


def median_ratios(
    prices: dict[str, dict], min_common: int = MIN_COMMON_TYPES_FOR_RATIO
) -> dict[str, tuple[float, int]]:
    """Each region's ``median_ratio`` against us-east-1 (none without us-east-1)."""
    if BASE_REGION not in prices:
        return {}
    out = {}
    for region in sorted(prices):
        res = median_ratio(prices[region], prices[BASE_REGION], min_common)
        if res:
            out[region] = res
    return out


def region_ratios(
    regions: set[str], ec2: dict[str, tuple[float, int]], elasticache: dict[str, float], opensearch: dict[str, float]
) -> dict[str, dict]:
    """Each region's price ratio for what regions.json derives: EC2's, else ElastiCache's, else
    OpenSearch's; a region with none is left out."""
    out: dict[str, dict] = {}
    for region in sorted(regions):
        if region in ec2:
            out[region] = {"ratio": ec2[region][0], "method": "ec2", "n": ec2[region][1]}
        elif region in elasticache:
            out[region] = {"ratio": elasticache[region], "method": "elasticache"}
        elif region in opensearch:
            out[region] = {"ratio": opensearch[region], "method": "opensearch"}
    return out


def regions_document(ratios: dict[str, dict], ratio_note: str, **extra: Any) -> dict:
    """regions.json: the known regions and their price ratios."""
    return {
        "schema": SCHEMA,
        "base_region": BASE_REGION,
        "known_regions": sorted(ratios),
        "ratio": {k: v["ratio"] for k, v in ratios.items()},
        "ratio_method": {k: v["method"] for k, v in ratios.items()},
        "ratio_note": ratio_note,
        **extra,
    }


def parent_ratios(
    prices: dict[str, dict[str, float]],
    parent: dict[str, str],
    ec2: dict[str, dict[str, float]],
    skip: dict[str, dict[str, str]] | None = None,
) -> dict[str, float]:
    """Each Local Zone's median price ratio against its parent region over the types both list
    (``skip``: per location, types whose price is not the listed one). Few types per location, so
    no minimum count."""
    out = {}
    for loc in sorted(prices):
        par, skipped = ec2.get(parent[loc], {}), (skip or {}).get(loc, {})
        rs = sorted(p / par[t] for t, p in prices[loc].items() if par.get(t) and t not in skipped)
        if rs:
            out[loc] = ratio4(statistics.median(rs))
    return out


def geo_of(region: str) -> str:
    if region.startswith("us-gov-"):
        return "govcloud"
    return GEO_GROUPS.get(region.split("-", 1)[0], region)


def derived_rates(
    listed: dict[str, float], base_region: str, policy: str, ratios: dict[str, dict], regions: Iterable[str]
) -> tuple[dict[str, float], dict[str, str]]:
    """A scalar rate in each region that does not list it, by the item's policy: "flat", the base
    region's rate; "geo", the median of the listed rates of the same geography (else scaled);
    "scaled", the base rate x ratio(region) / ratio(base region), 6 significant digits. Also the
    regions whose policy fell back to "scaled"."""
    derived: dict[str, float] = {}
    fell_back: dict[str, str] = {}
    for region in regions:
        if region in listed:
            continue
        peers = []
        if policy == "geo":
            peers = sorted(v for reg, v in listed.items() if REGION_RE.match(reg) and geo_of(reg) == geo_of(region))
        if policy == "flat":
            derived[region] = listed[base_region]
        elif peers:
            derived[region] = sig6(statistics.median(peers))
        elif region in ratios and base_region in ratios:
            derived[region] = sig6(listed[base_region] * ratios[region]["ratio"] / ratios[base_region]["ratio"])
            if policy != "scaled":
                fell_back[region] = "scaled"
    return derived, fell_back


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
    flat = {region: _flat(keys) for region, keys in prices.items()}
    return {region: ratio for region, (ratio, _) in median_ratios(flat, min_common).items()}


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
