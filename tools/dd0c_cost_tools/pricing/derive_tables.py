"""From the collected Price List rows to the snapshot's tables: EC2 (and its region ratios),
Local Zones, RDS (and its markups), the other instance tables, regions and the scalar rates,
each with its provenance, derived exactly as ``scripts/build_price_snapshot.py`` derives them."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from dd0c_cost_tools.pricing.carry_over import BaseSnapshot, notice_text
from dd0c_cost_tools.pricing.price_list import (
    ALL_SERVICES,
    EKS_SURCHARGE,
    LOCAL_ZONE_RE,
    PRICING_ENDPOINT_REGION,
    RATE_ALIASES,
    RDS_ENGINE_ALIASES,
    RDS_ENGINE_CODES,
    SOURCE,
    TABLE_FILES,
    RefreshError,
    rate_spec,
)
from dd0c_cost_tools.pricing.price_queries import EC2_FILTERS, LOCAL_ZONE_TYPES, RATE_QUERIES, Collector, PriceListApi
from dd0c_cost_tools.pricing.refresh_report import RefreshReport
from dd0c_cost_tools.pricing.snapshot import (
    BASE_REGION,
    HOURS_PER_MONTH,
    LICENSE_FILE,
    REGION_RE,
    SCHEMA,
    median_ratio,
    provenance_text,
    ratio4,
    rds_markups,
    sig6,
    table_ratios,
    table_text,
)

# --------------------------------------------------------------------------- derived tables


def _f(x: Decimal) -> float:
    return float(x)


def _max_date(dates: Iterable[str], fallback: str) -> str:
    return max((d for d in dates if d), default=fallback)


def _regional(c: Collector, depth: int) -> dict:
    """Collector keyed (region, k1[, k2]) -> nested {region: {k1: {k2: usd}}} of floats."""
    out: dict = {}
    for key in sorted(c.values):
        node = out
        for part in key[:depth]:
            node = node.setdefault(part, {})
        node[key[depth]] = _f(c.values[key])
    return out


# --------------------------------------------------------------------------- refresh


@dataclass
class Plan:
    """What one refresh run does: which services and regions, from which API, when."""

    api: PriceListApi
    out_dir: Path
    services: tuple[str, ...]
    regions: list[str]
    run_date: str
    dry_run: bool
    min_common_types: int


@dataclass
class Derivation:
    """The tables being derived, with their provenance and the report, while ``refresh`` runs."""

    plan: Plan
    base: BaseSnapshot
    report: RefreshReport
    tables: dict[str, dict] = field(default_factory=dict)  # name -> {"header": ..., "big": ...}
    prov_tables: dict[str, dict] = field(default_factory=dict)
    as_ofs: list[str] = field(default_factory=list)

    def refreshed(self, table: str, c: Collector, n_regions: int, query_desc: str, decisions: dict) -> str:
        """Record a refreshed table's provenance and counts; its ``as_of`` (newest publication)."""
        run_date = self.plan.run_date
        as_of = _max_date(c.published.values(), run_date)
        if c.values:  # an empty table (no Wavelength rows, say) says nothing about the data's date
            self.as_ofs.append(as_of)
        by_region: dict[str, str] = {}
        for key, d in c.published.items():
            by_region[key[0]] = max(by_region.get(key[0], ""), d or run_date)
        self.report.rows[table] = len(c.values)
        self.report.locations[table] = n_regions
        self.report.conflicts += len(c.conflicts)
        self.prov_tables[table] = {
            "file": TABLE_FILES[table],
            "source": SOURCE,
            "sources": {
                SOURCE: f"AWS Price List Query API (pricing:GetProducts, {PRICING_ENDPOINT_REGION} endpoint): {query_desc}"
            },
            "as_of": as_of,
            "as_of_by_region": dict(sorted(by_region.items())),
            "rows": len(c.values),
            "regions": n_regions,
            "conflicts": sorted(c.conflicts),
            "decisions": decisions,
        }
        return as_of

    def refreshing(self, table: str) -> bool:
        return table in self.plan.services


def _basis(as_of: str) -> dict:
    return {SOURCE: {"source": SOURCE, "as_of": as_of, "estimated": False}}


