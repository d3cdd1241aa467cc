"""What the AWS Price List says and how a row is read: the services and tables a refresh
writes, the Price List's locations and engine codes, the scalar-rate items and their units, and
the parsing of one price item into a row and the key it prices."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from dd0c_cost_tools.pricing.snapshot import HOURS_PER_MONTH

SOURCE = "aws-price-list"
PRICING_ENDPOINT_REGION = "us-east-1"
PAGE_SIZE = 100
MAX_PAGES_PER_QUERY = 5_000

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
EKS_SURCHARGE = "_eks/extended_support_surcharge"
_LAMBDA_GROUPS = {
    "AWS-Lambda-Provisioned-Concurrency": "lambda/provisioned_concurrency_gb_second",
    "AWS-Lambda-Provisioned-Concurrency-ARM": "lambda/provisioned_concurrency_arm_gb_second",
    "AWS-Lambda-Duration-Provisioned": "lambda/provisioned_duration_gb_second",
    "AWS-Lambda-Duration-Provisioned-ARM": "lambda/provisioned_duration_arm_gb_second",
}
_ELB_KIND = {"Load Balancer-Application": "alb", "Load Balancer-Network": "nlb", "Load Balancer": "clb"}


class RefreshError(Exception):
    """The API answered something the refresh cannot turn into a usable snapshot."""


# --------------------------------------------------------------------------- Price List parsing


@dataclass(frozen=True)
class PriceRow:
    attrs: dict[str, str]  # product.attributes + productFamily
    usd: Decimal
    unit: str
    published: str  # YYYY-MM-DD or ""


def parse_price_item(raw: str | dict[str, Any]) -> tuple[PriceRow | None, str]:
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
    return PriceRow(attrs, usd, unit, published[:10] if _DATE_RE.match(published) else ""), ""


def region_of(attrs: dict[str, str]) -> str | None:
    """The row's region (or Local Zone) code: ``regionCode``, else mapped from ``location``."""
    code = attrs.get("regionCode")
    if code:
        return code
    return LOCATION_TO_REGION.get(attrs.get("location", ""))


def strip_usage_prefix(usage_type: str) -> str:
    """``EU-NatGateway-Hours`` / ``USE2-NatGateway-Hours`` -> ``NatGateway-Hours``."""
    return _USAGE_PREFIX_RE.sub("", usage_type, count=1)


def ec2_key(attrs: dict[str, str]) -> tuple[str | None, str]:
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


def rds_key(attrs: dict[str, str]) -> tuple[tuple[str, str] | None, str]:
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


def elasticache_key(attrs: dict[str, str]) -> tuple[tuple[str, str] | None, str]:
    if attrs.get("productFamily", "Cache Instance") != "Cache Instance":
        return None, "product_family"
    m = re.fullmatch(r"NodeUsage:(cache\.[a-z0-9.-]+)", strip_usage_prefix(attrs.get("usagetype", "")))
    if m is None:
        return None, "usage_type"
    engine = attrs.get("cacheEngine", "").strip().lower()
    if engine not in {"redis", "valkey", "memcached"}:
        return None, "engine"
    return (engine, m.group(1)), ""


def opensearch_key(attrs: dict[str, str]) -> tuple[str | None, str]:
    if "ESInstance" not in attrs.get("usagetype", ""):
        return None, "usage_type"
    itype = attrs.get("instanceType", "").strip().lower()
    for suffix in (".search", ".elasticsearch"):
        if itype.endswith(suffix):
            return itype[: -len(suffix)], ""
    return None, "usage_type"


def rate_item_of(service_code: str, attrs: dict[str, str]) -> str | None:
    """The ``rates.json`` item a Price List row prices, or None if it is not one we map."""
    usage = strip_usage_prefix(attrs.get("usagetype", ""))
    family = attrs.get("productFamily", "")
    if service_code in ("AmazonEC2", "AmazonVPC", "AWSELB"):
        return _network_and_storage_item(service_code, usage, family, attrs)
    return _service_item(service_code, usage, family, attrs)


def _network_and_storage_item(service_code: str, usage: str, family: str, attrs: dict[str, str]) -> str | None:
    """EC2 (NAT gateways, EBS), VPC (public IPv4, interface endpoints) and ELB rows: one branch per usage type."""
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
    return None


def _service_item(service_code: str, usage: str, family: str, attrs: dict[str, str]) -> str | None:
    """EKS, Lambda, DynamoDB, Kinesis, MSK, SageMaker and Redshift rows: one branch per service."""
    if service_code == "AmazonEKS":
        return {
            "AmazonEKS-Hours:perCluster": "eks/cluster_hour",
            "AmazonEKS-Hours:extendedSupport": EKS_SURCHARGE,
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
    if item == EKS_SURCHARGE:
        return RATE_UNITS["eks/cluster_extended_support_hour"]
    if item.startswith(("msk/", "sagemaker/", "redshift/")):
        return _HOURLY
    return RATE_UNITS[item]
