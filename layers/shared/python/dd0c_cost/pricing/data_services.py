"""Pricing parts of managed data services: RDS and Aurora, DynamoDB, ElastiCache, Redshift, OpenSearch,
MSK and Kinesis (named by ``pricers.PRICERS``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dd0c_cost.pricing.quote import UNKNOWN, PartFn, Quote, combine, flag, from_book, number, text, zero


def rds_instance(book, region: str, a: Mapping[str, Any]) -> Quote:
    cls = text(a, "instance_type")
    if cls is None:
        return UNKNOWN
    if cls.lower() == "db.serverless":
        acu = number(a, "min_acu")
        return from_book(
            book.rate("rds", "aurora_serverless_v2_acu_hour", region),
            0.5 if acu is None else acu,
            estimated=True,
            note="serverless-v2-minimum-acu",
        )
    engine = text(a, "engine")
    if engine is None:
        return UNKNOWN
    return from_book(book.rds_instance(region, cls, engine, multi_az=bool(flag(a, "multi_az"))))


def _rds_storage_type(a: Mapping[str, Any]) -> tuple[str, bool]:
    st = text(a, "storage_type")
    if st:
        return st.lower(), False
    return ("io1", True) if number(a, "iops") else ("gp2", True)  # the API's defaults


def rds_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (text(a, "engine") or "").lower()
    if engine.startswith("aurora") or (text(a, "instance_type") or "").lower() == "db.serverless":
        return zero("aurora-cluster-volume-billed-by-use")
    size = number(a, "storage_gb")
    if size is None:
        return UNKNOWN
    st, _ = _rds_storage_type(a)
    multi = bool(flag(a, "multi_az"))
    if st in ("gp2", "gp3", "standard"):
        item = "gp2_multi_az_gb_month" if multi else "gp2_gb_month"
        # gp3 lists at the gp2 GB price; magnetic ("standard") is approximated by it.
        return from_book(
            book.rate("rds", item, region),
            size,
            estimated=st != "gp2",
            note=None if st == "gp2" else f"{st}-priced-as-gp2",
        )
    if st in ("io1", "io2"):
        return from_book(
            book.rate("rds", "io1_gb_month", region),
            size * (2 if multi else 1),
            estimated=multi or st == "io2",
            note="multi-az=2x" if multi else None,
        )
    return UNKNOWN


def rds_iops(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (text(a, "engine") or "").lower()
    st, _ = _rds_storage_type(a)
    if engine.startswith("aurora") or st not in ("io1", "io2"):
        return zero("iops-included")
    iops = number(a, "iops")
    if iops is None:
        return UNKNOWN
    multi = bool(flag(a, "multi_az"))
    return from_book(
        book.rate("rds", "io1_iops_month", region),
        iops * (2 if multi else 1),
        estimated=multi or st == "io2",
        note="multi-az=2x" if multi else None,
    )


def rds_cluster_compute(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (text(a, "engine") or "").lower()
    if engine.startswith("aurora"):
        if (text(a, "engine_mode") or "").lower() == "serverless":
            return UNKNOWN  # Aurora Serverless v1 ACUs: no licensed price
        return zero("aurora-cluster-billed-per-instance")
    cls = text(a, "instance_type")
    if cls is None or not engine:
        return UNKNOWN
    # Multi-AZ DB cluster (non-Aurora): one writer and two readers.
    return from_book(book.rds_instance(region, cls, engine), 3, estimated=True, note="multi-az-cluster=3x-single-az")


def rds_cluster_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (text(a, "engine") or "").lower()
    if engine.startswith("aurora"):
        return zero("aurora-cluster-volume-billed-by-use")
    size = number(a, "storage_gb")
    if size is None:
        return UNKNOWN
    st, _ = _rds_storage_type(a)
    item = "io1_gb_month" if st in ("io1", "io2") else "gp2_gb_month"
    q = from_book(book.rate("rds", item, region), size, estimated=True, note="multi-az-cluster-storage-approx")
    iops = number(a, "iops")
    if st in ("io1", "io2") and iops:
        q = combine([q, from_book(book.rate("rds", "io1_iops_month", region), iops, estimated=True)])
    return q


def rds_snapshot(book, region: str, a: Mapping[str, Any]) -> Quote:
    size = number(a, "storage_gb")
    if size is None:
        return UNKNOWN
    # Manual snapshots bill as backup storage; the allocated size is an upper bound (incremental).
    return from_book(
        book.rate("rds", "backup_gb_month", region), size, estimated=True, note="allocated-size-upper-bound"
    )


def _ddb_on_demand(a: Mapping[str, Any]) -> bool:
    return (text(a, "billing_mode") or "PROVISIONED").upper() == "PAY_PER_REQUEST"


def ddb_units(item: str, key: str, gsi_key: str) -> PartFn:
    def part(book, region: str, a: Mapping[str, Any]) -> Quote:
        if _ddb_on_demand(a):
            return zero("on-demand-billed-per-request")
        units = number(a, key)
        if units is None:
            return UNKNOWN
        return from_book(book.rate("dynamodb", item, region), units + (number(a, gsi_key) or 0.0))

    return part


def elasticache_nodes(book, region: str, a: Mapping[str, Any]) -> Quote:
    ntype = text(a, "instance_type")
    if ntype is None:
        return UNKNOWN
    nodes = number(a, "nodes") or number(a, "num_cache_clusters")
    if nodes is None:
        shards, replicas = number(a, "shards"), number(a, "replicas")
        if shards is not None or replicas is not None:
            nodes = (shards or 1.0) * ((replicas or 0.0) + 1.0)
        else:
            nodes = number(a, "member_count") or 1.0  # numCacheNodes defaults to 1
    return from_book(book.elasticache_node(region, ntype, text(a, "engine") or "redis"), nodes)


_REDSHIFT_SUCCESSORS = {"dc1.large": "dc2.large"}  # dc2.large launched at dc1.large's price


def redshift_nodes(book, region: str, a: Mapping[str, Any]) -> Quote:
    ntype = (text(a, "instance_type") or "").lower()
    if not ntype:
        return UNKNOWN
    nodes = number(a, "nodes") or 1.0
    item = _REDSHIFT_SUCCESSORS.get(ntype)
    if item is not None:
        return from_book(book.rate("redshift", item, region), nodes, estimated=True, note=f"{ntype}-priced-as-{item}")
    return from_book(book.rate("redshift", ntype, region), nodes)


def opensearch_data(book, region: str, a: Mapping[str, Any]) -> Quote:
    itype = text(a, "instance_type")
    if itype is None:
        return UNKNOWN
    return from_book(book.opensearch_instance(region, itype), number(a, "instance_count") or 1.0)


def opensearch_master(book, region: str, a: Mapping[str, Any]) -> Quote:
    if not flag(a, "master_enabled"):
        return zero("no-dedicated-master")
    mtype = text(a, "master_type")
    if mtype is None:
        return UNKNOWN
    return from_book(book.opensearch_instance(region, mtype), number(a, "master_count") or 3.0)


def opensearch_warm(book, region: str, a: Mapping[str, Any]) -> Quote:
    if not flag(a, "warm_enabled"):
        return zero("no-warm-nodes")
    wtype, count = text(a, "warm_type"), number(a, "warm_count")
    if wtype is None or count is None:
        return UNKNOWN
    return from_book(book.opensearch_instance(region, wtype), count)


def opensearch_ebs(book, region: str, a: Mapping[str, Any]) -> Quote:
    enabled = flag(a, "ebs_enabled")
    size = number(a, "volume_size")
    if enabled is False or (enabled is None and size is None):
        return zero("instance-storage")
    if size is None:
        return UNKNOWN
    per_node = size * (number(a, "instance_count") or 1.0)
    vt = (text(a, "volume_type") or "gp2").lower()
    if vt in ("gp2", "gp3"):
        return from_book(
            book.rate("opensearch", "gp2_gb_month", region),
            per_node,
            estimated=vt == "gp3",
            note="gp3-priced-as-gp2-upper-bound" if vt == "gp3" else None,
        )
    if vt == "io1":
        iops = (number(a, "iops") or 0.0) * (number(a, "instance_count") or 1.0)
        return combine(
            [
                from_book(book.rate("opensearch", "io1_gb_month", region), per_node),
                from_book(book.rate("opensearch", "io1_iops_month", region), iops),
            ]
        )
    if vt == "standard":
        return from_book(book.rate("opensearch", "magnetic_gb_month", region), per_node)
    return UNKNOWN


_MSK_TYPE = re.compile(r"^kafka\.([a-z0-9-]+)\.([a-z0-9-]+)$")


def _msk_broker_rate(book, region: str, btype: str) -> Quote:
    """One MSK broker: the listed rate, else the listed broker of the same family scaled by the
    EC2 price ratio of the two sizes (MSK prices a family linearly in size, as EC2 does; estimated)."""
    listed = book.rate("msk", btype, region)
    if listed.usd_per_hour is not None:
        return from_book(listed)
    m = _MSK_TYPE.match(btype)
    if m is None:
        return UNKNOWN
    family = m.group(1)
    for service, item in sorted(book.rate_items()):
        if service != "msk" or not item.startswith(f"kafka.{family}."):
            continue
        anchor = book.rate("msk", item, region)
        ec2_new = book.ec2_instance(region, btype[len("kafka.") :])
        ec2_anchor = book.ec2_instance(region, item[len("kafka.") :])
        if anchor.usd_per_hour is None or not ec2_new.usd_per_hour or not ec2_anchor.usd_per_hour:
            continue
        return from_book(
            anchor,
            ec2_new.usd_per_hour / ec2_anchor.usd_per_hour,
            estimated=True,
            note=f"{item}*ec2-size-ratio",
        )
    return UNKNOWN


def msk_brokers(book, region: str, a: Mapping[str, Any]) -> Quote:
    if text(a, "serverless"):
        return UNKNOWN  # MSK Serverless cluster-hours and partition-hours: no licensed price
    btype = (text(a, "instance_type") or "").lower()
    brokers = number(a, "brokers")
    if not btype or brokers is None:
        return UNKNOWN
    q = _msk_broker_rate(book, region, btype)
    return q if q.usd is None else q._replace(usd=q.usd * brokers)


def msk_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    if text(a, "serverless"):
        return zero("serverless-storage-billed-by-use")
    size, brokers = number(a, "volume_size"), number(a, "brokers")
    if size is None or brokers is None:
        return UNKNOWN
    return from_book(book.rate("msk", "storage_gb_month", region), size * brokers)  # volumeSize is per broker


def kinesis_stream(book, region: str, a: Mapping[str, Any]) -> Quote:
    mode = (text(a, "stream_mode") or "PROVISIONED").upper()
    if mode == "ON_DEMAND":
        # The stream-hour is the standing charge; data in/out is usage (the usage path sees it).
        return from_book(book.rate("kinesis", "on_demand_stream_hour", region))
    shards = number(a, "shard_count")
    if shards is None:
        return UNKNOWN
    return from_book(book.rate("kinesis", "shard_hour", region), shards)