def _require_base_region(table: str, prices: dict) -> None:
    if BASE_REGION not in prices:
        raise RefreshError(
            f"{table}: no usable {BASE_REGION} rows came back; refusing to write a snapshot the price book "
            "cannot use (check the filters / the API answer)"
        )


def derive_ec2(d: Derivation, collected: dict[str, Collector]) -> tuple[dict, dict[str, tuple[float, int]]]:
    """The EC2 table and each region's (ratio, types compared) against us-east-1."""
    if d.refreshing("ec2"):
        c = collected["ec2"]
        ec2_prices = _regional(c, 1)
        _require_base_region("ec2", ec2_prices)
        as_of = d.refreshed(
            "ec2",
            c,
            len(ec2_prices),
            "AmazonEC2, regionCode=<region>, " + ", ".join(f"{k}={v}" for k, v in EC2_FILTERS),
            {
                "rows": "BoxUsage rows with operation RunInstances, licence 'No License required', marketoption OnDemand",
                "duplicates": "lower price kept; listed under conflicts",
            },
        )
        ec2_header = {
            "schema": SCHEMA,
            "table": "ec2",
            "unit": "hour",
            "bases": _basis(as_of),
            "region_basis": dict.fromkeys(sorted(ec2_prices), SOURCE),
            "basis_overrides": {},
        }
    else:
        ec2_header, ec2_prices = d.base.table("ec2", d.report)
    ec2_ratio = {}
    if BASE_REGION in ec2_prices:
        for region in sorted(ec2_prices):
            res = median_ratio(ec2_prices[region], ec2_prices[BASE_REGION], d.plan.min_common_types)
            if res:
                ec2_ratio[region] = res
    if d.refreshing("ec2"):
        ec2_header["region_ratio"] = {k: v[0] for k, v in ec2_ratio.items()}
    d.tables["ec2"] = {"header": ec2_header, "big": {"prices": ec2_prices}}
    return ec2_prices, ec2_ratio


def derive_local_zones(d: Derivation, collected: dict[str, Collector], ec2_prices: dict) -> None:
    if not d.refreshing("ec2_local_zones"):
        lz_header, lz_prices = d.base.table("ec2_local_zones", d.report)
        d.tables["ec2_local_zones"] = {"header": lz_header, "big": {"prices": lz_prices}}
        return
    c = collected["ec2_local_zones"]
    lz_prices = _regional(c, 1)
    parent = {loc: LOCAL_ZONE_RE.match(loc).group(1) for loc in lz_prices}  # type: ignore[union-attr]
    lz_ratio = {}
    for loc in sorted(lz_prices):
        par = ec2_prices.get(parent[loc], {})
        rs = sorted(p / par[t] for t, p in lz_prices[loc].items() if par.get(t))
        if rs:
            lz_ratio[loc] = ratio4(statistics.median(rs))
    as_of = d.refreshed(
        "ec2_local_zones",
        c,
        len(lz_prices),
        "AmazonEC2, locationType=" + "|".join(LOCAL_ZONE_TYPES) + ", " + ", ".join(f"{k}={v}" for k, v in EC2_FILTERS),
        {"parent_ratio": "median of location price / parent-region price over common types"},
    )
    lz_header = {
        "schema": SCHEMA,
        "table": "ec2_local_zones",
        "unit": "hour",
        "bases": _basis(as_of),
        "default_basis": SOURCE,
        "parent_region": dict(sorted(parent.items())),
        "parent_ratio": lz_ratio,
        "basis_overrides": {},
    }
    d.tables["ec2_local_zones"] = {"header": lz_header, "big": {"prices": lz_prices}}


