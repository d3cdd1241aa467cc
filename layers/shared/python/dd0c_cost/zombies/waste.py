"""What a zombie costs a month, per component, from the offline price snapshot (``dd0c_cost.pricing``).

Every component is either priced (USD per month = hourly price x 730) or unpriced with a reason;
nothing is invented. Services the snapshot does not cover (SageMaker hosting; Redshift node types
other than dc2.large, ra3.4xlarge, ra3.16xlarge and ds2.8xlarge; RDS gp3/io2 storage) are
reported unpriced, with the reason, so the finding still shows up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dd0c_cost.pricing import PriceBook
from dd0c_cost.zombies.models import HOURS_PER_MONTH, PriceComponent, Resource, ResourceType, Waste

GP3_FREE_IOPS = 3000
GP3_FREE_THROUGHPUT = 125  # MiB/s
IO2_TIER1_MAX_IOPS = 32_000


def _priced(book: PriceBook, component: str, quantity: float, unit: str, quote, what: str) -> PriceComponent:
    if quote.usd_per_hour is None:
        return PriceComponent(component, quantity, unit, None, reason=f"no price for {what} in the snapshot")
    source = quote.source + (" (estimated)" if quote.estimated else "")
    return PriceComponent(component, quantity, unit, quote.usd_per_hour * quantity * HOURS_PER_MONTH, source)


def _unpriced(component: str, quantity: float, unit: str, reason: str) -> PriceComponent:
    return PriceComponent(component, quantity, unit, None, reason=reason)


# --- EBS ----------------------------------------------------------------------------------------


def ebs_volume_components(book: PriceBook, region: str, volume: Mapping[str, Any]) -> list[PriceComponent]:
    """Storage GB x price, plus provisioned IOPS (io1/io2; gp3 above 3,000) and throughput (gp3
    above 125 MiB/s): the parts of an EBS bill that scale with the volume's size and settings."""
    vtype = str(volume.get("volume_type") or "gp2")
    size = float(volume.get("size_gb") or 0)
    iops = float(volume.get("iops") or 0)
    throughput = float(volume.get("throughput") or 0)
    parts = [
        _priced(
            book, "storage", size, "GB-month", book.rate("ebs", f"{vtype}_gb_month", region), f"EBS {vtype} storage"
        )
    ]
    if vtype in {"io1", "io2"} and iops:
        tier1 = min(iops, IO2_TIER1_MAX_IOPS) if vtype == "io2" else iops
        parts.append(
            _priced(
                book,
                "provisioned_iops",
                tier1,
                "IOPS-month",
                book.rate("ebs", f"{vtype}_iops_month", region),
                f"EBS {vtype} IOPS",
            )
        )
        if vtype == "io2" and iops > IO2_TIER1_MAX_IOPS:
            parts.append(
                _unpriced(
                    "provisioned_iops",
                    iops - IO2_TIER1_MAX_IOPS,
                    "IOPS-month",
                    "io2 IOPS above 32,000 (tiers 2-3) are not in the snapshot",
                )
            )
    if vtype == "gp3":
        if iops > GP3_FREE_IOPS:
            parts.append(
                _priced(
                    book,
                    "provisioned_iops",
                    iops - GP3_FREE_IOPS,
                    "IOPS-month",
                    book.rate("ebs", "gp3_iops_month", region),
                    "gp3 IOPS",
                )
            )
        if throughput > GP3_FREE_THROUGHPUT:
            parts.append(
                _priced(
                    book,
                    "throughput",
                    throughput - GP3_FREE_THROUGHPUT,
                    "MiBps-month",
                    book.rate("ebs", "gp3_throughput_mibps_month", region),
                    "gp3 throughput",
                )
            )
    return parts


def _ebs_volume(book: PriceBook, r: Resource) -> list[PriceComponent]:
    return ebs_volume_components(book, r.region, r.attributes)


