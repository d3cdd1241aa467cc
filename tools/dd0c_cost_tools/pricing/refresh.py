"""Rebuild the offline price snapshot from the AWS Price List Query API (``dd0c-cost pricing refresh``).

Usage::

    dd0c-cost pricing refresh                       # all regions, into the package data dir
    dd0c-cost pricing refresh --out /tmp/prices --regions us-east-1,eu-west-1
    dd0c-cost pricing refresh --dry-run             # query and count, write nothing

    from dd0c_cost_tools.pricing.refresh import refresh
    report = refresh(boto3.client("pricing", region_name="us-east-1"), Path("/tmp/prices"))
    PriceBook(data_dir="/tmp/prices").ec2_instance("eu-west-1", "m5.large")

``refresh`` queries ``pricing:GetProducts`` (TERM_MATCH filters, NextToken pagination) and writes
the same files, in the same format, as ``scripts/build_price_snapshot.py``, so ``PriceBook`` reads
a refreshed snapshot unchanged. Refreshed prices carry ``source="aws-price-list"`` and ``as_of`` =
the newest ``publicationDate`` of the Price List rows used (the run date if a row has none).

What is queried, per region (``regionCode`` filter):

- EC2 (AmazonEC2): Linux, shared tenancy, no pre-installed software, capacitystatus Used,
  operation RunInstances (no licence), BoxUsage rows. Also every Local Zone / Wavelength Zone
  location whose parent region is refreshed (``ec2_local_zones``).
- RDS (AmazonRDS): Database Instance, Single-AZ, ``InstanceUsage:db.*`` (no I/O-Optimized, no
  Custom/Outposts, no BYOL). Engines by Price List ``engineCode``. Multi-AZ stays 2 x Single-AZ.
- ElastiCache (Cache Instance, ``NodeUsage:cache.*``; redis, valkey, memcached) and OpenSearch
  (AmazonES, ``ESInstance`` rows; ``.search`` suffix dropped as in the shipped table).
- Scalar rates (``rates.json``, see :data:`RATE_UNITS`): NAT gateway, public IPv4, ELB (ALB, NLB,
  CLB), EBS (storage per type, IOPS, gp3 throughput, snapshots, magnetic I/O), EKS (standard and
  extended support = cluster hour + the extended-support surcharge), VPC interface endpoints,
  Lambda provisioned concurrency, DynamoDB provisioned WCU/RCU, Kinesis shard / on-demand stream
  hour, MSK broker hours (``msk/kafka.<type>``), SageMaker real-time hosting instance hours
  (``sagemaker/ml.<type>``) and Redshift node hours (AmazonRedshift, Compute Instance,
  ``Node:<type>``: ``redshift/<type>``; managed storage keeps the shipped snapshot's rate).

Row handling: only ``terms.OnDemand`` is read; of its price dimensions the one with the lowest
``beginRange`` and a positive USD price is used (so free tiers and reserved-capacity $0 rows are
skipped); rows without USD, with a price of 0, with another OS/tenancy/licence/capacity status or
an unexpected usage type or unit are skipped and counted in the report. Region = ``regionCode``,
else the ``location`` name (:data:`LOCATION_TO_REGION`). Two rows for the same key with different
prices keep the lower one and are listed under ``conflicts`` in provenance.json.

What is not refreshed is kept: a table excluded with ``services=`` and every scalar-rate item the
Price List mapping does not produce (data transfer, Lambda requests/duration, DynamoDB on-demand,
RDS storage, Redshift, ...) are carried over unchanged, with their own source and ``as_of``, from
``base_dir`` (default: the snapshot shipped in the package). Region ratios, RDS markups and derived
(estimated) regional rates are recomputed exactly as the build script does. Output is
deterministic: the same responses (and run date) give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

import dd0c_cost.pricing as _runtime_pricing
from dd0c_cost_tools.pricing.snapshot import (
    BASE_REGION,
    HOURS_PER_MONTH,
    LICENSE_FILE,
    MIN_COMMON_TYPES_FOR_RATIO,
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

SOURCE = "aws-price-list"
PRICING_ENDPOINT_REGION = "us-east-1"
PAGE_SIZE = 100
MAX_PAGES_PER_QUERY = 5_000
# The runtime package's snapshot: what the price book reads in the shared layer.
DEFAULT_DATA_DIR = Path(_runtime_pricing.__file__).resolve().parent / "data"

ALL_SERVICES = ("ec2", "ec2_local_zones", "rds", "elasticache", "opensearch", "rates")
TABLE_FILES = {name: f"{name}.json" for name in ALL_SERVICES}

LOCAL_ZONE_RE = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d+)-[a-z0-9-]+$")
# One leading usage-type region prefix: "USE2-", "EUW1-", "APN1-", "UGW1-", and eu-west-1's "EU-".
_USAGE_PREFIX_RE = re.compile(r"^(?:[A-Z]{3}\d-|EU-)")
_BOX_USAGE_RE = re.compile(r"(?:^|-)BoxUsage:([a-z0-9.-]+)$")
_DATE_RE = re.compile(r"^\d{4}-\d\d-\d\d")
_MSK_RE = re.compile(r"^Kafka\.((?:express\.)?[a-z]+\d+[a-z]*\.[a-z0-9]+)$", re.IGNORECASE)
_SAGEMAKER_HOST_RE = re.compile(r"^Host:(ml\.[a-z0-9-]+\.[a-z0-9]+)$")
# Redshift provisioned nodes: usage type Node:<type>; the instanceType attribute must agree.
_REDSHIFT_NODE_RE = re.compile(r"^Node:((?:ra3|dc2|dc1|ds2|ds1)\.[a-z0-9]+)$")
_EBS_VOLUME_USAGE_RE = re.compile(r"^EBS:VolumeUsage(?:\.[A-Za-z0-9]+)?$")

# Price List `location` names, used only when a row carries no `regionCode` (older format).
LOCATION_TO_REGION = {
    "Africa (Cape Town)": "af-south-1",
    "Asia Pacific (Hong Kong)": "ap-east-1",
    "Asia Pacific (Taipei)": "ap-east-2",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Asia Pacific (Seoul)": "ap-northeast-2",
    "Asia Pacific (Osaka)": "ap-northeast-3",
    "Asia Pacific (Osaka-Local)": "ap-northeast-3",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Asia Pacific (Hyderabad)": "ap-south-2",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Jakarta)": "ap-southeast-3",
    "Asia Pacific (Melbourne)": "ap-southeast-4",
    "Asia Pacific (Malaysia)": "ap-southeast-5",
    "Asia Pacific (New Zealand)": "ap-southeast-6",
    "Asia Pacific (Thailand)": "ap-southeast-7",
    "Canada (Central)": "ca-central-1",
    "Canada West (Calgary)": "ca-west-1",
    "EU (Frankfurt)": "eu-central-1",
    "EU (Zurich)": "eu-central-2",
    "EU (Stockholm)": "eu-north-1",
    "EU (Milan)": "eu-south-1",
    "EU (Spain)": "eu-south-2",
    "EU (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "EU (Paris)": "eu-west-3",
    "Europe (Frankfurt)": "eu-central-1",
    "Europe (Zurich)": "eu-central-2",
    "Europe (Stockholm)": "eu-north-1",
    "Europe (Milan)": "eu-south-1",
    "Europe (Spain)": "eu-south-2",
    "Europe (Ireland)": "eu-west-1",
    "Europe (London)": "eu-west-2",
    "Europe (Paris)": "eu-west-3",
    "Israel (Tel Aviv)": "il-central-1",
    "Mexico (Central)": "mx-central-1",
    "Middle East (UAE)": "me-central-1",
    "Middle East (Bahrain)": "me-south-1",
    "South America (Sao Paulo)": "sa-east-1",
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "AWS GovCloud (US)": "us-gov-west-1",
    "AWS GovCloud (US-West)": "us-gov-west-1",
    "AWS GovCloud (US-East)": "us-gov-east-1",
}

# RDS: Price List engineCode -> CreateDBInstance engine name (licence-included for Oracle/SQL
# Server). The codes are those under which the shipped 2021 table stored each engine.
RDS_ENGINE_CODES = {
    "2": "mysql",
    "14": "postgres",
    "18": "mariadb",
    "16": "aurora-mysql",
    "21": "aurora-postgresql",
    "6": "oracle-se1",
    "20": "oracle-se2",
    "12": "sqlserver-se",
    "15": "sqlserver-ee",
    "11": "sqlserver-web",
}
RDS_ENGINE_ALIASES = {"aurora": "aurora-mysql", "postgresql": "postgres", "oracle-se2-cdb": "oracle-se2"}
RATE_ALIASES = {
    "ebs/io2_iops_tier1_month": "ebs/io2_iops_month",
    "ec2/eip_hour": "ec2/public_ipv4_hour",
    "ec2/elastic_ip_hour": "ec2/public_ipv4_hour",
    "elbv2/alb_hour": "elb/alb_hour",
    "elbv2/nlb_hour": "elb/nlb_hour",
    "vpc/nat_gateway_data_gb": "ec2/nat_gateway_data_gb",
    "vpc/nat_gateway_hour": "ec2/nat_gateway_hour",
}
EBS_VOLUME_TYPES = ("gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")


@dataclass(frozen=True)
class RateSpec:
    """How a Price List row becomes a ``rates.json`` item (see ``PriceBook.rate``)."""

    unit: str  # our unit after conversion (capacity units end in "hour")
    native_units: tuple[str, ...] | None  # accepted Price List units (lower case); None = any
    divide_by: int = 1  # applied at lookup (per-month prices -> per hour)
    scale: Decimal = Decimal(1)  # applied here (per IO -> per 1M IOs, per GiBps -> per MiBps)
    policy: str = "scaled"  # regions without a listed price: "scaled" by region ratio, or "flat"


_HOURLY = RateSpec("hour", ("hrs",))
_GB_MONTH = RateSpec("GB-hour", ("gb-mo",), HOURS_PER_MONTH)
_IOPS_MONTH = RateSpec("IOPS-hour", ("iops-mo",), HOURS_PER_MONTH)
_GB_SECOND = RateSpec("GB-second", None)

#: Fixed rate items produced by a refresh -> spec. Per-type items ``msk/kafka.*`` and
#: ``sagemaker/ml.*`` use :data:`_HOURLY`.
RATE_UNITS: dict[str, RateSpec] = {
    "ec2/nat_gateway_hour": _HOURLY,
    "ec2/nat_gateway_data_gb": RateSpec("GB", ("gb",)),
    "ec2/public_ipv4_hour": RateSpec("hour", ("hrs",), policy="flat"),
    **{f"ebs/{v}_gb_month": _GB_MONTH for v in EBS_VOLUME_TYPES},
    "ebs/io1_iops_month": _IOPS_MONTH,
    "ebs/io2_iops_month": _IOPS_MONTH,
    "ebs/gp3_iops_month": _IOPS_MONTH,
    "ebs/gp3_throughput_mibps_month": RateSpec(
        "MiBps-hour", ("gibps-mo",), HOURS_PER_MONTH, Decimal(1) / Decimal(1024)
    ),
    "ebs/snapshot_gb_month": _GB_MONTH,
    "ebs/standard_io_million_requests": RateSpec("1M requests", ("ios",), scale=Decimal(1_000_000)),
    "elb/alb_hour": _HOURLY,
    "elb/alb_lcu_hour": RateSpec("LCU-hour", None),
    "elb/nlb_hour": _HOURLY,
    "elb/nlb_nlcu_hour": RateSpec("NLCU-hour", None),
    "elb/clb_hour": _HOURLY,
    "elb/clb_data_gb": RateSpec("GB", ("gb",)),
    "eks/cluster_hour": RateSpec("hour", ("hrs",), policy="flat"),
    "eks/cluster_extended_support_hour": RateSpec("hour", ("hrs",), policy="flat"),
    "vpc/interface_endpoint_hour": _HOURLY,
    "vpc/interface_endpoint_data_gb": RateSpec("GB", ("gb",)),
    "lambda/provisioned_concurrency_gb_second": _GB_SECOND,
    "lambda/provisioned_concurrency_arm_gb_second": _GB_SECOND,
    "lambda/provisioned_duration_gb_second": _GB_SECOND,
    "lambda/provisioned_duration_arm_gb_second": _GB_SECOND,
    "dynamodb/provisioned_wcu_hour": RateSpec("WCU-hour", None),
    "dynamodb/provisioned_rcu_hour": RateSpec("RCU-hour", None),
    "kinesis/shard_hour": RateSpec("hour", None),
    "kinesis/on_demand_stream_hour": RateSpec("hour", None),
}
# EKS extended support is published as a surcharge on top of the cluster hour; the rate item is
# the total (cluster hour + surcharge), as in the shipped snapshot.
_EKS_SURCHARGE = "_eks/extended_support_surcharge"
_LAMBDA_GROUPS = {
    "AWS-Lambda-Provisioned-Concurrency": "lambda/provisioned_concurrency_gb_second",
    "AWS-Lambda-Provisioned-Concurrency-ARM": "lambda/provisioned_concurrency_arm_gb_second",
    "AWS-Lambda-Duration-Provisioned": "lambda/provisioned_duration_gb_second",
    "AWS-Lambda-Duration-Provisioned-ARM": "lambda/provisioned_duration_arm_gb_second",
}
_ELB_KIND = {"Load Balancer-Application": "alb", "Load Balancer-Network": "nlb", "Load Balancer": "clb"}


class RefreshError(Exception):
    """The API answered something the refresh cannot turn into a usable snapshot."""


# --------------------------------------------------------------------------- report


@dataclass
class RefreshReport:
    """What a refresh fetched, kept, skipped and wrote."""

    out_dir: Path
    dry_run: bool
    regions: list[str]
    as_of: str = ""
    requests: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # refreshed table -> prices kept
    locations: dict[str, int] = field(default_factory=dict)  # refreshed table -> regions/locations
    rate_items: int = 0  # rate items refreshed from the API
    carried_over: list[str] = field(default_factory=list)  # tables / rate items kept from base_dir
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    conflicts: int = 0
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # written (none on a dry run)

    def lines(self) -> list[str]:
        out = [f"as of {self.as_of or '-'}: {len(self.regions)} regions, {self.requests} API requests"]
        for table in ALL_SERVICES:
            if table in self.rows:
                where = "locations" if table == "ec2_local_zones" else "regions"
                out.append(f"{table}: {self.rows[table]} prices, {self.locations.get(table, 0)} {where}")
        tables = [c for c in self.carried_over if "/" not in c]
        items = [c for c in self.carried_over if "/" in c]
        if "rates" in self.rows:
            out.append(f"rate items refreshed: {self.rate_items}, carried over: {len(items)}")
        if tables:
            out.append(f"carried over unchanged: {', '.join(tables)}")
        if self.skipped:
            out.append("skipped rows: " + ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())))
        out.append(f"conflicting duplicate rows: {self.conflicts}")
        out.extend(f"warning: {w}" for w in self.warnings)
        out.append("dry run: nothing written" if self.dry_run else f"wrote {len(self.files)} files to {self.out_dir}")
        return out


# --------------------------------------------------------------------------- Price List parsing


@dataclass(frozen=True)
class _Row:
    attrs: dict[str, str]  # product.attributes + productFamily
    usd: Decimal
    unit: str
    published: str  # YYYY-MM-DD or ""


def parse_price_item(raw: str | dict[str, Any]) -> tuple[_Row | None, str]:
    """One PriceList entry -> (row, "") or (None, skip reason). Only ``terms.OnDemand`` is read.

    Of the on-demand price dimensions, the one with the lowest ``beginRange`` and a positive USD
    price wins (a free tier or a $0 reserved-capacity dimension is never picked).
    """
    item = json.loads(raw) if isinstance(raw, str) else raw
    product = item.get("product") or {}
    attrs = {k: str(v) for k, v in (product.get("attributes") or {}).items()}
    if product.get("productFamily") and "productFamily" not in attrs:
        attrs["productFamily"] = str(product["productFamily"])
    terms = (item.get("terms") or {}).get("OnDemand") or {}
    candidates: list[tuple[Decimal, Decimal, str]] = []
    saw_usd = saw_dimension = False
    for term in terms.values():
        for dim in (term.get("priceDimensions") or {}).values():
            saw_dimension = True
            per_unit = dim.get("pricePerUnit") or {}
            if "USD" not in per_unit:
                continue
            saw_usd = True
            try:
                usd = Decimal(str(per_unit["USD"]))
                begin = Decimal(str(dim.get("beginRange") or "0"))
            except InvalidOperation:
                continue
            if not usd.is_finite() or usd <= 0:  # free tiers, $0 capacity-reservation rows
                continue
            candidates.append((begin, usd, str(dim.get("unit", ""))))
    if not candidates:
        return None, ("no_on_demand" if not saw_dimension else "non_usd" if not saw_usd else "zero_price")
    begin, usd, unit = min(candidates)
    published = str(item.get("publicationDate") or "")
    return _Row(attrs, usd, unit, published[:10] if _DATE_RE.match(published) else ""), ""


def region_of(attrs: dict[str, str]) -> str | None:
    """The row's region (or Local Zone) code: ``regionCode``, else mapped from ``location``."""
    code = attrs.get("regionCode")
    if code:
        return code
    return LOCATION_TO_REGION.get(attrs.get("location", ""))