def derive_rds(d: Derivation, collected: dict[str, Collector], ec2_prices: dict) -> None:
    if not d.refreshing("rds"):
        rds_header, rds_prices = d.base.table("rds", d.report)
        markup = rds_header.pop("markup_over_ec2", {})
        d.tables["rds"] = {"header": rds_header, "big": {"prices": rds_prices, "markup_over_ec2": markup}}
        return
    c = collected["rds"]
    rds_prices = _regional(c, 2)
    _require_base_region("rds", rds_prices)
    as_of = d.refreshed(
        "rds",
        c,
        len(rds_prices),
        "AmazonRDS, regionCode=<region>, productFamily=Database Instance, deploymentOption=Single-AZ",
        {
            "engines": dict(sorted(RDS_ENGINE_CODES.items(), key=lambda kv: kv[1])),
            "rows": "usagetype InstanceUsage:db.* (no I/O-Optimized), no deploymentModel, no BYOL",
            "multi_az": "not stored: the price book keeps Multi-AZ = 2 x Single-AZ (estimated)",
        },
    )
    rds_header = {
        "schema": SCHEMA,
        "table": "rds",
        "unit": "hour",
        "deployment": "single-az",
        "bases": _basis(as_of),
        "default_basis": SOURCE,
        "region_ratio": table_ratios(rds_prices, d.plan.min_common_types),
        "engine_aliases": dict(RDS_ENGINE_ALIASES),
    }
    d.tables["rds"] = {
        "header": rds_header,
        "big": {"prices": rds_prices, "markup_over_ec2": rds_markups(rds_prices, ec2_prices)},
    }


_INSTANCE_TABLES = (
    (
        "elasticache",
        2,
        "AmazonElastiCache, regionCode=<region>, productFamily=Cache Instance; usagetype NodeUsage:cache.*",
        {},
    ),
    (
        "opensearch",
        1,
        "AmazonES, regionCode=<region>, productFamily=Amazon OpenSearch Service Instance; usagetype *ESInstance*",
        {"key_note": "instance types are stored without the '.search' suffix"},
    ),
)


def derive_instance_tables(d: Derivation, collected: dict[str, Collector]) -> None:
    """ElastiCache and OpenSearch: instance prices per region with their region ratios."""
    for name, depth, desc, extra in _INSTANCE_TABLES:
        if d.refreshing(name):
            c = collected[name]
            prices = _regional(c, depth)
            _require_base_region(name, prices)
            as_of = d.refreshed(name, c, len(prices), desc, {})
            header = {
                "schema": SCHEMA,
                "table": name,
                "unit": "hour",
                "bases": _basis(as_of),
                "default_basis": SOURCE,
                "region_ratio": table_ratios(prices, d.plan.min_common_types),
                **extra,
            }
        else:
            header, prices = d.base.table(name, d.report)
        d.tables[name] = {"header": header, "big": {"prices": prices}}


def derive_regions(d: Derivation, ec2_ratio: dict[str, tuple[float, int]]) -> tuple[dict[str, dict], dict]:
    """Each region's price ratio (EC2's, else ElastiCache's, else OpenSearch's) and regions.json."""
    ec_ratio = d.tables["elasticache"]["header"].get("region_ratio", {})
    os_ratio = d.tables["opensearch"]["header"].get("region_ratio", {})
    seen_regions = {
        r
        for t in ("ec2", "rds", "elasticache", "opensearch")
        for r in d.tables[t]["big"]["prices"]
        if REGION_RE.match(r) and not r.startswith("cn-")
    }
    ratios: dict[str, dict] = {}
    for region in sorted(seen_regions):
        if region in ec2_ratio:
            ratios[region] = {"ratio": ec2_ratio[region][0], "method": "ec2", "n": ec2_ratio[region][1]}
        elif region in ec_ratio:
            ratios[region] = {"ratio": ec_ratio[region], "method": "elasticache"}
        elif region in os_ratio:
            ratios[region] = {"ratio": os_ratio[region], "method": "opensearch"}
    no_ratio = sorted(seen_regions - set(ratios))
    if no_ratio:
        d.report.warnings.append(
            f"no region ratio (fewer than {d.plan.min_common_types} EC2 types shared with {BASE_REGION}) for "
            f"{no_ratio}: listed prices work there, derived ones do not"
        )
    regions_doc = {
        "schema": SCHEMA,
        "base_region": BASE_REGION,
        "known_regions": sorted(ratios),
        "ratio": {k: v["ratio"] for k, v in ratios.items()},
        "ratio_method": {k: v["method"] for k, v in ratios.items()},
        "ratio_note": "median of (region price / us-east-1 price) over instance types listed in both (EC2); regions "
        "without enough EC2 rows use the ElastiCache node ratio, else OpenSearch",
    }
    return ratios, regions_doc


