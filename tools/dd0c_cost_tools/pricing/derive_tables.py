"""From the collected Price List rows to the snapshot's tables: EC2 (and its region ratios),
Local Zones, RDS (and its markups), the other instance tables and regions, each with its
provenance, by the derivations of ``pricing.snapshot`` that the CSV build uses too; the scalar
rates are ``derive_rates``'s."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from dd0c_cost_tools.pricing.carry_over import BaseSnapshot, notice_text
from dd0c_cost_tools.pricing.price_list import (
    ALL_SERVICES,
    LOCAL_ZONE_RE,
    PRICING_ENDPOINT_REGION,
    RDS_ENGINE_ALIASES,
    RDS_ENGINE_CODES,
    SOURCE,
    TABLE_FILES,
    RefreshError,
)
from dd0c_cost_tools.pricing.price_queries import EC2_FILTERS, LOCAL_ZONE_TYPES, Collector, PriceListApi
from dd0c_cost_tools.pricing.refresh_report import RefreshReport
from dd0c_cost_tools.pricing.snapshot import (
    BASE_REGION,
    LICENSE_FILE,
    REGION_RE,
    SCHEMA,
    median_ratios,
    parent_ratios,
    provenance_text,
    rds_markups,
    region_ratios,
    regions_document,
    table_ratios,
    table_text,
)

# --------------------------------------------------------------------------- derived tables


def _f(x: Decimal) -> float:
    return float(x)


def newest_date(dates: Iterable[str], fallback: str) -> str:
    """The newest of the (non-empty) publication dates, else ``fallback``."""
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
        as_of = newest_date(c.published.values(), run_date)
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
    ec2_ratio = median_ratios(ec2_prices, d.plan.min_common_types)
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
        "parent_ratio": parent_ratios(lz_prices, parent, ec2_prices),
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
    ratios = region_ratios(seen_regions, ec2_ratio, ec_ratio, os_ratio)
    no_ratio = sorted(seen_regions - set(ratios))
    if no_ratio:
        d.report.warnings.append(
            f"no region ratio (fewer than {d.plan.min_common_types} EC2 types shared with {BASE_REGION}) for "
            f"{no_ratio}: listed prices work there, derived ones do not"
        )
    regions_doc = regions_document(
        ratios,
        "median of (region price / us-east-1 price) over instance types listed in both (EC2); regions "
        "without enough EC2 rows use the ElastiCache node ratio, else OpenSearch",
    )
    return ratios, regions_doc


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