def strip_usage_prefix(usage_type: str) -> str:
    """``EU-NatGateway-Hours`` / ``USE2-NatGateway-Hours`` -> ``NatGateway-Hours``."""
    return _USAGE_PREFIX_RE.sub("", usage_type, count=1)


def _ec2_key(attrs: dict[str, str]) -> tuple[str | None, str]:
    """EC2 Linux/shared/on-demand instance type of a row, or (None, skip reason)."""
    checks = (
        ("operatingSystem", ("Linux",), "os"),
        ("tenancy", ("Shared",), "tenancy"),
        ("preInstalledSw", ("NA",), "preinstalled_sw"),
        ("capacitystatus", ("Used",), "capacity_status"),
        ("licenseModel", ("No License required",), "license"),
        ("operation", ("RunInstances",), "operation"),
        ("marketoption", ("OnDemand",), "market_option"),
    )
    for name, allowed, reason in checks:
        value = attrs.get(name)
        if value is not None and value not in allowed:
            return None, reason
    if attrs.get("operatingSystem") is None:
        return None, "os"
    itype = attrs.get("instanceType", "")
    usage = attrs.get("usagetype")
    if usage is not None:
        m = _BOX_USAGE_RE.search(usage)
        if m is None or (itype and m.group(1) != itype):
            return None, "usage_type"
        itype = itype or m.group(1)
    return (itype, "") if itype else (None, "usage_type")


