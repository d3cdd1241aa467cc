"""Pricers: the price of one unit of a resource per hour, as a sum of parts, from the price book.

A pricer is a sum of parts; each part names the attributes it depends on. A create/start/stop/
delete is priced at the full rate of one unit. A modify is priced as the change: the sum over the
parts whose attributes changed of (new - old), so a storage-only change needs no instance class.
``price_source=False`` marks services with no licensed price source: the event is still a cost
event, with ``price_unknown=True``. Catalogue entries name their pricer (``dd0c_cost.catalogue``);
how to add one: docs/catalogue.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from dd0c_cost.events.models import PriceQuote

# Attributes whose value is an API default the record did not state (the price becomes estimated);
# the catalogue's reader lists them under this key.
ASSUMED_KEY = "assumed"


# --- prices ------------------------------------------------------------------------------------


class Quote(NamedTuple):
    """A part's price per unit-hour (internal; becomes a PriceQuote)."""

    usd: float | None
    source: str
    as_of: str
    estimated: bool


UNKNOWN = Quote(None, "unknown", "", False)


def zero(reason: str) -> Quote:
    """A known $0/h: the resource has no standing charge of its own (reason says why)."""
    return Quote(0.0, f"catalogue;{reason}", "", False)


def _q(pq: PriceQuote, times: float = 1.0, *, estimated: bool = False, note: str | None = None) -> Quote:
    if pq.usd_per_hour is None:
        return UNKNOWN
    source = pq.source if note is None else f"{pq.source};{note}"
    return Quote(pq.usd_per_hour * times, source, pq.as_of, pq.estimated or estimated)


def _combine(quotes: list[Quote]) -> Quote:
    usd = 0.0
    sources: list[str] = []
    as_of = ""
    estimated = False
    for q in quotes:
        if q.usd is None:
            return UNKNOWN
    priced = [q for q in quotes if q.usd or not q.source.startswith("catalogue;")] or quotes
    for q in quotes:
        usd += q.usd
        if q in priced and q.source and q.source not in sources:
            sources.append(q.source)
        if q.as_of and (not as_of or q.as_of < as_of):
            as_of = q.as_of  # the oldest data behind the price
        estimated = estimated or q.estimated
    return Quote(usd, "+".join(sources) or "catalogue", as_of, estimated)


def to_price_quote(q: Quote) -> PriceQuote:
    # Validated (pydantic-core validation is faster than model_construct for a small model).
    return PriceQuote(
        usd_per_hour=None if q.usd is None else float(f"{q.usd:.12g}"),  # drop float noise (0.1+0.2)
        source=q.source,
        as_of=q.as_of,
        estimated=q.estimated,
        unit="hour",
    )


def _num(a: Mapping[str, Any], key: str) -> float | None:
    v = a.get(key)
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f >= 0 else None


def _str(a: Mapping[str, Any], key: str) -> str | None:
    v = a.get(key)
    return v.strip() if isinstance(v, str) and v.strip() else None


def _bool(a: Mapping[str, Any], key: str) -> bool | None:
    v = a.get(key)
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    return None


PartFn = Callable[[Any, str, Mapping[str, Any]], Quote]


@dataclass(frozen=True, slots=True)
class Part:
    """One priced dimension of a resource and the attributes it depends on."""

    depends: tuple[str, ...]
    fn: PartFn