def derive_rates(d: Derivation, collected: dict[str, Collector], ratios: dict, known: list[str]) -> None:
    rate_items, rate_prov = _build_rates(
        collected.get("rates") if d.refreshing("rates") else None, d.base, ratios, known, d.plan.run_date, d.report
    )
    base_rates = d.base.raw("rates")
    aliases = dict(base_rates.get("aliases", RATE_ALIASES)) if base_rates else dict(RATE_ALIASES)
    rates_header = {"schema": SCHEMA, "table": "rates", "hours_per_month": HOURS_PER_MONTH, "aliases": aliases}
    d.tables["rates"] = {"header": rates_header, "big": {"items": rate_items}}
    if rate_prov:
        d.prov_tables["rates"] = rate_prov
        if rate_prov["as_of_max"]:
            d.as_ofs.append(rate_prov["as_of_max"])


def snapshot_files(d: Derivation, ratios: dict[str, dict], regions_doc: dict) -> dict[str, bytes]:
    """Every file of the snapshot, in the snapshot writer's format."""
    plan, report, base = d.plan, d.report, d.base
    files: dict[str, bytes] = {}
    for name in ALL_SERVICES:
        files[TABLE_FILES[name]] = table_text(d.tables[name]["header"], d.tables[name]["big"]).encode()
    files["regions.json"] = table_text(regions_doc, {}).encode()
    carried = list(report.carried_over)
    ec_ratio = d.tables["elasticache"]["header"].get("region_ratio", {})
    provenance = {
        "schema": SCHEMA,
        "builder": "dd0c_cost_tools.pricing.refresh (dd0c-cost pricing refresh)",
        "source": SOURCE,
        "source_api": f"AWS Price List Query API, pricing:GetProducts ({PRICING_ENDPOINT_REGION} endpoint), FormatVersion aws_v1",
        "as_of": report.as_of,
        "retrieved": plan.run_date,
        "requests": plan.api.requests,
        "refreshed_regions": plan.regions,
        "refreshed": list(plan.services),
        "carried_over_from_base": carried,
        "base_provenance": base.provenance_summary() if carried else None,
        "prices": "USD, on-demand, shared tenancy, Linux (EC2), list price; no Savings Plans/RI/free tier/tax",
        "skipped_rows": report.skipped,
        "row_rules": "terms.OnDemand only; lowest beginRange with a positive USD price; rows without USD, priced 0, "
        "another OS/tenancy/licence/capacity status, or an unexpected usage type/unit are skipped",
        "tables": {k: d.prov_tables[k] for k in ALL_SERVICES if k in d.prov_tables},
        "regions": {
            "file": "regions.json",
            "ratio_inputs": ratios,
            "ratio_crosscheck_elasticache": {k: ec_ratio.get(k) for k in regions_doc["known_regions"]},
        },
        "cross_checks": {},
    }
    files["provenance.json"] = provenance_text(provenance).encode()
    files["NOTICE"] = notice_text(report.as_of, plan.run_date, carried, base).encode()
    if carried and base.has(LICENSE_FILE):
        files[LICENSE_FILE] = base.bytes(LICENSE_FILE)
    return files


def _build_rates(
    c: Collector | None,
    base: BaseSnapshot,
    ratios: dict[str, dict],
    known: list[str],
    run_date: str,
    report: RefreshReport,
) -> tuple[dict[str, dict], dict]:
    base_items: dict[str, dict] = (base.raw("rates") or {}).get("items", {})
    items: dict[str, dict] = {}
    prov: dict = {}
    if c is not None:
        listed, published, units = _listed_rates(c, run_date)
        for item in sorted(listed):
            items[item] = _rate_item(item, listed[item], published[item], units[item], ratios, known, run_date)
        report.rate_items = len(items)
        report.rows["rates"] = sum(len(v["listed"]) for v in items.values())
        report.locations["rates"] = len({r for v in items.values() for r in v["listed"]})
        report.conflicts += len(c.conflicts)
        if not items:
            report.warnings.append("rates: no scalar rate came back from the API; all items carried over")
        prov = _rates_provenance(items, c)
    for name in sorted(base_items):
        if name not in items:
            items[name] = base_items[name]
            report.carried_over.append(name)
    return dict(sorted(items.items())), prov