def _rds_key(attrs: dict[str, str]) -> tuple[tuple[str, str] | None, str]:
    if attrs.get("productFamily", "Database Instance") != "Database Instance":
        return None, "product_family"
    if attrs.get("deploymentOption", "Single-AZ") != "Single-AZ":
        return None, "deployment"
    if attrs.get("deploymentModel"):  # RDS Custom / Outposts variants
        return None, "deployment"
    if attrs.get("licenseModel") == "Bring your own license":
        return None, "license"
    engine = RDS_ENGINE_CODES.get(attrs.get("engineCode", ""))
    if engine is None:
        return None, "engine"
    m = re.fullmatch(r"InstanceUsage:(db\.[a-z0-9.-]+)", strip_usage_prefix(attrs.get("usagetype", "")))
    cls = attrs.get("instanceType", "")
    if m is None or (cls and m.group(1) != cls):
        return None, "usage_type"
    return (engine, m.group(1)), ""


def _elasticache_key(attrs: dict[str, str]) -> tuple[tuple[str, str] | None, str]:
    if attrs.get("productFamily", "Cache Instance") != "Cache Instance":
        return None, "product_family"
    m = re.fullmatch(r"NodeUsage:(cache\.[a-z0-9.-]+)", strip_usage_prefix(attrs.get("usagetype", "")))
    if m is None:
        return None, "usage_type"
    engine = attrs.get("cacheEngine", "").strip().lower()
    if engine not in {"redis", "valkey", "memcached"}:
        return None, "engine"
    return (engine, m.group(1)), ""


