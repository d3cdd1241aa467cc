"""Pricing parts of compute and networking: EC2 instances and node groups, EBS, public IPv4, NAT
gateways, load balancers, EKS clusters and Lambda provisioned concurrency (named by ``pricers.PRICERS``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dd0c_cost.pricing.quote import UNKNOWN, Quote, from_book, number, text, zero


def ec2_instance(book, region: str, a: Mapping[str, Any]) -> Quote:
    itype = text(a, "instance_type")
    notes: list[str] = []
    estimated = False
    if itype is None:
        return UNKNOWN
    pq = book.ec2_instance(region, itype)
    if pq.usd_per_hour is None:
        return UNKNOWN
    usd = pq.usd_per_hour
    tenancy = (text(a, "tenancy") or "default").lower()
    if tenancy == "host":
        return Quote(0.0, "catalogue;on-dedicated-host-billed-per-host", pq.as_of, True)
    if tenancy == "dedicated":
        notes.append("dedicated:shared-tenancy-lower-bound")
        estimated = True
    platform = text(a, "platform")
    if platform and platform.lower() not in ("linux", "linux/unix"):
        notes.append(f"{platform.lower()}:linux-price-lower-bound")
        estimated = True
    market = (text(a, "market") or text(a, "capacity_type") or "").lower()
    if market == "spot":
        cap = number(a, "spot_max_price")
        if cap is not None and cap < usd:
            usd = cap
            notes.append("spot:max-price-upper-bound")
        else:
            notes.append("spot:on-demand-upper-bound")
        estimated = True
    source = pq.source + "".join(f";{n}" for n in notes)
    return Quote(usd, source, pq.as_of, pq.estimated or estimated)


def ec2_nodes(book, region: str, a: Mapping[str, Any]) -> Quote:
    """EKS managed node group: desired nodes x the EC2 price of its (first) instance type."""
    nodes = number(a, "desired_size")
    estimated = False
    if nodes is None:
        nodes = number(a, "min_size")
        estimated = True
    if nodes is None:
        return UNKNOWN
    attrs = dict(a)
    if text(a, "instance_type") is None:
        attrs["instance_type"] = "t3.medium"  # CreateNodegroup's documented default
        estimated = True
    q = ec2_instance(book, region, attrs)
    if q.usd is None:
        return UNKNOWN
    return Quote(q.usd * nodes, q.source, q.as_of, q.estimated or estimated)


def _ebs_type(a: Mapping[str, Any]) -> tuple[str, bool]:
    vt = text(a, "volume_type")
    return (vt.lower(), False) if vt else ("gp2", True)  # CreateVolume's default type


def ebs_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    size = number(a, "size_gb")
    if size is None:
        return UNKNOWN
    vt, defaulted = _ebs_type(a)
    return from_book(
        book.rate("ebs", f"{vt}_gb_month", region),
        size,
        estimated=defaulted,
        note="default-type-gp2" if defaulted else None,
    )


def ebs_iops(book, region: str, a: Mapping[str, Any]) -> Quote:
    vt, _ = _ebs_type(a)
    iops = number(a, "iops")
    if vt == "gp3":
        extra = max(0.0, (iops or 3000.0) - 3000.0)  # 3,000 IOPS included
        return from_book(book.rate("ebs", "gp3_iops_month", region), extra) if extra else zero("gp3-baseline-iops")
    if vt in ("io1", "io2"):
        if iops is None:
            return UNKNOWN
        tiered = vt == "io2" and iops > 32_000  # io2 is tiered above 32,000: tier-1 rate is an upper bound
        return from_book(
            book.rate("ebs", f"{vt}_iops_month", region),
            iops,
            estimated=tiered,
            note="io2-tier1-rate-upper-bound" if tiered else None,
        )
    return zero("iops-included")


def ebs_throughput(book, region: str, a: Mapping[str, Any]) -> Quote:
    vt, _ = _ebs_type(a)
    if vt != "gp3":
        return zero("throughput-included")
    extra = max(0.0, (number(a, "throughput") or 125.0) - 125.0)  # 125 MiB/s included
    return (
        from_book(book.rate("ebs", "gp3_throughput_mibps_month", region), extra)
        if extra
        else zero("gp3-baseline-throughput")
    )


def ebs_snapshot(book, region: str, a: Mapping[str, Any]) -> Quote:
    size = number(a, "size_gb")
    if size is None:
        return UNKNOWN
    # Snapshots are incremental: the source volume size is an upper bound of what is stored.
    return from_book(
        book.rate("ebs", "snapshot_gb_month", region), size, estimated=True, note="volume-size-upper-bound"
    )


def public_ipv4(book, region: str, a: Mapping[str, Any]) -> Quote:
    pool = text(a, "pool")
    if pool and pool.lower() != "amazon":
        return zero("byoip-address-no-ipv4-charge")
    return from_book(book.rate("ec2", "public_ipv4_hour", region))


def nat_gateway(book, region: str, a: Mapping[str, Any]) -> Quote:
    return from_book(book.rate("ec2", "nat_gateway_hour", region))


_ELB_ITEMS = {"application": "alb_hour", "network": "nlb_hour", "classic": "clb_hour"}


def load_balancer(book, region: str, a: Mapping[str, Any]) -> Quote:
    lb_type = (text(a, "lb_type") or "").lower()
    estimated = False
    if not lb_type:
        arn = text(a, "arn") or ""
        if ":loadbalancer/app/" in arn:
            lb_type = "application"
        elif ":loadbalancer/net/" in arn:
            lb_type = "network"
        elif ":loadbalancer/gwy/" in arn:
            lb_type = "gateway"
        elif text(a, "classic_name"):
            lb_type = "classic"  # ELB v1 (2012-06-01 API) names the load balancer; v2 returns an ARN
        else:
            lb_type, estimated = "application", True  # ELB v2 CreateLoadBalancer's default type
    item = _ELB_ITEMS.get(lb_type)
    if item is None:
        return UNKNOWN  # gateway load balancers: no licensed price
    return from_book(
        book.rate("elb", item, region), estimated=estimated, note="default-type-application" if estimated else None
    )


def eks_cluster(book, region: str, a: Mapping[str, Any]) -> Quote:
    return from_book(book.rate("eks", "cluster_hour", region))


LAMBDA_DEFAULT_MEMORY_MB = 128  # CreateFunction's default MemorySize


def lambda_provisioned_concurrency(book, region: str, a: Mapping[str, Any]) -> Quote:
    """Provisioned concurrency bills GB-seconds of configured memory x concurrency, whether used or
    not. The record does not state the function's memory: without it (from the account or an
    earlier event), the API default 128 MB gives a lower bound (estimated)."""
    concurrency = number(a, "concurrency")
    if concurrency is None:
        return UNKNOWN
    memory = number(a, "memory_mb")
    note = "x86-or-arm-rate"  # the listed rate does not say which architecture
    estimated = memory is None
    if memory is None:
        memory, note = float(LAMBDA_DEFAULT_MEMORY_MB), "memory-unknown:128mb-lower-bound"
    return from_book(
        book.rate("lambda", "provisioned_concurrency_gb_second", region),
        concurrency * memory / 1024.0 * 3600.0,
        estimated=estimated,
        note=note,
    )
