"""The RDS, ElastiCache and OpenSearch tables from the data set: instance prices per region, with
each table's region ratios (and RDS's markups over EC2)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from dd0c_cost_tools.pricing.dataset.rows import BuildError, read_csv
from dd0c_cost_tools.pricing.snapshot import SCHEMA, rds_markups, table_ratios

# The LeanerCloud copy of ec2instances.info's ElastiCache and OpenSearch data.
LEANERCLOUD_AS_OF = "2025-04-24"
MISSING_REGION = {"missing": "us-east-1 price x region ratio; estimated"}


def build_rds(src: Path, prov: dict, ec2_clean: dict) -> tuple[dict, dict]:
    rows = read_csv(src / "rds_ondemand_single_az_2021.csv")
    prices: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r["deployment"] != "single-az":
            raise BuildError(f"unexpected deployment {r['deployment']}")
        slot = prices[r["region"]][r["engine"]]
        if r["instance_class"] in slot:
            raise BuildError(f"duplicate rds row {r}")
        slot[r["instance_class"]] = float(r["usd_per_hour"])
    prices_plain = {reg: {eng: dict(c) for eng, c in e.items()} for reg, e in prices.items()}

    # Markup of the RDS price over the EC2 price of the same instance size (snapshot.rds_markups):
    # how the price book estimates classes the 2021 file lacks (db.t4g, db.m6i, db.r7g, ...).
    markup = rds_markups(prices_plain, ec2_clean)
    as_of = "2021-08-03"
    engines = {
        "aurora": "aurora-mysql",
        "postgresql": "postgres",
        "oracle-se2-cdb": "oracle-se2",
    }
    table = _header("rds", as_of, prices_plain, deployment="single-az", markup_over_ec2=markup, engine_aliases=engines)
    prov["rds"] = _provenance(
        "rds",
        "rds_ondemand_single_az_2021.csv",
        "vantage-sh/ec2instances.info www/rds/instances.json @14ede5a5 (MIT)",
        as_of,
        rows,
        prices_plain,
        engines=sorted({r["engine"] for r in rows}),
        decisions={
            "multi_az": "Multi-AZ = 2 x Single-AZ (estimated; observed for mysql db.t3.large only). Not applied to "
            "aurora-* (Aurora bills each instance; there is no Multi-AZ instance price)",
            "missing_class": "EC2 price of the same size in the region x median RDS/EC2 markup for (engine, family "
            "letter, Graviton|x86), falling back to coarser keys; estimated",
            "missing_region": "us-east-1 price x region ratio (RDS table ratio if the region is in it, else the "
            "general region ratio); estimated",
        },
    )
    return table, prices_plain


def build_elasticache(src: Path, prov: dict) -> tuple[dict, dict]:
    rows = read_csv(src / "elasticache_ondemand.csv")
    prices: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        prices[r["region"]][r["engine"]][r["node_type"]] = float(r["usd_per_hour"])
    plain = {reg: {eng: dict(n) for eng, n in e.items()} for reg, e in prices.items()}
    prov["elasticache"] = _provenance(
        "elasticache",
        "elasticache_ondemand.csv",
        "LeanerCloud/ec2-instances-info data/elasticache-instances.json @f9eafba8 (ec2instances.info data, MIT)",
        LEANERCLOUD_AS_OF,
        rows,
        plain,
        engines=sorted({r["engine"] for r in rows}),
        decisions=MISSING_REGION,
    )
    return _header("elasticache", LEANERCLOUD_AS_OF, plain), plain


def build_opensearch(src: Path, prov: dict) -> tuple[dict, dict]:
    rows = read_csv(src / "opensearch_ondemand.csv")
    prices: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        itype = r["instance_type"]
        if not itype.endswith(".search"):
            raise BuildError(f"unexpected opensearch type {itype}")
        prices[r["region"]][itype[: -len(".search")]] = float(r["usd_per_hour"])
    plain = {k: dict(v) for k, v in prices.items()}
    prov["opensearch"] = _provenance(
        "opensearch",
        "opensearch_ondemand.csv",
        "LeanerCloud/ec2-instances-info data/opensearch-instances.json @f9eafba8 (ec2instances.info data, MIT)",
        LEANERCLOUD_AS_OF,
        rows,
        plain,
        decisions=MISSING_REGION,
    )
    table = _header(
        "opensearch", LEANERCLOUD_AS_OF, plain, key_note="instance types are stored without the '.search' suffix"
    )
    return table, plain


def _header(table: str, as_of: str, prices: dict, **extra: object) -> dict:
    """The header of a table priced from ec2instances.info's data, with its region ratios."""
    return {
        "schema": SCHEMA,
        "table": table,
        "unit": "hour",
        "bases": {"ec2instances": {"source": "ec2instances", "as_of": as_of, "estimated": False}},
        "default_basis": "ec2instances",
        "region_ratio": table_ratios(prices),
        **extra,
    }


def _provenance(
    table: str, input_name: str, source: str, as_of: str, rows: list, prices: dict, **extra: object
) -> dict:
    return {
        "file": f"{table}.json",
        "input": input_name,
        "sources": {"ec2instances": source},
        "as_of": as_of,
        "rows": len(rows),
        "regions": len(prices),
        **extra,
    }