def _opensearch_key(attrs: dict[str, str]) -> tuple[str | None, str]:
    if "ESInstance" not in attrs.get("usagetype", ""):
        return None, "usage_type"
    itype = attrs.get("instanceType", "").strip().lower()
    for suffix in (".search", ".elasticsearch"):
        if itype.endswith(suffix):
            return itype[: -len(suffix)], ""
    return None, "usage_type"


def rate_item_of(service_code: str, attrs: dict[str, str]) -> str | None:  # noqa: C901 - a mapping table written as code: one branch per Price List usage type
    """The ``rates.json`` item a Price List row prices, or None if it is not one we map."""
    usage = strip_usage_prefix(attrs.get("usagetype", ""))
    family = attrs.get("productFamily", "")
    if service_code == "AmazonEC2":
        fixed = {
            "NatGateway-Hours": "ec2/nat_gateway_hour",
            "NatGateway-Bytes": "ec2/nat_gateway_data_gb",
            "EBS:VolumeP-IOPS.piops": "ebs/io1_iops_month",
            "EBS:VolumeP-IOPS.io2": "ebs/io2_iops_month",
            "EBS:VolumeP-IOPS.gp3": "ebs/gp3_iops_month",
            "EBS:VolumeP-Throughput.gp3": "ebs/gp3_throughput_mibps_month",
            "EBS:SnapshotUsage": "ebs/snapshot_gb_month",
            "EBS:VolumeIOUsage": "ebs/standard_io_million_requests",
        }
        if usage in fixed:
            return fixed[usage]
        if _EBS_VOLUME_USAGE_RE.match(usage) and attrs.get("volumeApiName") in EBS_VOLUME_TYPES:
            return f"ebs/{attrs['volumeApiName']}_gb_month"
    elif service_code == "AmazonVPC":
        return {
            "PublicIPv4:InUseAddress": "ec2/public_ipv4_hour",
            "VpcEndpoint-Hours": "vpc/interface_endpoint_hour",
            "VpcEndpoint-Bytes": "vpc/interface_endpoint_data_gb",
        }.get(usage)
    elif service_code == "AWSELB":
        kind = _ELB_KIND.get(family)
        if kind and usage == "LoadBalancerUsage":
            return f"elb/{kind}_hour"
        if usage == "LCUUsage" and kind in ("alb", "nlb"):
            return "elb/alb_lcu_hour" if kind == "alb" else "elb/nlb_nlcu_hour"
        if kind == "clb" and usage == "DataProcessing-Bytes":
            return "elb/clb_data_gb"
    elif service_code == "AmazonEKS":
        return {
            "AmazonEKS-Hours:perCluster": "eks/cluster_hour",
            "AmazonEKS-Hours:extendedSupport": _EKS_SURCHARGE,
        }.get(usage)
    elif service_code == "AWSLambda":
        return _LAMBDA_GROUPS.get(attrs.get("group", ""))
    elif service_code == "AmazonDynamoDB":
        if family == "Provisioned IOPS":
            return {
                "DDB-WriteUnits": "dynamodb/provisioned_wcu_hour",
                "DDB-ReadUnits": "dynamodb/provisioned_rcu_hour",
            }.get(attrs.get("group", ""))
    elif service_code == "AmazonKinesis":
        return {"Storage-ShardHour": "kinesis/shard_hour", "OnDemand-StreamHour": "kinesis/on_demand_stream_hour"}.get(
            usage
        )
    elif service_code == "AmazonMSK":
        m = _MSK_RE.match(usage)
        if m and "serverless" not in m.group(1).lower():
            return f"msk/kafka.{m.group(1).lower()}"
    elif service_code == "AmazonSageMaker":
        m = _SAGEMAKER_HOST_RE.match(usage)
        if m:
            return f"sagemaker/{m.group(1)}"
    elif service_code == "AmazonRedshift":
        m = _REDSHIFT_NODE_RE.match(usage)
        if m and family == "Compute Instance" and attrs.get("instanceType", m.group(1)) == m.group(1):
            return f"redshift/{m.group(1)}"
    return None