def _ebs_snapshot(book: PriceBook, r: Resource) -> list[PriceComponent]:
    full_bytes = r.attributes.get("full_snapshot_size_bytes")
    if r.attributes.get("storage_tier") == "archive":
        return [
            _unpriced(
                "snapshot_storage",
                float(r.attributes.get("volume_size_gb") or 0),
                "GB-month",
                "archive-tier snapshot price is not in the snapshot",
            )
        ]
    quote = book.rate("ebs", "snapshot_gb_month", r.region)
    if full_bytes:
        return [
            _priced(
                book, "snapshot_storage", round(float(full_bytes) / 1e9, 3), "GB-month", quote, "EBS snapshot storage"
            )
        ]
    part = _priced(
        book,
        "snapshot_storage",
        float(r.attributes.get("volume_size_gb") or 0),
        "GB-month",
        quote,
        "EBS snapshot storage",
    )
    # Snapshots are incremental: the source volume's size is an upper bound of what this one stores.
    return [
        PriceComponent(
            part.component,
            part.quantity,
            part.unit,
            part.usd_per_month,
            part.source + "; upper bound: volume size",
            part.reason,
        )
    ]


# --- EC2 / EIP / NAT / ELB ----------------------------------------------------------------------


def _ec2_instance(book: PriceBook, r: Resource) -> list[PriceComponent]:
    if r.state == "stopped":
        # Stopped: no instance hours; its volumes keep billing (their own findings are suppressed).
        parts: list[PriceComponent] = []
        for volume in r.attributes.get("volumes") or []:
            for part in ebs_volume_components(book, r.region, volume):
                parts.append(
                    PriceComponent(
                        f"volume {volume.get('volume_id')} {part.component}",
                        part.quantity,
                        part.unit,
                        part.usd_per_month,
                        part.source,
                        part.reason,
                    )
                )
        return parts
    itype = str(r.attributes.get("instance_type") or "")
    parts = [_priced(book, "instance_hours", 1, "instance-month", book.ec2_instance(r.region, itype), f"EC2 {itype}")]
    if r.attributes.get("public_ip"):
        parts.append(
            _priced(
                book, "public_ipv4", 1, "address-month", book.rate("ec2", "public_ipv4_hour", r.region), "public IPv4"
            )
        )
    return parts


def _elastic_ip(book: PriceBook, r: Resource) -> list[PriceComponent]:
    return [
        _priced(book, "public_ipv4", 1, "address-month", book.rate("ec2", "public_ipv4_hour", r.region), "public IPv4")
    ]


def _nat_gateway(book: PriceBook, r: Resource) -> list[PriceComponent]:
    return [
        _priced(
            book, "nat_hours", 1, "gateway-month", book.rate("ec2", "nat_gateway_hour", r.region), "NAT gateway hours"
        )
    ]


def _load_balancer(book: PriceBook, r: Resource) -> list[PriceComponent]:
    item = {"application": "alb_hour", "network": "nlb_hour", "classic": "clb_hour"}.get(
        str(r.attributes.get("lb_type"))
    )
    if item is None:
        return [
            _unpriced(
                "lb_hours", 1, "load-balancer-month", f"{r.attributes.get('lb_type')} load balancers are not priced"
            )
        ]
    return [_priced(book, "lb_hours", 1, "load-balancer-month", book.rate("elb", item, r.region), f"ELB {item}")]


# --- RDS ----------------------------------------------------------------------------------------


def _rds_instance(book: PriceBook, r: Resource) -> list[PriceComponent]:
    a = r.attributes
    cls, engine, multi_az = str(a.get("instance_class") or ""), str(a.get("engine") or ""), bool(a.get("multi_az"))
    single = book.rds_instance(r.region, cls, engine, multi_az=False)
    parts = [_priced(book, "instance_hours", 1, "instance-month", single, f"RDS {engine} {cls}")]
    if multi_az and not engine.startswith("aurora"):
        # Multi-AZ keeps a standby of the same class: the price book's 2 x Single-AZ.
        parts.append(_priced(book, "multi_az", 1, "standby-month", single, f"RDS {engine} {cls} standby"))
    storage_type = str(a.get("storage_type") or "")
    size = float(a.get("allocated_storage_gb") or 0)
    if engine.startswith("aurora") or not size:
        return parts  # Aurora storage is billed per cluster, by use
    if storage_type == "gp2":
        item = "gp2_multi_az_gb_month" if multi_az else "gp2_gb_month"
        parts.append(_priced(book, "storage", size, "GB-month", book.rate("rds", item, r.region), f"RDS {item}"))
    elif storage_type == "io1":
        factor = 2 if multi_az else 1
        parts.append(
            _priced(
                book,
                "storage",
                size * factor,
                "GB-month",
                book.rate("rds", "io1_gb_month", r.region),
                "RDS io1 storage",
            )
        )
        iops = float(a.get("iops") or 0)
        if iops:
            parts.append(
                _priced(
                    book,
                    "provisioned_iops",
                    iops * factor,
                    "IOPS-month",
                    book.rate("rds", "io1_iops_month", r.region),
                    "RDS io1 IOPS",
                )
            )
    else:
        parts.append(
            _unpriced("storage", size, "GB-month", f"RDS {storage_type or 'unknown'} storage is not in the snapshot")
        )
    return parts