@dataclass(frozen=True, slots=True)
class Pricer:
    """Price of one unit of a resource per hour, as a sum of parts.

    ``price_source=False``: no licensed price source exists for this service; always unknown.
    ``change_applies_at_start``: a modify that AWS only allows on a stopped resource (EC2
    instance type); its own price change is $0 and the new size is priced at the next start.
    """

    name: str
    parts: tuple[Part, ...]
    price_source: bool = True
    change_applies_at_start: bool = False

    def quote(self, book, region: str, attrs: Mapping[str, Any]) -> Quote:
        if not self.price_source:
            return UNKNOWN
        if len(self.parts) == 1:
            q = self.parts[0].fn(book, region, attrs)
        else:
            q = _combine([p.fn(book, region, attrs) for p in self.parts])
        if attrs.get(ASSUMED_KEY) and q.usd is not None and not q.estimated:
            q = q._replace(estimated=True)
        return q

    def change(self, book, region: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Quote:
        """Price of (after - before), part by part; parts whose attributes did not change add 0."""
        if not self.price_source:
            return UNKNOWN
        if self.change_applies_at_start:
            return zero("resize-of-stopped-resource-priced-at-next-start")
        deltas: list[Quote] = []
        for part in self.parts:
            if all(before.get(k) == after.get(k) for k in part.depends):
                continue
            new = part.fn(book, region, after)
            old = part.fn(book, region, before)
            if new.usd is None or old.usd is None:
                return UNKNOWN
            as_of = min((d for d in (new.as_of, old.as_of) if d), default="")
            deltas.append(Quote(new.usd - old.usd, new.source, as_of, new.estimated or old.estimated))
        if not deltas:
            return zero("no-priced-dimension-changed")
        q = _combine(deltas)
        if after.get(ASSUMED_KEY) and q.usd is not None and not q.estimated:
            q = q._replace(estimated=True)
        return q

    def __call__(self, book, region: str, attrs: Mapping[str, Any]) -> PriceQuote:
        return to_price_quote(self.quote(book, region, attrs))


# --- parts ---------------------------------------------------------------------------------------


def _ec2_instance(book, region: str, a: Mapping[str, Any]) -> Quote:
    itype = _str(a, "instance_type")
    notes: list[str] = []
    estimated = False
    if itype is None:
        return UNKNOWN
    pq = book.ec2_instance(region, itype)
    if pq.usd_per_hour is None:
        return UNKNOWN
    usd = pq.usd_per_hour
    tenancy = (_str(a, "tenancy") or "default").lower()
    if tenancy == "host":
        return Quote(0.0, "catalogue;on-dedicated-host-billed-per-host", pq.as_of, True)
    if tenancy == "dedicated":
        notes.append("dedicated:shared-tenancy-lower-bound")
        estimated = True
    platform = _str(a, "platform")
    if platform and platform.lower() not in ("linux", "linux/unix"):
        notes.append(f"{platform.lower()}:linux-price-lower-bound")
        estimated = True
    market = (_str(a, "market") or _str(a, "capacity_type") or "").lower()
    if market == "spot":
        cap = _num(a, "spot_max_price")
        if cap is not None and cap < usd:
            usd = cap
            notes.append("spot:max-price-upper-bound")
        else:
            notes.append("spot:on-demand-upper-bound")
        estimated = True
    source = pq.source + "".join(f";{n}" for n in notes)
    return Quote(usd, source, pq.as_of, pq.estimated or estimated)


def _ec2_nodes(book, region: str, a: Mapping[str, Any]) -> Quote:
    """EKS managed node group: desired nodes x the EC2 price of its (first) instance type."""
    nodes = _num(a, "desired_size")
    estimated = False
    if nodes is None:
        nodes = _num(a, "min_size")
        estimated = True
    if nodes is None:
        return UNKNOWN
    attrs = dict(a)
    if _str(a, "instance_type") is None:
        attrs["instance_type"] = "t3.medium"  # CreateNodegroup's documented default
        estimated = True
    q = _ec2_instance(book, region, attrs)
    if q.usd is None:
        return UNKNOWN
    return Quote(q.usd * nodes, q.source, q.as_of, q.estimated or estimated)


def _ebs_type(a: Mapping[str, Any]) -> tuple[str, bool]:
    vt = _str(a, "volume_type")
    return (vt.lower(), False) if vt else ("gp2", True)  # CreateVolume's default type


def _ebs_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    size = _num(a, "size_gb")
    if size is None:
        return UNKNOWN
    vt, defaulted = _ebs_type(a)
    return _q(
        book.rate("ebs", f"{vt}_gb_month", region),
        size,
        estimated=defaulted,
        note="default-type-gp2" if defaulted else None,
    )


def _ebs_iops(book, region: str, a: Mapping[str, Any]) -> Quote:
    vt, _ = _ebs_type(a)
    iops = _num(a, "iops")
    if vt == "gp3":
        extra = max(0.0, (iops or 3000.0) - 3000.0)  # 3,000 IOPS included
        return _q(book.rate("ebs", "gp3_iops_month", region), extra) if extra else zero("gp3-baseline-iops")
    if vt in ("io1", "io2"):
        if iops is None:
            return UNKNOWN
        tiered = vt == "io2" and iops > 32_000  # io2 is tiered above 32,000: tier-1 rate is an upper bound
        return _q(
            book.rate("ebs", f"{vt}_iops_month", region),
            iops,
            estimated=tiered,
            note="io2-tier1-rate-upper-bound" if tiered else None,
        )
    return zero("iops-included")


def _ebs_throughput(book, region: str, a: Mapping[str, Any]) -> Quote:
    vt, _ = _ebs_type(a)
    if vt != "gp3":
        return zero("throughput-included")
    extra = max(0.0, (_num(a, "throughput") or 125.0) - 125.0)  # 125 MiB/s included
    return (
        _q(book.rate("ebs", "gp3_throughput_mibps_month", region), extra) if extra else zero("gp3-baseline-throughput")
    )


def _ebs_snapshot(book, region: str, a: Mapping[str, Any]) -> Quote:
    size = _num(a, "size_gb")
    if size is None:
        return UNKNOWN
    # Snapshots are incremental: the source volume size is an upper bound of what is stored.
    return _q(book.rate("ebs", "snapshot_gb_month", region), size, estimated=True, note="volume-size-upper-bound")


def _public_ipv4(book, region: str, a: Mapping[str, Any]) -> Quote:
    pool = _str(a, "pool")
    if pool and pool.lower() != "amazon":
        return zero("byoip-address-no-ipv4-charge")
    return _q(book.rate("ec2", "public_ipv4_hour", region))


def _nat_gateway(book, region: str, a: Mapping[str, Any]) -> Quote:
    return _q(book.rate("ec2", "nat_gateway_hour", region))


_ELB_ITEMS = {"application": "alb_hour", "network": "nlb_hour", "classic": "clb_hour"}


def _load_balancer(book, region: str, a: Mapping[str, Any]) -> Quote:
    lb_type = (_str(a, "lb_type") or "").lower()
    estimated = False
    if not lb_type:
        arn = _str(a, "arn") or ""
        if ":loadbalancer/app/" in arn:
            lb_type = "application"
        elif ":loadbalancer/net/" in arn:
            lb_type = "network"
        elif ":loadbalancer/gwy/" in arn:
            lb_type = "gateway"
        elif _str(a, "classic_name"):
            lb_type = "classic"  # ELB v1 (2012-06-01 API) names the load balancer; v2 returns an ARN
        else:
            lb_type, estimated = "application", True  # ELB v2 CreateLoadBalancer's default type
    item = _ELB_ITEMS.get(lb_type)
    if item is None:
        return UNKNOWN  # gateway load balancers: no licensed price
    return _q(
        book.rate("elb", item, region), estimated=estimated, note="default-type-application" if estimated else None
    )


def _rds_instance(book, region: str, a: Mapping[str, Any]) -> Quote:
    cls = _str(a, "instance_type")
    if cls is None:
        return UNKNOWN
    if cls.lower() == "db.serverless":
        acu = _num(a, "min_acu")
        return _q(
            book.rate("rds", "aurora_serverless_v2_acu_hour", region),
            0.5 if acu is None else acu,
            estimated=True,
            note="serverless-v2-minimum-acu",
        )
    engine = _str(a, "engine")
    if engine is None:
        return UNKNOWN
    return _q(book.rds_instance(region, cls, engine, multi_az=bool(_bool(a, "multi_az"))))


def _rds_storage_type(a: Mapping[str, Any]) -> tuple[str, bool]:
    st = _str(a, "storage_type")
    if st:
        return st.lower(), False
    return ("io1", True) if _num(a, "iops") else ("gp2", True)  # the API's defaults


def _rds_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (_str(a, "engine") or "").lower()
    if engine.startswith("aurora") or (_str(a, "instance_type") or "").lower() == "db.serverless":
        return zero("aurora-cluster-volume-billed-by-use")
    size = _num(a, "storage_gb")
    if size is None:
        return UNKNOWN
    st, _ = _rds_storage_type(a)
    multi = bool(_bool(a, "multi_az"))
    if st in ("gp2", "gp3", "standard"):
        item = "gp2_multi_az_gb_month" if multi else "gp2_gb_month"
        # gp3 lists at the gp2 GB price; magnetic ("standard") is approximated by it.
        return _q(
            book.rate("rds", item, region),
            size,
            estimated=st != "gp2",
            note=None if st == "gp2" else f"{st}-priced-as-gp2",
        )
    if st in ("io1", "io2"):
        return _q(
            book.rate("rds", "io1_gb_month", region),
            size * (2 if multi else 1),
            estimated=multi or st == "io2",
            note="multi-az=2x" if multi else None,
        )
    return UNKNOWN


def _rds_iops(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (_str(a, "engine") or "").lower()
    st, _ = _rds_storage_type(a)
    if engine.startswith("aurora") or st not in ("io1", "io2"):
        return zero("iops-included")
    iops = _num(a, "iops")
    if iops is None:
        return UNKNOWN
    multi = bool(_bool(a, "multi_az"))
    return _q(
        book.rate("rds", "io1_iops_month", region),
        iops * (2 if multi else 1),
        estimated=multi or st == "io2",
        note="multi-az=2x" if multi else None,
    )


def _rds_cluster_compute(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (_str(a, "engine") or "").lower()
    if engine.startswith("aurora"):
        if (_str(a, "engine_mode") or "").lower() == "serverless":
            return UNKNOWN  # Aurora Serverless v1 ACUs: no licensed price
        return zero("aurora-cluster-billed-per-instance")
    cls = _str(a, "instance_type")
    if cls is None or not engine:
        return UNKNOWN
    # Multi-AZ DB cluster (non-Aurora): one writer and two readers.
    return _q(book.rds_instance(region, cls, engine), 3, estimated=True, note="multi-az-cluster=3x-single-az")


def _rds_cluster_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    engine = (_str(a, "engine") or "").lower()
    if engine.startswith("aurora"):
        return zero("aurora-cluster-volume-billed-by-use")
    size = _num(a, "storage_gb")
    if size is None:
        return UNKNOWN
    st, _ = _rds_storage_type(a)
    item = "io1_gb_month" if st in ("io1", "io2") else "gp2_gb_month"
    q = _q(book.rate("rds", item, region), size, estimated=True, note="multi-az-cluster-storage-approx")
    iops = _num(a, "iops")
    if st in ("io1", "io2") and iops:
        q = _combine([q, _q(book.rate("rds", "io1_iops_month", region), iops, estimated=True)])
    return q


def _rds_snapshot(book, region: str, a: Mapping[str, Any]) -> Quote:
    size = _num(a, "storage_gb")
    if size is None:
        return UNKNOWN
    # Manual snapshots bill as backup storage; the allocated size is an upper bound (incremental).
    return _q(book.rate("rds", "backup_gb_month", region), size, estimated=True, note="allocated-size-upper-bound")


def _ddb_on_demand(a: Mapping[str, Any]) -> bool:
    return (_str(a, "billing_mode") or "PROVISIONED").upper() == "PAY_PER_REQUEST"


def _ddb_units(item: str, key: str, gsi_key: str) -> PartFn:
    def part(book, region: str, a: Mapping[str, Any]) -> Quote:
        if _ddb_on_demand(a):
            return zero("on-demand-billed-per-request")
        units = _num(a, key)
        if units is None:
            return UNKNOWN
        return _q(book.rate("dynamodb", item, region), units + (_num(a, gsi_key) or 0.0))

    return part


def _elasticache_nodes(book, region: str, a: Mapping[str, Any]) -> Quote:
    ntype = _str(a, "instance_type")
    if ntype is None:
        return UNKNOWN
    nodes = _num(a, "nodes") or _num(a, "num_cache_clusters")
    if nodes is None:
        shards, replicas = _num(a, "shards"), _num(a, "replicas")
        if shards is not None or replicas is not None:
            nodes = (shards or 1.0) * ((replicas or 0.0) + 1.0)
        else:
            nodes = _num(a, "member_count") or 1.0  # numCacheNodes defaults to 1
    return _q(book.elasticache_node(region, ntype, _str(a, "engine") or "redis"), nodes)


_REDSHIFT_SUCCESSORS = {"dc1.large": "dc2.large"}  # dc2.large launched at dc1.large's price


def _redshift_nodes(book, region: str, a: Mapping[str, Any]) -> Quote:
    ntype = (_str(a, "instance_type") or "").lower()
    if not ntype:
        return UNKNOWN
    nodes = _num(a, "nodes") or 1.0
    item = _REDSHIFT_SUCCESSORS.get(ntype)
    if item is not None:
        return _q(book.rate("redshift", item, region), nodes, estimated=True, note=f"{ntype}-priced-as-{item}")
    return _q(book.rate("redshift", ntype, region), nodes)


def _opensearch_data(book, region: str, a: Mapping[str, Any]) -> Quote:
    itype = _str(a, "instance_type")
    if itype is None:
        return UNKNOWN
    return _q(book.opensearch_instance(region, itype), _num(a, "instance_count") or 1.0)


def _opensearch_master(book, region: str, a: Mapping[str, Any]) -> Quote:
    if not _bool(a, "master_enabled"):
        return zero("no-dedicated-master")
    mtype = _str(a, "master_type")
    if mtype is None:
        return UNKNOWN
    return _q(book.opensearch_instance(region, mtype), _num(a, "master_count") or 3.0)


def _opensearch_warm(book, region: str, a: Mapping[str, Any]) -> Quote:
    if not _bool(a, "warm_enabled"):
        return zero("no-warm-nodes")
    wtype, count = _str(a, "warm_type"), _num(a, "warm_count")
    if wtype is None or count is None:
        return UNKNOWN
    return _q(book.opensearch_instance(region, wtype), count)


def _opensearch_ebs(book, region: str, a: Mapping[str, Any]) -> Quote:
    enabled = _bool(a, "ebs_enabled")
    size = _num(a, "volume_size")
    if enabled is False or (enabled is None and size is None):
        return zero("instance-storage")
    if size is None:
        return UNKNOWN
    per_node = size * (_num(a, "instance_count") or 1.0)
    vt = (_str(a, "volume_type") or "gp2").lower()
    if vt in ("gp2", "gp3"):
        return _q(
            book.rate("opensearch", "gp2_gb_month", region),
            per_node,
            estimated=vt == "gp3",
            note="gp3-priced-as-gp2-upper-bound" if vt == "gp3" else None,
        )
    if vt == "io1":
        iops = (_num(a, "iops") or 0.0) * (_num(a, "instance_count") or 1.0)
        return _combine(
            [
                _q(book.rate("opensearch", "io1_gb_month", region), per_node),
                _q(book.rate("opensearch", "io1_iops_month", region), iops),
            ]
        )
    if vt == "standard":
        return _q(book.rate("opensearch", "magnetic_gb_month", region), per_node)
    return UNKNOWN


def _eks_cluster(book, region: str, a: Mapping[str, Any]) -> Quote:
    return _q(book.rate("eks", "cluster_hour", region))


_MSK_TYPE = re.compile(r"^kafka\.([a-z0-9-]+)\.([a-z0-9-]+)$")


def _msk_broker_rate(book, region: str, btype: str) -> Quote:
    """One MSK broker: the listed rate, else the listed broker of the same family scaled by the
    EC2 price ratio of the two sizes (MSK prices a family linearly in size, as EC2 does; estimated)."""
    listed = book.rate("msk", btype, region)
    if listed.usd_per_hour is not None:
        return _q(listed)
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
        return _q(
            anchor,
            ec2_new.usd_per_hour / ec2_anchor.usd_per_hour,
            estimated=True,
            note=f"{item}*ec2-size-ratio",
        )
    return UNKNOWN


def _msk_brokers(book, region: str, a: Mapping[str, Any]) -> Quote:
    if _str(a, "serverless"):
        return UNKNOWN  # MSK Serverless cluster-hours and partition-hours: no licensed price
    btype = (_str(a, "instance_type") or "").lower()
    brokers = _num(a, "brokers")
    if not btype or brokers is None:
        return UNKNOWN
    q = _msk_broker_rate(book, region, btype)
    return q if q.usd is None else q._replace(usd=q.usd * brokers)


def _msk_storage(book, region: str, a: Mapping[str, Any]) -> Quote:
    if _str(a, "serverless"):
        return zero("serverless-storage-billed-by-use")
    size, brokers = _num(a, "volume_size"), _num(a, "brokers")
    if size is None or brokers is None:
        return UNKNOWN
    return _q(book.rate("msk", "storage_gb_month", region), size * brokers)  # volumeSize is per broker


def _kinesis_stream(book, region: str, a: Mapping[str, Any]) -> Quote:
    mode = (_str(a, "stream_mode") or "PROVISIONED").upper()
    if mode == "ON_DEMAND":
        # The stream-hour is the standing charge; data in/out is usage (the usage path sees it).
        return _q(book.rate("kinesis", "on_demand_stream_hour", region))
    shards = _num(a, "shard_count")
    if shards is None:
        return UNKNOWN
    return _q(book.rate("kinesis", "shard_hour", region), shards)


LAMBDA_DEFAULT_MEMORY_MB = 128  # CreateFunction's default MemorySize


def _lambda_provisioned_concurrency(book, region: str, a: Mapping[str, Any]) -> Quote:
    """Provisioned concurrency bills GB-seconds of configured memory x concurrency, whether used or
    not. The record does not state the function's memory: without it (from the account or an
    earlier event), the API default 128 MB gives a lower bound (estimated)."""
    concurrency = _num(a, "concurrency")
    if concurrency is None:
        return UNKNOWN
    memory = _num(a, "memory_mb")
    note = "x86-or-arm-rate"  # the listed rate does not say which architecture
    estimated = memory is None
    if memory is None:
        memory, note = float(LAMBDA_DEFAULT_MEMORY_MB), "memory-unknown:128mb-lower-bound"
    return _q(
        book.rate("lambda", "provisioned_concurrency_gb_second", region),
        concurrency * memory / 1024.0 * 3600.0,
        estimated=estimated,
        note=note,
    )


def _unpriced(book, region: str, a: Mapping[str, Any]) -> Quote:
    return UNKNOWN


_NO_SOURCE = (Part((), _unpriced),)
# SageMaker: the sizing is still read (and inherited) so that shape-based scoring can use it.
_SAGEMAKER_SHAPE = (Part(("instance_type", "instance_count", "volume_size"), _unpriced),)
_BEDROCK_SHAPE = (Part(("model_units", "model_id"), _unpriced),)

# Why each unpriced pricer has no price (docs/pricing.md "Known gaps"; listed by the corpus test).
NO_PRICE_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "sagemaker": "SageMaker ml.* instance rates are in no permissively licensed source we hold "
        "(shared/pricing, shared/pricing-extra); `pricing refresh` reads them from the AWS Price List API",
        "bedrock": "Bedrock provisioned throughput is priced per model and term on the console only; "
        "no public list-price source",
        "transit_gateway": "Transit Gateway attachment hours are in no permissively licensed source we hold",
    }
)

PRICERS: Mapping[str, Pricer] = MappingProxyType(
    {
        p.name: p
        for p in (
            Pricer(
                "ec2_instance",
                (
                    Part(
                        ("instance_type", "tenancy", "platform", "market", "spot_max_price", "launch_template"),
                        _ec2_instance,
                    ),
                ),
            ),
            Pricer("ec2_instance_resize", (Part(("instance_type",), _ec2_instance),), change_applies_at_start=True),
            Pricer(
                "ebs_volume",
                (
                    Part(("volume_type", "size_gb"), _ebs_storage),
                    Part(("volume_type", "iops"), _ebs_iops),
                    Part(("volume_type", "throughput"), _ebs_throughput),
                ),
            ),
            Pricer("ebs_snapshot", (Part(("size_gb",), _ebs_snapshot),)),
            Pricer("public_ipv4", (Part(("pool",), _public_ipv4),)),
            Pricer("nat_gateway", (Part((), _nat_gateway),)),
            Pricer("load_balancer", (Part(("lb_type", "arn", "classic_name"), _load_balancer),)),
            Pricer(
                "rds_instance",
                (
                    Part(("instance_type", "engine", "multi_az", "min_acu"), _rds_instance),
                    Part(("engine", "instance_type", "storage_gb", "storage_type", "iops", "multi_az"), _rds_storage),
                    Part(("engine", "storage_type", "iops", "multi_az"), _rds_iops),
                ),
            ),
            # Start/stop: a stopped DB instance still pays for its storage.
            Pricer("rds_instance_hours", (Part(("instance_type", "engine", "multi_az", "min_acu"), _rds_instance),)),
            Pricer(
                "rds_cluster",
                (
                    Part(("engine", "engine_mode", "instance_type"), _rds_cluster_compute),
                    Part(("engine", "storage_gb", "storage_type", "iops"), _rds_cluster_storage),
                ),
            ),
            Pricer("rds_cluster_hours", (Part(("engine", "engine_mode", "instance_type"), _rds_cluster_compute),)),
            Pricer("rds_snapshot", (Part(("storage_gb",), _rds_snapshot),)),
            Pricer(
                "dynamodb_table",
                (
                    Part(("billing_mode", "wcu", "gsi_wcu"), _ddb_units("provisioned_wcu_hour", "wcu", "gsi_wcu")),
                    Part(("billing_mode", "rcu", "gsi_rcu"), _ddb_units("provisioned_rcu_hour", "rcu", "gsi_rcu")),
                ),
            ),
            Pricer(
                "elasticache_nodes",
                (
                    Part(
                        (
                            "instance_type",
                            "engine",
                            "nodes",
                            "num_cache_clusters",
                            "shards",
                            "replicas",
                            "member_count",
                        ),
                        _elasticache_nodes,
                    ),
                ),
            ),
            Pricer("redshift_nodes", (Part(("instance_type", "nodes"), _redshift_nodes),)),
            Pricer(
                "opensearch_domain",
                (
                    Part(("instance_type", "instance_count"), _opensearch_data),
                    Part(("master_enabled", "master_type", "master_count"), _opensearch_master),
                    Part(("warm_enabled", "warm_type", "warm_count"), _opensearch_warm),
                    Part(("ebs_enabled", "volume_type", "volume_size", "iops", "instance_count"), _opensearch_ebs),
                ),
            ),
            Pricer("eks_cluster", (Part((), _eks_cluster),)),
            Pricer(
                "eks_nodegroup", (Part(("instance_type", "desired_size", "min_size", "capacity_type"), _ec2_nodes),)
            ),
            Pricer(
                "msk",
                (
                    Part(("instance_type", "brokers", "serverless"), _msk_brokers),
                    Part(("volume_size", "brokers", "serverless"), _msk_storage),
                ),
            ),
            Pricer("kinesis", (Part(("shard_count", "stream_mode"), _kinesis_stream),)),
            Pricer(
                "lambda_provisioned_concurrency",
                (Part(("concurrency", "memory_mb"), _lambda_provisioned_concurrency),),
            ),
            Pricer(
                "sagemaker_endpoint_config", (Part((), lambda b, r, a: zero("endpoint-config-bills-nothing-itself")),)
            ),
            # No licensed price source (NO_PRICE_REASONS): cost events with price_unknown, scored on their shape.
            Pricer("sagemaker", _SAGEMAKER_SHAPE, price_source=False),
            Pricer("bedrock", _BEDROCK_SHAPE, price_source=False),
            Pricer("transit_gateway", _NO_SOURCE, price_source=False),
        )
    }
)