def rate_spec(item: str) -> RateSpec:
    if item == _EKS_SURCHARGE:
        return RATE_UNITS["eks/cluster_extended_support_hour"]
    if item.startswith(("msk/", "sagemaker/", "redshift/")):
        return _HOURLY
    return RATE_UNITS[item]


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class _Query:
    table: str
    service_code: str
    filters: tuple[tuple[str, str], ...]
    region: str | None  # the region every row must be in; None for Local Zone queries


_EC2_FILTERS = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
)
_LOCAL_ZONE_TYPES = ("AWS Local Zone", "AWS Wavelength Zone")
# Scalar-rate queries, per region: (service code, extra TERM_MATCH filters).
_RATE_QUERIES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("AmazonEC2", (("productFamily", "NAT Gateway"),)),
    ("AmazonEC2", (("productFamily", "Storage"),)),
    ("AmazonEC2", (("productFamily", "System Operation"),)),
    ("AmazonEC2", (("productFamily", "Provisioned Throughput"),)),
    ("AmazonEC2", (("productFamily", "Storage Snapshot"),)),
    ("AmazonVPC", ()),
    ("AWSELB", ()),
    ("AmazonEKS", ()),
    ("AWSLambda", ()),
    ("AmazonDynamoDB", (("productFamily", "Provisioned IOPS"),)),
    ("AmazonKinesis", (("productFamily", "Kinesis Streams"),)),
    ("AmazonMSK", ()),
    ("AmazonSageMaker", (("productFamily", "ML Instance"),)),
    ("AmazonRedshift", (("productFamily", "Compute Instance"),)),
)


def plan_queries(regions: list[str], services: Iterable[str]) -> list[_Query]:
    """Every GetProducts query of a refresh, in the order they are sent."""
    wanted = set(services)
    out: list[_Query] = []
    for table in ALL_SERVICES:
        if table not in wanted:
            continue
        if table == "ec2_local_zones":
            out += [_Query(table, "AmazonEC2", (("locationType", t), *_EC2_FILTERS), None) for t in _LOCAL_ZONE_TYPES]
            continue
        for region in regions:
            rc = (("regionCode", region),)
            if table == "ec2":
                out.append(_Query(table, "AmazonEC2", rc + _EC2_FILTERS, region))
            elif table == "rds":
                out.append(
                    _Query(
                        table,
                        "AmazonRDS",
                        rc + (("productFamily", "Database Instance"), ("deploymentOption", "Single-AZ")),
                        region,
                    )
                )
            elif table == "elasticache":
                out.append(_Query(table, "AmazonElastiCache", rc + (("productFamily", "Cache Instance"),), region))
            elif table == "opensearch":
                out.append(
                    _Query(table, "AmazonES", rc + (("productFamily", "Amazon OpenSearch Service Instance"),), region)
                )
            else:
                out += [_Query(table, code, rc + extra, region) for code, extra in _RATE_QUERIES]
    return out


class _Api:
    """Thin wrapper over the boto3 ``pricing`` client: pagination, request counting, guards."""

    def __init__(self, client: Any, log: Callable[[str], None] | None) -> None:
        self.client = client
        self.log = log
        self.requests = 0

    def _pages(self, call: Callable[..., dict], params: dict[str, Any], what: str) -> Iterator[dict]:
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES_PER_QUERY):
            kwargs = dict(params)
            if token:
                kwargs["NextToken"] = token
            resp = call(**kwargs)
            self.requests += 1
            yield resp
            token = resp.get("NextToken")
            if not token:
                return
            if token in seen:
                raise RefreshError(f"{what}: the API repeated a NextToken (pagination loop)")
            seen.add(token)
        raise RefreshError(f"{what}: more than {MAX_PAGES_PER_QUERY} pages")

    def products(self, q: _Query) -> Iterator[str | dict]:
        params = {
            "ServiceCode": q.service_code,
            "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in q.filters],
            "FormatVersion": "aws_v1",
            "MaxResults": PAGE_SIZE,
        }
        what = f"{q.service_code} {dict(q.filters)}"
        if self.log:
            self.log(f"GetProducts {what}")
        for resp in self._pages(self.client.get_products, params, what):
            if resp.get("FormatVersion", "aws_v1") != "aws_v1":
                raise RefreshError(f"{what}: unexpected FormatVersion {resp.get('FormatVersion')!r}")
            yield from resp.get("PriceList") or []

    def regions(self) -> list[str]:
        """Region codes the Price List knows for EC2 (commercial + GovCloud; no China, no Local Zones)."""
        params = {"ServiceCode": "AmazonEC2", "AttributeName": "regionCode", "MaxResults": PAGE_SIZE}
        values: set[str] = set()
        for resp in self._pages(self.client.get_attribute_values, params, "GetAttributeValues regionCode"):
            values.update(str(v.get("Value", "")) for v in resp.get("AttributeValues") or [])
        return sorted(v for v in values if REGION_RE.match(v) and not v.startswith("cn-"))


# --------------------------------------------------------------------------- collection