# --- managed services ---------------------------------------------------------------------------


def _sagemaker_endpoint(book: PriceBook, r: Resource) -> list[PriceComponent]:
    parts = []
    for v in r.attributes.get("variants") or []:
        count = float(v.get("instances") or 0)
        parts.append(
            _unpriced(
                f"variant {v.get('name')} instance_hours",
                count,
                f"{v.get('instance_type')} instance-month",
                "SageMaker hosting is not in the price snapshot",
            )
        )
    return parts or [_unpriced("instance_hours", 0, "instance-month", "SageMaker hosting is not in the price snapshot")]


def _elasticache_cluster(book: PriceBook, r: Resource) -> list[PriceComponent]:
    node_type, engine = str(r.attributes.get("node_type") or ""), str(r.attributes.get("engine") or "redis")
    count = len(r.attributes.get("nodes") or [])
    return [
        _priced(
            book,
            "node_hours",
            count,
            "node-month",
            book.elasticache_node(r.region, node_type, engine),
            f"ElastiCache {engine} {node_type}",
        )
    ]


def _redshift_cluster(book: PriceBook, r: Resource) -> list[PriceComponent]:
    node_type = str(r.attributes.get("node_type") or "")
    nodes = float(r.attributes.get("nodes") or 1)
    quote = book.rate("redshift", node_type, r.region)
    if quote.usd_per_hour is None:
        return [_unpriced("node_hours", nodes, "node-month", f"Redshift {node_type} is not in the price snapshot")]
    return [_priced(book, "node_hours", nodes, "node-month", quote, f"Redshift {node_type}")]


def _opensearch_domain(book: PriceBook, r: Resource) -> list[PriceComponent]:
    a = r.attributes
    parts = []
    for role, type_key, count_key in (
        ("data_nodes", "instance_type", "instance_count"),
        ("master_nodes", "master_type", "master_count"),
        ("warm_nodes", "warm_type", "warm_count"),
    ):
        count = float(a.get(count_key) or 0)
        if count and a.get(type_key):
            parts.append(
                _priced(
                    book,
                    role,
                    count,
                    "node-month",
                    book.opensearch_instance(r.region, str(a[type_key])),
                    f"OpenSearch {a[type_key]}",
                )
            )
    size = float(a.get("ebs_volume_size_gb") or 0) * float(a.get("instance_count") or 0)
    if size:
        vtype = str(a.get("ebs_volume_type") or "gp2")
        item = {"gp2": "gp2_gb_month", "io1": "io1_gb_month", "standard": "magnetic_gb_month"}.get(vtype)
        if item is None:
            parts.append(_unpriced("storage", size, "GB-month", f"OpenSearch {vtype} storage is not in the snapshot"))
        else:
            parts.append(
                _priced(
                    book,
                    "storage",
                    size,
                    "GB-month",
                    book.rate("opensearch", item, r.region),
                    f"OpenSearch {vtype} storage",
                )
            )
    return parts


_COMPONENTS: dict[ResourceType, Callable[[PriceBook, Resource], list[PriceComponent]]] = {
    ResourceType.EBS_VOLUME: _ebs_volume,
    ResourceType.EBS_SNAPSHOT: _ebs_snapshot,
    ResourceType.EC2_INSTANCE: _ec2_instance,
    ResourceType.ELASTIC_IP: _elastic_ip,
    ResourceType.NAT_GATEWAY: _nat_gateway,
    ResourceType.LOAD_BALANCER: _load_balancer,
    ResourceType.RDS_INSTANCE: _rds_instance,
    ResourceType.SAGEMAKER_ENDPOINT: _sagemaker_endpoint,
    ResourceType.ELASTICACHE_CLUSTER: _elasticache_cluster,
    ResourceType.REDSHIFT_CLUSTER: _redshift_cluster,
    ResourceType.OPENSEARCH_DOMAIN: _opensearch_domain,
}


def waste_of(book: PriceBook, resource: Resource) -> Waste:
    """The monthly waste of a zombie ``resource``, component by component."""
    return Waste(tuple(_COMPONENTS[resource.resource_type](book, resource)))