def _listed_rates(
    c: Collector, run_date: str
) -> tuple[dict[str, dict[str, Decimal]], dict[str, set[str]], dict[str, set[str]]]:
    """Per rate item: the listed USD by region, the publication dates and the Price List units;
    EKS extended support = cluster hour + its surcharge, where both are listed."""
    listed: dict[str, dict[str, Decimal]] = defaultdict(dict)
    published: dict[str, set[str]] = defaultdict(set)
    units: dict[str, set[str]] = defaultdict(set)
    for (item, region), usd in c.values.items():
        listed[item][region] = usd
        published[item].add(c.published.get((item, region)) or run_date)
        units[item] |= c.units[(item, region)]
    surcharge = listed.pop(EKS_SURCHARGE, {})
    cluster = listed.get("eks/cluster_hour", {})
    ext = {r: cluster[r] + s for r, s in surcharge.items() if r in cluster}
    if ext:
        listed["eks/cluster_extended_support_hour"] = ext
        published["eks/cluster_extended_support_hour"] = published[EKS_SURCHARGE] | published["eks/cluster_hour"]
        units["eks/cluster_extended_support_hour"] = units[EKS_SURCHARGE]
    return listed, published, units


def _rate_item(
    item: str,
    listed: dict[str, Decimal],
    published: set[str],
    units: set[str],
    ratios: dict[str, dict],
    known: list[str],
    run_date: str,
) -> dict:
    """One rate item of rates.json: its listed regions, and the others derived by its policy."""
    spec = rate_spec(item)
    values = {r: _f(usd * spec.scale) for r, usd in sorted(listed.items())}
    base_region = BASE_REGION if BASE_REGION in values else min(values)
    derived: dict[str, float] = {}
    for region in known:
        if region in values:
            continue
        if spec.policy == "flat":
            derived[region] = values[base_region]
        elif region in ratios and base_region in ratios:
            derived[region] = sig6(values[base_region] * ratios[region]["ratio"] / ratios[base_region]["ratio"])
    service_code = item.split("/", 1)[0]
    return {
        "unit": spec.unit,
        "native_unit": "|".join(sorted(u for u in units if u)) or "?",
        "divide_by": spec.divide_by,
        "policy": spec.policy,
        "base_region": base_region,
        "as_of": _max_date(published, run_date),
        "source": f"AWS Price List Query API ({service_code})"
        + ("; = cluster hour + extended-support surcharge" if item == "eks/cluster_extended_support_hour" else "")
        + (f"; x {spec.scale} per Price List unit" if spec.scale != 1 else ""),
        "listed_source": SOURCE,
        "listed": values,
        "derived": derived,
    }


def _rates_provenance(items: dict[str, dict], c: Collector) -> dict:
    """The rates table's entry in provenance.json."""
    return {
        "file": "rates.json",
        "source": SOURCE,
        "sources": {
            SOURCE: "AWS Price List Query API (pricing:GetProducts): per region, "
            + "; ".join(f"{code} {dict(extra) or ''}".strip() for code, extra in RATE_QUERIES)
        },
        "as_of": {k: v["as_of"] for k, v in sorted(items.items())},
        "as_of_max": max((v["as_of"] for v in items.values()), default=""),
        "items": len(items),
        "conflicts": sorted(c.conflicts),
        "decisions": {
            "scaled": "region without a listed rate: base-region rate x ratio(region) / ratio(base region), "
            "6 significant digits; estimated",
            "flat": "eks cluster hours and public IPv4: base-region rate unchanged; estimated",
            "eks_extended_support": "cluster hour + AmazonEKS-Hours:extendedSupport surcharge",
            "tiers": "first priced tier (lowest beginRange with a positive price; free tiers skipped)",
            "carried_over": "items the Price List mapping does not produce keep the base snapshot's values",
        },
    }