class _Collector:
    """Prices of one table keyed by (region, *key); duplicate keys keep the lower price."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Decimal] = {}
        self.published: dict[tuple[str, ...], str] = {}
        self.units: dict[tuple[str, ...], set[str]] = defaultdict(set)
        self.conflicts: list[list] = []

    def add(self, key: tuple[str, ...], row: _Row) -> None:
        old = self.values.get(key)
        if old is None or row.usd < old:
            self.values[key] = row.usd
        if old is not None and old != row.usd:
            self.conflicts.append([*key, float(old), float(row.usd)])
        self.units[key].add(row.unit)
        if row.published > self.published.get(key, ""):
            self.published[key] = row.published


def _collect(api: _Api, queries: list[_Query], regions: set[str], skipped: Counter) -> dict[str, _Collector]:
    out: dict[str, _Collector] = defaultdict(_Collector)
    for q in queries:
        got = 0
        for raw in api.products(q):
            row, reason = parse_price_item(raw)
            if row is None:
                skipped[reason] += 1
                continue
            key, reason = _key_for(q, row, regions)
            if key is None:
                skipped[reason] += 1
                continue
            got += 1
            out[q.table].add(key, row)
        if api.log:
            api.log(f"  kept {got} rows")
    return out


def _key_for(q: _Query, row: _Row, regions: set[str]) -> tuple[tuple[str, ...] | None, str]:
    attrs = row.attrs
    where = region_of(attrs)
    if where is None:
        return None, "unknown_region"
    location_type = attrs.get("locationType")
    if q.region is not None:
        if where != q.region:
            return None, "other_region"
        if location_type is not None and location_type != "AWS Region":
            return None, "location_type"
    else:
        m = LOCAL_ZONE_RE.match(where)
        if m is None or location_type not in _LOCAL_ZONE_TYPES:
            return None, "location_type"
        if m.group(1) not in regions:
            return None, "other_region"
    if q.table in ("ec2", "ec2_local_zones"):
        itype, reason = _ec2_key(attrs)
        ok = row.unit.lower() == "hrs"
        return ((where, itype), "") if itype and ok else (None, reason or "unit")
    if q.table == "rds":
        k, reason = _rds_key(attrs)
    elif q.table == "elasticache":
        k, reason = _elasticache_key(attrs)
    elif q.table == "opensearch":
        os_key, reason = _opensearch_key(attrs)
        k = (os_key,) if os_key else None
    else:
        item = rate_item_of(q.service_code, attrs)
        if item is None:
            return None, "unmapped"
        spec = rate_spec(item)
        if spec.native_units is not None and row.unit.lower() not in spec.native_units:
            return None, "unit"
        return (item, where), ""
    if k is None:
        return None, reason
    if row.unit.lower() != "hrs":
        return None, "unit"
    return (where, *k), ""


# --------------------------------------------------------------------------- derived tables


def _f(x: Decimal) -> float:
    return float(x)


def _max_date(dates: Iterable[str], fallback: str) -> str:
    return max((d for d in dates if d), default=fallback)


def _regional(c: _Collector, depth: int) -> dict:
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
class _Plan:
    """What one refresh run does: which services and regions, from which API, when."""

    api: _Api
    out_dir: Path
    services: tuple[str, ...]
    regions: list[str]
    run_date: str
    dry_run: bool
    min_common_types: int


@dataclass
class _Derivation:
    """The tables being derived, with their provenance and the report, while ``refresh`` runs."""

    plan: _Plan
    base: _Base
    report: RefreshReport
    tables: dict[str, dict] = field(default_factory=dict)  # name -> {"header": ..., "big": ...}
    prov_tables: dict[str, dict] = field(default_factory=dict)
    as_ofs: list[str] = field(default_factory=list)

    def refreshed(self, table: str, c: _Collector, n_regions: int, query_desc: str, decisions: dict) -> str:
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


def refresh(
    client: Any,
    out_dir: Path,
    *,
    regions: list[str] | None = None,
    services: Iterable[str] = ALL_SERVICES,
    base_dir: Path | None = DEFAULT_DATA_DIR,
    dry_run: bool = False,
    today: date | None = None,
    min_common_types: int = MIN_COMMON_TYPES_FOR_RATIO,
    log: Callable[[str], None] | None = None,
) -> RefreshReport:
    """Query the Price List API with ``client`` (a boto3 ``pricing`` client) and write a snapshot:
    plan (what to query), collect (the queries), derive (the tables, ratios and provenance), write
    (through the one snapshot writer, ``pricing/snapshot.py``).

    ``regions``: region codes to refresh (us-east-1, the base of every derivation, is always
    added); default: every region code the Price List has for EC2 (commercial and GovCloud, China
    excluded). ``services``: which of :data:`ALL_SERVICES` to refresh; the others, and every rate
    item the API mapping does not produce, are carried over from ``base_dir`` (``None``: write
    empty tables instead). ``dry_run``: query and count, write nothing. ``today``: the run date
    (default: today, UTC), used for provenance and as ``as_of`` of rows without a
    ``publicationDate``. Nothing is written unless every query succeeded.
    """
    plan = _plan(client, Path(out_dir), regions, services, dry_run, today, min_common_types, log)
    report = RefreshReport(out_dir=plan.out_dir, dry_run=dry_run, regions=plan.regions)
    collected = _collect_planned(plan, report)
    d = _Derivation(plan, _Base(base_dir), report)
    ec2_prices, ec2_ratio = _derive_ec2(d, collected)
    _derive_local_zones(d, collected, ec2_prices)
    _derive_rds(d, collected, ec2_prices)
    _derive_instance_tables(d, collected)
    ratios, regions_doc = _derive_regions(d, ec2_ratio)
    _derive_rates(d, collected, ratios, regions_doc["known_regions"])
    report.as_of = max(d.as_ofs, default="")
    for table in plan.services:
        if table != "rates" and not report.rows.get(table):
            report.warnings.append(f"{table}: no prices kept from the API")
    files = _snapshot_files(d, ratios, regions_doc)
    if not dry_run:
        _write_all(plan.out_dir, files)
        report.files = sorted(files)
    return report


def _plan(
    client: Any,
    out_dir: Path,
    regions: list[str] | None,
    services: Iterable[str],
    dry_run: bool,
    today: date | None,
    min_common_types: int,
    log: Callable[[str], None] | None,
) -> _Plan:
    """Check the arguments and settle the services and regions (asking the API for its regions
    when none are given)."""
    requested = set(services)
    unknown = sorted(requested - set(ALL_SERVICES))
    if unknown:
        raise ValueError(f"unknown services {unknown}; choose from {list(ALL_SERVICES)}")
    api = _Api(client, log)
    if regions is None:
        regions = api.regions()
        if not regions:
            raise RefreshError("GetAttributeValues(AmazonEC2, regionCode) returned no region codes")
    bad = sorted(r for r in regions if not REGION_RE.match(r) or r.startswith("cn-"))
    if bad:
        raise ValueError(f"not AWS region codes (or China, which the Price List prices in CNY): {bad}")
    return _Plan(
        api=api,
        out_dir=out_dir,
        services=tuple(s for s in ALL_SERVICES if s in requested),
        regions=sorted(set(regions) | {BASE_REGION}),
        run_date=(today or datetime.now(UTC).date()).isoformat(),
        dry_run=dry_run,
        min_common_types=min_common_types,
    )


def _collect_planned(plan: _Plan, report: RefreshReport) -> dict[str, _Collector]:
    skipped: Counter = Counter()
    collected = _collect(plan.api, plan_queries(plan.regions, plan.services), set(plan.regions), skipped)
    report.requests = plan.api.requests
    report.skipped = dict(sorted(skipped.items()))
    return collected


def _derive_ec2(d: _Derivation, collected: dict[str, _Collector]) -> tuple[dict, dict[str, tuple[float, int]]]:
    """The EC2 table and each region's (ratio, types compared) against us-east-1."""
    if d.refreshing("ec2"):
        c = collected["ec2"]
        ec2_prices = _regional(c, 1)
        _require_base_region("ec2", ec2_prices)
        as_of = d.refreshed(
            "ec2",
            c,
            len(ec2_prices),
            "AmazonEC2, regionCode=<region>, " + ", ".join(f"{k}={v}" for k, v in _EC2_FILTERS),
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


def _derive_local_zones(d: _Derivation, collected: dict[str, _Collector], ec2_prices: dict) -> None:
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
        "AmazonEC2, locationType="
        + "|".join(_LOCAL_ZONE_TYPES)
        + ", "
        + ", ".join(f"{k}={v}" for k, v in _EC2_FILTERS),
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


def _derive_rds(d: _Derivation, collected: dict[str, _Collector], ec2_prices: dict) -> None:
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


def _derive_instance_tables(d: _Derivation, collected: dict[str, _Collector]) -> None:
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


def _derive_regions(d: _Derivation, ec2_ratio: dict[str, tuple[float, int]]) -> tuple[dict[str, dict], dict]:
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


def _derive_rates(d: _Derivation, collected: dict[str, _Collector], ratios: dict, known: list[str]) -> None:
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


def _snapshot_files(d: _Derivation, ratios: dict[str, dict], regions_doc: dict) -> dict[str, bytes]:
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
    files["NOTICE"] = _notice(report.as_of, plan.run_date, carried, base).encode()
    if carried and base.has(LICENSE_FILE):
        files[LICENSE_FILE] = base.bytes(LICENSE_FILE)
    return files


def _build_rates(
    c: _Collector | None, base: _Base, ratios: dict[str, dict], known: list[str], run_date: str, report: RefreshReport
) -> tuple[dict[str, dict], dict]:
    base_items: dict[str, dict] = (base.raw("rates") or {}).get("items", {})
    items: dict[str, dict] = {}
    prov: dict = {}
    if c is not None:
        listed: dict[str, dict[str, Decimal]] = defaultdict(dict)
        published: dict[str, set[str]] = defaultdict(set)
        units: dict[str, set[str]] = defaultdict(set)
        for (item, region), usd in c.values.items():
            listed[item][region] = usd
            published[item].add(c.published.get((item, region)) or run_date)
            units[item] |= c.units[(item, region)]
        surcharge = listed.pop(_EKS_SURCHARGE, {})
        cluster = listed.get("eks/cluster_hour", {})
        ext = {r: cluster[r] + s for r, s in surcharge.items() if r in cluster}
        if ext:
            listed["eks/cluster_extended_support_hour"] = ext
            published["eks/cluster_extended_support_hour"] = published[_EKS_SURCHARGE] | published["eks/cluster_hour"]
            units["eks/cluster_extended_support_hour"] = units[_EKS_SURCHARGE]
        for item in sorted(listed):
            spec = rate_spec(item)
            values = {r: _f(usd * spec.scale) for r, usd in sorted(listed[item].items())}
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
            items[item] = {
                "unit": spec.unit,
                "native_unit": "|".join(sorted(u for u in units[item] if u)) or "?",
                "divide_by": spec.divide_by,
                "policy": spec.policy,
                "base_region": base_region,
                "as_of": _max_date(published[item], run_date),
                "source": f"AWS Price List Query API ({service_code})"
                + (
                    "; = cluster hour + extended-support surcharge"
                    if item == "eks/cluster_extended_support_hour"
                    else ""
                )
                + (f"; x {spec.scale} per Price List unit" if spec.scale != 1 else ""),
                "listed_source": SOURCE,
                "listed": values,
                "derived": derived,
            }
        report.rate_items = len(items)
        report.rows["rates"] = sum(len(v["listed"]) for v in items.values())
        report.locations["rates"] = len({r for v in items.values() for r in v["listed"]})
        report.conflicts += len(c.conflicts)
        if not items:
            report.warnings.append("rates: no scalar rate came back from the API; all items carried over")
        prov = {
            "file": "rates.json",
            "source": SOURCE,
            "sources": {
                SOURCE: "AWS Price List Query API (pricing:GetProducts): per region, "
                + "; ".join(f"{code} {dict(extra) or ''}".strip() for code, extra in _RATE_QUERIES)
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
    for name in sorted(base_items):
        if name not in items:
            items[name] = base_items[name]
            report.carried_over.append(name)
    return dict(sorted(items.items())), prov


class _Base:
    """The snapshot carried over from (``base_dir``); missing files read as empty tables."""

    _EMPTY: ClassVar[dict[str, tuple[dict, str]]] = {  # table -> (header, name of the big prices map)
        "ec2": (
            {
                "schema": SCHEMA,
                "table": "ec2",
                "unit": "hour",
                "bases": {},
                "region_basis": {},
                "basis_overrides": {},
                "region_ratio": {},
            },
            "prices",
        ),
        "ec2_local_zones": (
            {
                "schema": SCHEMA,
                "table": "ec2_local_zones",
                "unit": "hour",
                "bases": {},
                "default_basis": SOURCE,
                "parent_region": {},
                "parent_ratio": {},
                "basis_overrides": {},
            },
            "prices",
        ),
        "rds": (
            {
                "schema": SCHEMA,
                "table": "rds",
                "unit": "hour",
                "deployment": "single-az",
                "bases": {},
                "default_basis": SOURCE,
                "region_ratio": {},
                "engine_aliases": dict(RDS_ENGINE_ALIASES),
                "markup_over_ec2": {},
            },
            "prices",
        ),
        "elasticache": (
            {
                "schema": SCHEMA,
                "table": "elasticache",
                "unit": "hour",
                "bases": {},
                "default_basis": SOURCE,
                "region_ratio": {},
            },
            "prices",
        ),
        "opensearch": (
            {
                "schema": SCHEMA,
                "table": "opensearch",
                "unit": "hour",
                "bases": {},
                "default_basis": SOURCE,
                "region_ratio": {},
                "key_note": "instance types are stored without the '.search' suffix",
            },
            "prices",
        ),
    }

    def __init__(self, base_dir: Path | None) -> None:
        self.dir = Path(base_dir) if base_dir is not None else None

    def has(self, name: str) -> bool:
        return self.dir is not None and (self.dir / name).is_file()

    def bytes(self, name: str) -> bytes:
        assert self.dir is not None
        return (self.dir / name).read_bytes()

    def raw(self, table: str) -> dict | None:
        name = TABLE_FILES.get(table, table)
        if not self.has(name):
            return None
        doc = json.loads(self.bytes(name))
        if doc.get("schema") != SCHEMA:
            raise RefreshError(f"base snapshot {name}: schema {doc.get('schema')!r}, expected {SCHEMA}")
        return doc

    def table(self, table: str, report: RefreshReport) -> tuple[dict, dict]:
        """(header, prices) of a table that is not refreshed: the base's, else an empty table."""
        doc = self.raw(table)
        if doc is None:
            report.warnings.append(f"{table}: not refreshed and no base snapshot to carry over; written empty")
            header = json.loads(json.dumps(self._EMPTY[table][0]))
            # what the price book indexes unconditionally: the default basis and the base region
            header["bases"] = {SOURCE: {"source": SOURCE, "as_of": "", "estimated": False}}
            return header, {BASE_REGION: {}} if table != "ec2_local_zones" else {}
        report.carried_over.append(table)
        prices = doc.pop("prices", {})
        return doc, prices

    def provenance_summary(self) -> dict | None:
        if not self.has("provenance.json"):
            return None
        prov = json.loads(self.bytes("provenance.json"))
        return {k: prov.get(k) for k in ("builder", "source", "source_dataset", "as_of", "input_sha256") if k in prov}


def _notice(as_of: str, run_date: str, carried: list[str], base: _Base) -> str:
    text = (
        _NOTICE_TITLE + _NOTICE_REFRESHED + " (`dd0c-cost pricing refresh`) from the AWS Price List\n"
        f"Query API (pricing:GetProducts), AWS's own published list prices, retrieved {run_date}\n"
        f"(newest publicationDate {as_of or 'n/a'}). Tables and rate items taken from it carry source\n"
        '"aws-price-list"; provenance.json lists what was queried, skipped and derived. Prices missing\n'
        "for a region are estimated from us-east-1 and a regional price ratio (marked estimated).\n"
    )
    if carried:
        tables = [c for c in carried if "/" not in c]
        items = [c for c in carried if "/" in c]
        text += (
            "\nCarried over unchanged from the previous snapshot (names in provenance.json, carried_over_from_base):\n"
        )
        text += "".join(f"  {t}.json\n" for t in tables)
        if items:
            text += f"  {len(items)} scalar-rate items of rates.json\n"
        previous = base.bytes("NOTICE").decode("utf-8") if base.has("NOTICE") else ""
        if previous.startswith(_NOTICE_TITLE + _NOTICE_REFRESHED):
            # the base was itself refreshed: keep only the attribution it carried (no nesting)
            previous = previous.split(_NOTICE_MARKER, 1)[1] if _NOTICE_MARKER in previous else ""
        if previous:
            text += _NOTICE_MARKER + previous
    return text


_NOTICE_TITLE = (
    "dd0c_cost/pricing/data: offline AWS price snapshot\n===================================================\n\n"
)
_NOTICE_REFRESHED = "Refreshed by dd0c_cost_tools.pricing.refresh"
_NOTICE_MARKER = (
    "\nThe notice of that previous snapshot follows verbatim.\n"
    "------------------------------------------------------------------------------\n\n"
)


def _write_all(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write every file next to its target first, then rename each into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for name in sorted(files):
            tmp = out_dir / f".{name}.refresh-tmp"
            tmp.write_bytes(files[name])
            staged.append((tmp, out_dir / name))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- CLI


def _make_client() -> Any:
    """The boto3 Price List client (created only when a refresh runs; never at import)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "pricing", region_name=PRICING_ENDPOINT_REGION, config=Config(retries={"mode": "standard", "max_attempts": 10})
    )


def main(argv: list[str] | None = None) -> int:
    """``dd0c-cost pricing refresh``: 0 done, 2 failed (nothing written)."""
    ap = argparse.ArgumentParser(
        prog="dd0c-cost pricing refresh",
        description="Rebuild the offline price snapshot from the AWS Price List Query API (needs AWS credentials "
        "allowed pricing:GetProducts and pricing:GetAttributeValues).",
    )
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_DATA_DIR, help="output directory (default: the package data dir)"
    )
    ap.add_argument(
        "--regions",
        help="comma-separated region codes (default: every region the Price List has; us-east-1 is always included)",
    )
    ap.add_argument(
        "--services",
        help=f"comma-separated subset of {','.join(ALL_SERVICES)} (default: all); "
        "the rest is carried over from the current snapshot",
    )
    ap.add_argument("--dry-run", action="store_true", help="query and print counts only; write nothing")
    ap.add_argument("--quiet", action="store_true", help="no per-query progress on stderr")
    args = ap.parse_args(argv)

    def split(value: str | None) -> list[str] | None:
        return [v.strip() for v in value.split(",") if v.strip()] if value else None

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        report = refresh(
            _make_client(),
            args.out,
            regions=split(args.regions),
            services=split(args.services) or ALL_SERVICES,
            dry_run=args.dry_run,
            log=None if args.quiet else progress,
        )
    except (RefreshError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # botocore: no credentials, access denied, endpoint unreachable, ...
        if type(exc).__module__.startswith(("botocore", "boto3")):
            print(f"error: AWS Price List API: {exc}", file=sys.stderr)
            return 2
        raise
    for line in report.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
