"""The event catalogue, as data: one entry per (eventSource, eventName) saying how to read the
resource ids, the quantity and the sizing attributes, and which price applies.

Adding a billable API is adding an entry (and, for a new kind of price, a pricer) — never an
``if`` in the normaliser. How to add one, the pricers and the estimated/unknown rules:
docs/catalogue.md.

Reading a record (:meth:`CatalogueEntry.read`)
    ``resource_ids``: paths, the first that yields values wins (duplicates dropped).
    ``quantity``: paths to a number, used only when there are no resource ids; default: the
    number of resource ids, else 1. Not a finite non-negative number -> ignored (warning);
    above :data:`MAX_QUANTITY` -> clamped (warning).
    ``attributes``: name -> paths; the first scalar found. Numeric names (:data:`NUMERIC_LIMITS`)
    are coerced (``"10"`` -> 10) and clamped, boolean names (:data:`BOOLEANS`) accept
    ``"true"``/``"false"``; a value that cannot be coerced is dropped with a warning. Warnings
    go to ``attributes["input_warnings"]``.
    ``previous`` (modify only): name -> paths to the sizing *before* the call, where the record
    states it (e.g. RDS returns the current class with the new one pending).
    ``assume``: values the API uses when the call omits them, applied before inheritance.

Inheritance
    ``inherit_attributes``: stop/delete/modify calls rarely repeat the sizing; it is taken from
    the resource's latest earlier create/start/modify cost event (event time). ``inherit_from``
    names the resource to inherit from when it is not the call's own (a read replica inherits
    from its source instance).

Pricing (:class:`Pricer`)
    A pricer is a sum of parts; each part names the attributes it depends on. A create/start/
    stop/delete is priced at the full rate of one unit. A modify is priced as the change: the
    sum over the parts whose attributes changed of (new - old), so a storage-only change needs
    no instance class. ``price_source=False`` marks services with no licensed price source: the
    event is still a cost event, with ``price_unknown=True``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from dd0c_cost.events.models import CostAction, PriceQuote
from dd0c_cost.events.paths import Count, Join, Spec, Sum, compile_all, compile_first

# Requests above this are clamped: MaxCount 100000 is a typo or an attack, never a real fleet.
MAX_QUANTITY = 10_000
WARNINGS_KEY = "input_warnings"
ASSUMED_KEY = "assumed"  # names whose value is an API default the record did not state (price estimated)
_MAX_TEXT = 256

# Numeric attributes and the largest value believed (anything above is clamped, with a warning).
NUMERIC_LIMITS: Mapping[str, float] = MappingProxyType({
    "size_gb": 1_048_576,  # 1 PiB (a sum of volumes can exceed one volume's 64 TiB)
    "volume_size": 1_048_576,
    "iops": 1_000_000,
    "throughput": 100_000,
    "nodes": 10_000,
    "instance_count": 10_000,
    "master_count": 100,
    "warm_count": 10_000,
    "num_cache_clusters": 10_000,
    "shards": 1_000,
    "replicas": 100,
    "member_count": 10_000,
    "wcu": 10_000_000,
    "rcu": 10_000_000,
    "gsi_wcu": 10_000_000,
    "gsi_rcu": 10_000_000,
    "shard_count": 100_000,
    "concurrency": 1_000_000,
    "brokers": 10_000,
    "desired_size": 10_000,
    "min_size": 10_000,
    "max_size": 10_000,
    "model_units": 10_000,
    "min_acu": 256,
    "spot_max_price": 10_000,
    "min_count": MAX_QUANTITY,
})
BOOLEANS = frozenset({"multi_az", "master_enabled", "warm_enabled", "ebs_enabled"})


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
    return _q(book.rate("ebs", f"{vt}_gb_month", region), size, estimated=defaulted,
              note="default-type-gp2" if defaulted else None)


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
        return _q(book.rate("ebs", f"{vt}_iops_month", region), iops, estimated=tiered,
                  note="io2-tier1-rate-upper-bound" if tiered else None)
    return zero("iops-included")


def _ebs_throughput(book, region: str, a: Mapping[str, Any]) -> Quote:
    vt, _ = _ebs_type(a)
    if vt != "gp3":
        return zero("throughput-included")
    extra = max(0.0, (_num(a, "throughput") or 125.0) - 125.0)  # 125 MiB/s included
    return _q(book.rate("ebs", "gp3_throughput_mibps_month", region), extra) if extra else zero("gp3-baseline-throughput")


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
    return _q(book.rate("elb", item, region), estimated=estimated, note="default-type-application" if estimated else None)


def _rds_instance(book, region: str, a: Mapping[str, Any]) -> Quote:
    cls = _str(a, "instance_type")
    if cls is None:
        return UNKNOWN
    if cls.lower() == "db.serverless":
        acu = _num(a, "min_acu")
        return _q(book.rate("rds", "aurora_serverless_v2_acu_hour", region), 0.5 if acu is None else acu,
                  estimated=True, note="serverless-v2-minimum-acu")
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
        return _q(book.rate("rds", item, region), size, estimated=st != "gp2",
                  note=None if st == "gp2" else f"{st}-priced-as-gp2")
    if st in ("io1", "io2"):
        return _q(book.rate("rds", "io1_gb_month", region), size * (2 if multi else 1),
                  estimated=multi or st == "io2", note="multi-az=2x" if multi else None)
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
    return _q(book.rate("rds", "io1_iops_month", region), iops * (2 if multi else 1),
              estimated=multi or st == "io2", note="multi-az=2x" if multi else None)


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
        return _q(book.rate("opensearch", "gp2_gb_month", region), per_node, estimated=vt == "gp3",
                  note="gp3-priced-as-gp2-upper-bound" if vt == "gp3" else None)
    if vt == "io1":
        iops = (_num(a, "iops") or 0.0) * (_num(a, "instance_count") or 1.0)
        return _combine([_q(book.rate("opensearch", "io1_gb_month", region), per_node),
                         _q(book.rate("opensearch", "io1_iops_month", region), iops)])
    if vt == "standard":
        return _q(book.rate("opensearch", "magnetic_gb_month", region), per_node)
    return UNKNOWN


def _eks_cluster(book, region: str, a: Mapping[str, Any]) -> Quote:
    return _q(book.rate("eks", "cluster_hour", region))


def _unpriced(book, region: str, a: Mapping[str, Any]) -> Quote:
    return UNKNOWN


_NO_SOURCE = (Part((), _unpriced),)

PRICERS: Mapping[str, Pricer] = MappingProxyType({p.name: p for p in (
    Pricer("ec2_instance", (Part(("instance_type", "tenancy", "platform", "market", "spot_max_price", "launch_template"),
                                 _ec2_instance),)),
    Pricer("ec2_instance_resize", (Part(("instance_type",), _ec2_instance),), change_applies_at_start=True),
    Pricer("ebs_volume", (
        Part(("volume_type", "size_gb"), _ebs_storage),
        Part(("volume_type", "iops"), _ebs_iops),
        Part(("volume_type", "throughput"), _ebs_throughput),
    )),
    Pricer("ebs_snapshot", (Part(("size_gb",), _ebs_snapshot),)),
    Pricer("public_ipv4", (Part(("pool",), _public_ipv4),)),
    Pricer("nat_gateway", (Part((), _nat_gateway),)),
    Pricer("load_balancer", (Part(("lb_type", "arn", "classic_name"), _load_balancer),)),
    Pricer("rds_instance", (
        Part(("instance_type", "engine", "multi_az", "min_acu"), _rds_instance),
        Part(("engine", "instance_type", "storage_gb", "storage_type", "iops", "multi_az"), _rds_storage),
        Part(("engine", "storage_type", "iops", "multi_az"), _rds_iops),
    )),
    # Start/stop: a stopped DB instance still pays for its storage.
    Pricer("rds_instance_hours", (Part(("instance_type", "engine", "multi_az", "min_acu"), _rds_instance),)),
    Pricer("rds_cluster", (
        Part(("engine", "engine_mode", "instance_type"), _rds_cluster_compute),
        Part(("engine", "storage_gb", "storage_type", "iops"), _rds_cluster_storage),
    )),
    Pricer("rds_cluster_hours", (Part(("engine", "engine_mode", "instance_type"), _rds_cluster_compute),)),
    Pricer("rds_snapshot", (Part(("storage_gb",), _rds_snapshot),)),
    Pricer("dynamodb_table", (
        Part(("billing_mode", "wcu", "gsi_wcu"), _ddb_units("provisioned_wcu_hour", "wcu", "gsi_wcu")),
        Part(("billing_mode", "rcu", "gsi_rcu"), _ddb_units("provisioned_rcu_hour", "rcu", "gsi_rcu")),
    )),
    Pricer("elasticache_nodes", (Part(("instance_type", "engine", "nodes", "num_cache_clusters", "shards", "replicas",
                                       "member_count"), _elasticache_nodes),)),
    Pricer("redshift_nodes", (Part(("instance_type", "nodes"), _redshift_nodes),)),
    Pricer("opensearch_domain", (
        Part(("instance_type", "instance_count"), _opensearch_data),
        Part(("master_enabled", "master_type", "master_count"), _opensearch_master),
        Part(("warm_enabled", "warm_type", "warm_count"), _opensearch_warm),
        Part(("ebs_enabled", "volume_type", "volume_size", "iops", "instance_count"), _opensearch_ebs),
    )),
    Pricer("eks_cluster", (Part((), _eks_cluster),)),
    Pricer("eks_nodegroup", (Part(("instance_type", "desired_size", "min_size", "capacity_type"), _ec2_nodes),)),
    # No licensed price source (see docs/pricing.md, "Known gaps"): cost events with price_unknown.
    Pricer("sagemaker", _NO_SOURCE, price_source=False),
    Pricer("msk", _NO_SOURCE, price_source=False),
    Pricer("kinesis", _NO_SOURCE, price_source=False),
    Pricer("lambda_provisioned_concurrency", _NO_SOURCE, price_source=False),
    Pricer("bedrock", _NO_SOURCE, price_source=False),
    Pricer("transit_gateway", _NO_SOURCE, price_source=False),
)})


# --- entries ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assumed:
    """An API default for an omitted value that is a guess about this call (the price becomes
    estimated and the name is listed in ``attributes["assumed"]``); not applied when the
    attribute named by ``unless`` is present (e.g. a launch template holds the real type)."""

    value: Any
    unless: str | None = None


class Reading(NamedTuple):
    """What an entry reads from one record."""

    resource_ids: list[str]
    quantity: float
    attributes: dict[str, Any]
    previous: dict[str, Any]
    warnings: list[str]
    inherit_ids: list[str]


def _coerce(name: str, value: Any, warnings: list[str]) -> Any:
    """The attribute value to keep (None: drop it)."""
    if isinstance(value, (dict, list)):
        return None
    limit = NUMERIC_LIMITS.get(name)
    if limit is not None:
        number = None if isinstance(value, bool) else _as_number(value)
        if number is None or number < 0:
            warnings.append(f"{name}: {str(value)[:40]!r} is not a non-negative number; ignored")
            return None
        if number > limit:
            warnings.append(f"{name}: {number:g} clamped to {limit:g}")
            number = float(limit)
        return int(number) if number.is_integer() else number
    if name in BOOLEANS:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        warnings.append(f"{name}: {str(value)[:40]!r} is not a boolean; ignored")
        return None
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        warnings.append(f"{name}: value longer than {_MAX_TEXT} characters truncated")
        return value[:_MAX_TEXT]
    return value


def _as_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True, eq=False)
class CatalogueEntry:
    event_source: str
    event_name: str
    service: str
    resource_type: str
    action: CostAction
    resource_ids: tuple[Spec, ...] = ()  # paths; the first that yields values wins
    quantity: tuple[Spec, ...] = ()  # paths to a number; default: number of resource ids, else 1
    attributes: Mapping[str, tuple[Spec, ...]] = field(default_factory=dict)  # name -> paths
    pricer: str | None = None  # key in PRICERS
    # Stop/delete/modify calls don't repeat what was created: take the sizing from the resource's
    # earlier cost events (in event time) instead.
    inherit_attributes: bool = False
    inherit_from: tuple[Spec, ...] = ()  # ids to inherit from, when not the call's own resource
    inherit_type: str | None = None  # their resource type, when not this entry's (then only priced names are kept)
    previous: Mapping[str, tuple[Spec, ...]] = field(default_factory=dict)  # modify: sizing before the call
    assume: Mapping[str, Any] = field(default_factory=dict)  # API defaults, applied before inheritance
    note: str = ""  # one line for docs/catalogue.md
    # compiled readers (derived from the fields above)
    _ids: Callable = field(init=False, repr=False, compare=False, default=None)
    _qty: Callable = field(init=False, repr=False, compare=False, default=None)
    _attrs: tuple = field(init=False, repr=False, compare=False, default=())
    _prev: tuple = field(init=False, repr=False, compare=False, default=())
    _inherit: Callable = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.pricer is not None and self.pricer not in PRICERS:
            raise ValueError(f"{self.event_source} {self.event_name}: unknown pricer {self.pricer!r}")
        if self.action is CostAction.MODIFY and not self.attributes:
            raise ValueError(f"{self.event_source} {self.event_name}: a modify entry needs attributes")
        object.__setattr__(self, "_ids", compile_all(tuple(self.resource_ids)))
        object.__setattr__(self, "_qty", compile_first(tuple(self.quantity)))
        object.__setattr__(self, "_attrs", tuple((n, compile_first(tuple(p))) for n, p in self.attributes.items()))
        object.__setattr__(self, "_prev", tuple((n, compile_first(tuple(p))) for n, p in self.previous.items()))
        object.__setattr__(self, "_inherit", compile_all(tuple(self.inherit_from)) if self.inherit_from else None)

    @property
    def price(self) -> Pricer | None:
        return PRICERS[self.pricer] if self.pricer else None

    @property
    def inherits_from_type(self) -> str:
        return self.inherit_type or self.resource_type

    def inheritable(self, inherited: Mapping[str, Any]) -> dict[str, Any]:
        """The inherited attributes this entry takes (another resource type: only what it prices)."""
        out = {k: v for k, v in inherited.items() if k != WARNINGS_KEY}
        if self.inherit_type and self.inherit_type != self.resource_type:
            priced = {k for part in (self.price.parts if self.price else ()) for k in part.depends}
            out = {k: v for k, v in out.items() if k in priced}
        return out

    def describes_change(self, record: dict) -> bool:
        """False for a modify call that touched no sizing attribute (e.g. deletion protection)."""
        if self.action is not CostAction.MODIFY:
            return True
        return any(read(record) is not None for _, read in self._attrs)

    def read(self, record: dict) -> Reading:
        warnings: list[str] = []
        ids: list[str] = []
        for value in self._ids(record):
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                text = str(value)[:_MAX_TEXT]
                if text not in ids:
                    ids.append(text)

        quantity: float | None = None
        if ids:
            quantity = float(len(ids))
        elif self.quantity:
            raw = self._qty(record)
            if raw is not None:
                quantity = None if isinstance(raw, bool) else _as_number(raw)
                if quantity is None or quantity < 0:
                    warnings.append(f"quantity: {str(raw)[:40]!r} is not a non-negative number; assumed 1")
                    quantity = None
                elif quantity > MAX_QUANTITY:
                    warnings.append(f"quantity: {quantity:g} clamped to {MAX_QUANTITY}")
                    quantity = float(MAX_QUANTITY)
        if quantity is None:
            quantity = 1.0

        attributes: dict[str, Any] = {}
        for name, read in self._attrs:
            value = read(record)
            if value is not None:
                value = _coerce(name, value, warnings)
                if value is not None:
                    attributes[name] = value
        assumed: list[str] = []
        for name, value in self.assume.items():
            if name in attributes:
                continue
            if isinstance(value, Assumed):
                if value.unless is not None and attributes.get(value.unless) is not None:
                    continue
                attributes[name] = value.value
                assumed.append(name)
            else:
                attributes[name] = value
        if assumed:
            attributes[ASSUMED_KEY] = assumed
        previous: dict[str, Any] = {}
        for name, read in self._prev:
            value = read(record)
            if value is not None:
                value = _coerce(name, value, warnings)
                if value is not None:
                    previous[name] = value

        if self._inherit is not None:
            inherit_ids = [str(v) for v in self._inherit(record) if isinstance(v, (str, int)) and not isinstance(v, bool)]
        else:
            inherit_ids = ids
        return Reading(ids, quantity, attributes, previous, warnings, inherit_ids)


# --- the entries ---------------------------------------------------------------------------------

_EC2 = "ec2.amazonaws.com"
_RDS = "rds.amazonaws.com"
_ELB = "elasticloadbalancing.amazonaws.com"
_LAMBDA = "lambda.amazonaws.com"
_DDB = "dynamodb.amazonaws.com"
_CACHE = "elasticache.amazonaws.com"
_REDSHIFT = "redshift.amazonaws.com"
_ES = "es.amazonaws.com"
_OPENSEARCH = "opensearch.amazonaws.com"
_SAGEMAKER = "sagemaker.amazonaws.com"
_EKS = "eks.amazonaws.com"
_KAFKA = "kafka.amazonaws.com"
_KINESIS = "kinesis.amazonaws.com"
_BEDROCK = "bedrock.amazonaws.com"

C, S, M, P, D = CostAction.CREATE, CostAction.START, CostAction.MODIFY, CostAction.STOP, CostAction.DELETE

# EC2 instances
_INSTANCE_IDS_RESPONSE = ("responseElements.instancesSet.items[*].instanceId",)
_INSTANCE_IDS_REQUEST = (
    "requestParameters.instancesSet.items[*].instanceId",
    "requestParameters.instanceIds[*]",
    "responseElements.instancesSet.items[*].instanceId",
)
_RUN_INSTANCES_ATTRS = {
    "instance_type": ("responseElements.instancesSet.items[*].instanceType", "requestParameters.instanceType",
                      "requestParameters.instanceType.value"),
    "tenancy": ("responseElements.instancesSet.items[*].placement.tenancy", "requestParameters.placement.tenancy",
                "requestParameters.tenancy"),
    "market": ("requestParameters.instanceMarketOptions.marketType",),
    "spot_max_price": ("requestParameters.instanceMarketOptions.spotOptions.maxPrice",),
    "platform": ("responseElements.instancesSet.items[*].platform",),
    "launch_template": ("requestParameters.launchTemplate.launchTemplateId",
                        "requestParameters.launchTemplate.launchTemplateName"),
    "image_id": ("requestParameters.instancesSet.items[*].imageId", "responseElements.instancesSet.items[*].imageId"),
    "availability_zone": ("responseElements.instancesSet.items[*].placement.availabilityZone",
                          "requestParameters.availabilityZone"),
}

# EBS
_VOLUME_ATTRS = {
    "volume_type": ("responseElements.volumeType", "requestParameters.volumeType"),
    "size_gb": ("responseElements.size", "requestParameters.size"),
    "iops": ("responseElements.iops", "requestParameters.iops"),
    "throughput": ("responseElements.throughput", "requestParameters.throughput"),
    "availability_zone": ("responseElements.zone", "requestParameters.zone"),
}

# RDS
_DB_ID = ("requestParameters.dBInstanceIdentifier", "responseElements.dBInstanceIdentifier")
_DB_ATTRS = {
    "instance_type": ("requestParameters.dBInstanceClass", "responseElements.dBInstanceClass"),
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "multi_az": ("requestParameters.multiAZ", "responseElements.multiAZ"),
    "storage_gb": ("requestParameters.allocatedStorage", "responseElements.allocatedStorage"),
    "storage_type": ("requestParameters.storageType", "responseElements.storageType"),
    "iops": ("requestParameters.iops", "responseElements.iops"),
    "cluster": ("requestParameters.dBClusterIdentifier", "responseElements.dBClusterIdentifier"),
}
_DB_RESPONSE_ATTRS = {name: tuple(p for p in paths if p.startswith("responseElements.")) for name, paths in _DB_ATTRS.items()}
_DB_MODIFIABLE = {
    "instance_type": ("requestParameters.dBInstanceClass", "responseElements.pendingModifiedValues.dBInstanceClass"),
    "multi_az": ("requestParameters.multiAZ", "responseElements.pendingModifiedValues.multiAZ"),
    "storage_gb": ("requestParameters.allocatedStorage", "responseElements.pendingModifiedValues.allocatedStorage"),
    "storage_type": ("requestParameters.storageType", "responseElements.pendingModifiedValues.storageType"),
    "iops": ("requestParameters.iops", "responseElements.pendingModifiedValues.iops"),
}
_DB_CLUSTER_ID = ("requestParameters.dBClusterIdentifier", "responseElements.dBClusterIdentifier")
_DB_CLUSTER_ATTRS = {
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "engine_mode": ("requestParameters.engineMode", "responseElements.engineMode"),
    "instance_type": ("requestParameters.dBClusterInstanceClass", "responseElements.dBClusterInstanceClass"),
    "storage_gb": ("requestParameters.allocatedStorage", "responseElements.allocatedStorage"),
    "storage_type": ("requestParameters.storageType", "responseElements.storageType"),
    "iops": ("requestParameters.iops", "responseElements.iops"),
    "min_acu": ("requestParameters.serverlessV2ScalingConfiguration.minCapacity",
                "responseElements.serverlessV2ScalingConfiguration.minCapacity"),
}
_DB_CLUSTER_RESPONSE_ATTRS = {n: tuple(p for p in ps if p.startswith("responseElements.")) for n, ps in _DB_CLUSTER_ATTRS.items()}
_DB_CLUSTER_MODIFIABLE = {
    "instance_type": ("requestParameters.dBClusterInstanceClass",),
    "storage_gb": ("requestParameters.allocatedStorage",),
    "storage_type": ("requestParameters.storageType",),
    "iops": ("requestParameters.iops",),
}

# ELB (v1 names the load balancer; v2 answers with an ARN)
_LB_IDS_CREATE = ("responseElements.loadBalancers[*].loadBalancerArn", "requestParameters.loadBalancerName")
_LB_IDS_DELETE = ("requestParameters.loadBalancerArn", "requestParameters.loadBalancerName")
_LB_ATTRS = {
    "lb_type": ("responseElements.loadBalancers[*].type", "requestParameters.type"),
    "arn": ("responseElements.loadBalancers[*].loadBalancerArn", "requestParameters.loadBalancerArn"),
    "classic_name": ("requestParameters.loadBalancerName",),
    "scheme": ("responseElements.loadBalancers[*].scheme", "requestParameters.scheme"),
}

# DynamoDB
_TABLE_ID = ("requestParameters.tableName", "responseElements.tableDescription.tableName")
_TABLE_ATTRS = {
    "billing_mode": ("requestParameters.billingMode", "responseElements.tableDescription.billingModeSummary.billingMode"),
    "wcu": ("requestParameters.provisionedThroughput.writeCapacityUnits",
            "responseElements.tableDescription.provisionedThroughput.writeCapacityUnits"),
    "rcu": ("requestParameters.provisionedThroughput.readCapacityUnits",
            "responseElements.tableDescription.provisionedThroughput.readCapacityUnits"),
    "gsi_wcu": (Sum("requestParameters.globalSecondaryIndexes[*].provisionedThroughput.writeCapacityUnits"),
                Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.writeCapacityUnits")),
    "gsi_rcu": (Sum("requestParameters.globalSecondaryIndexes[*].provisionedThroughput.readCapacityUnits"),
                Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.readCapacityUnits")),
}
_TABLE_PREVIOUS = {
    "billing_mode": ("responseElements.tableDescription.billingModeSummary.billingMode",),
    "wcu": ("responseElements.tableDescription.provisionedThroughput.writeCapacityUnits",),
    "rcu": ("responseElements.tableDescription.provisionedThroughput.readCapacityUnits",),
    "gsi_wcu": (Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.writeCapacityUnits"),),
    "gsi_rcu": (Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.readCapacityUnits"),),
}

# ElastiCache
_CACHE_CLUSTER_ID = ("requestParameters.cacheClusterId", "responseElements.cacheClusterId")
_CACHE_CLUSTER_ATTRS = {
    "instance_type": ("requestParameters.cacheNodeType", "responseElements.cacheNodeType"),
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "nodes": ("requestParameters.numCacheNodes", "responseElements.numCacheNodes"),
}
_CACHE_CLUSTER_RESPONSE_ATTRS = {
    "instance_type": ("responseElements.cacheNodeType",),
    "engine": ("responseElements.engine",),
    "nodes": ("responseElements.numCacheNodes",),
}
_REPL_GROUP_ID = ("requestParameters.replicationGroupId", "responseElements.replicationGroupId")
_REPL_GROUP_ATTRS = {
    "instance_type": ("requestParameters.cacheNodeType", "responseElements.cacheNodeType"),
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "num_cache_clusters": ("requestParameters.numCacheClusters",),
    "shards": ("requestParameters.numNodeGroups",),
    "replicas": ("requestParameters.replicasPerNodeGroup",),
    "member_count": (Count("responseElements.memberClusters[*]"),),
}
_REPL_GROUP_RESPONSE_ATTRS = {
    "instance_type": ("responseElements.cacheNodeType",),
    "member_count": (Count("responseElements.memberClusters[*]"),),
}

# Redshift
_REDSHIFT_ID = ("requestParameters.clusterIdentifier", "responseElements.clusterIdentifier")
_REDSHIFT_ATTRS = {
    "instance_type": ("requestParameters.nodeType", "responseElements.nodeType"),
    "nodes": ("requestParameters.numberOfNodes", "responseElements.numberOfNodes"),
}
_REDSHIFT_PREVIOUS = {"instance_type": ("responseElements.nodeType",), "nodes": ("responseElements.numberOfNodes",)}


# OpenSearch / Elasticsearch: the same fields under clusterConfig (OpenSearch API) or
# elasticsearchClusterConfig (legacy API); responses carry them under domainStatus, and an
# Update*DomainConfig response under domainConfig.<option>.options.
def _domain_paths(field_name: str, *, ebs: bool = False, request: bool = True, status: bool = True,
                  config: bool = False) -> tuple[str, ...]:
    groups = ("eBSOptions",) if ebs else ("clusterConfig", "elasticsearchClusterConfig")
    out: list[str] = []
    if request:
        out += [f"requestParameters.{g}.{field_name}" for g in groups]
    if status:
        out += [f"responseElements.domainStatus.{g}.{field_name}" for g in groups]
    if config:
        out += [f"responseElements.domainConfig.{g}.options.{field_name}" for g in groups]
    return tuple(out)


def _domain_attrs(**where: bool) -> dict[str, tuple[str, ...]]:
    return {
        "instance_type": _domain_paths("instanceType", **where),
        "instance_count": _domain_paths("instanceCount", **where),
        "master_enabled": _domain_paths("dedicatedMasterEnabled", **where),
        "master_type": _domain_paths("dedicatedMasterType", **where),
        "master_count": _domain_paths("dedicatedMasterCount", **where),
        "warm_enabled": _domain_paths("warmEnabled", **where),
        "warm_type": _domain_paths("warmType", **where),
        "warm_count": _domain_paths("warmCount", **where),
        "ebs_enabled": _domain_paths("eBSEnabled", ebs=True, **where),
        "volume_type": _domain_paths("volumeType", ebs=True, **where),
        "volume_size": _domain_paths("volumeSize", ebs=True, **where),
        "iops": _domain_paths("iops", ebs=True, **where),
    }


_DOMAIN_ID = ("requestParameters.domainName", "responseElements.domainStatus.domainName")
_DOMAIN_CREATE = _domain_attrs()
_DOMAIN_DELETE = _domain_attrs(request=False)
_DOMAIN_UPDATE = _domain_attrs(status=False)
_DOMAIN_UPDATE_PREVIOUS = _domain_attrs(request=False, status=False, config=True)

# EKS
_NODEGROUP_ID = (Join("/", "requestParameters.clusterName", "requestParameters.nodegroupName"),
                 Join("/", "responseElements.nodegroup.clusterName", "responseElements.nodegroup.nodegroupName"))
_NODEGROUP_ATTRS = {
    "instance_type": ("requestParameters.instanceTypes[*]", "responseElements.nodegroup.instanceTypes[*]"),
    "desired_size": ("requestParameters.scalingConfig.desiredSize", "responseElements.nodegroup.scalingConfig.desiredSize"),
    "min_size": ("requestParameters.scalingConfig.minSize", "responseElements.nodegroup.scalingConfig.minSize"),
    "max_size": ("requestParameters.scalingConfig.maxSize", "responseElements.nodegroup.scalingConfig.maxSize"),
    "capacity_type": ("requestParameters.capacityType", "responseElements.nodegroup.capacityType"),
}

# SageMaker
_NOTEBOOK_ID = ("requestParameters.notebookInstanceName",)
_NOTEBOOK_ATTRS = {
    "instance_type": ("requestParameters.instanceType",),
    "volume_size": ("requestParameters.volumeSizeInGB",),
}

# MSK
_MSK_ID = ("responseElements.clusterArn", "requestParameters.clusterArn", "requestParameters.clusterName")
_MSK_ATTRS = {
    "instance_type": ("requestParameters.brokerNodeGroupInfo.instanceType",
                      "requestParameters.provisioned.brokerNodeGroupInfo.instanceType"),
    "brokers": ("requestParameters.numberOfBrokerNodes", "requestParameters.provisioned.numberOfBrokerNodes"),
    "volume_size": ("requestParameters.brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize",
                    "requestParameters.provisioned.brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize"),
    "serverless": ("requestParameters.serverless.vpcConfigs[*].subnetIds[*]",),
}

# Kinesis
_STREAM_ID = ("requestParameters.streamName", "requestParameters.streamARN", "responseElements.streamName")

_LAMBDA_PC_ID = (Join(":", "requestParameters.functionName", "requestParameters.qualifier"),
                 "requestParameters.functionName")


def _e(source: str, name: str, service: str, resource_type: str, action: CostAction, **kw: Any) -> CatalogueEntry:
    return CatalogueEntry(source, name, service=service, resource_type=resource_type, action=action, **kw)


def _domain_entries(source: str) -> list[CatalogueEntry]:
    common = dict(service="opensearch", resource_type="es:domain", resource_ids=_DOMAIN_ID, pricer="opensearch_domain")
    creates = ("CreateDomain", "CreateElasticsearchDomain") if source == _ES else ("CreateDomain",)
    deletes = ("DeleteDomain", "DeleteElasticsearchDomain") if source == _ES else ("DeleteDomain",)
    updates = ("UpdateDomainConfig", "UpdateElasticsearchDomainConfig") if source == _ES else ("UpdateDomainConfig",)
    out = [CatalogueEntry(source, n, action=C, attributes=_DOMAIN_CREATE, **common) for n in creates]
    out += [CatalogueEntry(source, n, action=D, attributes=_DOMAIN_DELETE, inherit_attributes=True, **common)
            for n in deletes]
    out += [CatalogueEntry(source, n, action=M, attributes=_DOMAIN_UPDATE, previous=_DOMAIN_UPDATE_PREVIOUS,
                           inherit_attributes=True, **common) for n in updates]
    return out


ENTRIES: tuple[CatalogueEntry, ...] = (
    # --- EC2 instances -------------------------------------------------------------------------
    _e(_EC2, "RunInstances", "ec2", "ec2:instance", C, resource_ids=_INSTANCE_IDS_RESPONSE,
       # With no response (redacted), assume the minimum that could have launched.
       quantity=("requestParameters.instancesSet.items[*].minCount", "requestParameters.minCount"),
       attributes=_RUN_INSTANCES_ATTRS, pricer="ec2_instance",
       # RunInstances' documented default type; a launch template holds the real one instead.
       assume={"instance_type": Assumed("m1.small", unless="launch_template")},
       note="count from the response ids (else minCount); spot = on-demand upper bound (or MaxPrice)"),
    _e(_EC2, "StartInstances", "ec2", "ec2:instance", S, resource_ids=_INSTANCE_IDS_REQUEST,
       pricer="ec2_instance", inherit_attributes=True),
    _e(_EC2, "StopInstances", "ec2", "ec2:instance", P, resource_ids=_INSTANCE_IDS_REQUEST,
       pricer="ec2_instance", inherit_attributes=True),
    _e(_EC2, "TerminateInstances", "ec2", "ec2:instance", D, resource_ids=_INSTANCE_IDS_REQUEST,
       pricer="ec2_instance", inherit_attributes=True),
    _e(_EC2, "ModifyInstanceAttribute", "ec2", "ec2:instance", M, resource_ids=("requestParameters.instanceId",),
       attributes={"instance_type": ("requestParameters.instanceType.value", "requestParameters.instanceType")},
       pricer="ec2_instance_resize", inherit_attributes=True,
       note="type change only (needs a stopped instance): $0 now, the new type is priced at the next StartInstances"),
    # --- EBS -------------------------------------------------------------------------------------
    _e(_EC2, "CreateVolume", "ebs", "ec2:volume", C, resource_ids=("responseElements.volumeId",),
       attributes=_VOLUME_ATTRS, pricer="ebs_volume"),
    _e(_EC2, "ModifyVolume", "ebs", "ec2:volume", M,
       resource_ids=("requestParameters.VolumeId", "requestParameters.volumeId",
                     "responseElements.volumeModification.volumeId"),
       attributes={
           "volume_type": ("requestParameters.VolumeType", "requestParameters.volumeType",
                           "responseElements.volumeModification.targetVolumeType"),
           "size_gb": ("requestParameters.Size", "requestParameters.size", "responseElements.volumeModification.targetSize"),
           "iops": ("requestParameters.Iops", "requestParameters.iops", "responseElements.volumeModification.targetIops"),
           "throughput": ("requestParameters.Throughput", "requestParameters.throughput",
                          "responseElements.volumeModification.targetThroughput"),
       },
       previous={
           "volume_type": ("responseElements.volumeModification.originalVolumeType",),
           "size_gb": ("responseElements.volumeModification.originalSize",),
           "iops": ("responseElements.volumeModification.originalIops",),
           "throughput": ("responseElements.volumeModification.originalThroughput",),
       },
       pricer="ebs_volume", inherit_attributes=True),
    _e(_EC2, "DeleteVolume", "ebs", "ec2:volume", D, resource_ids=("requestParameters.volumeId",),
       pricer="ebs_volume", inherit_attributes=True),
    _e(_EC2, "CreateSnapshot", "ebs", "ec2:snapshot", C, resource_ids=("responseElements.snapshotId",),
       attributes={"size_gb": ("responseElements.volumeSize",), "volume_id": ("requestParameters.volumeId",)},
       pricer="ebs_snapshot"),
    _e(_EC2, "DeleteSnapshot", "ebs", "ec2:snapshot", D, resource_ids=("requestParameters.snapshotId",),
       pricer="ebs_snapshot", inherit_attributes=True),
    _e(_EC2, "CreateImage", "ebs", "ec2:image", C, resource_ids=("responseElements.imageId",),
       attributes={"size_gb": (Sum("requestParameters.blockDeviceMapping.items[*].ebs.volumeSize"),),
                   "instance_id": ("requestParameters.instanceId",)},
       pricer="ebs_snapshot", note="the AMI's EBS snapshots, sized from the block-device mapping in the call"),
    # --- EC2 networking --------------------------------------------------------------------------
    _e(_EC2, "AllocateAddress", "ec2", "ec2:elastic-ip", C,
       resource_ids=("responseElements.allocationId", "responseElements.publicIp"),
       attributes={"pool": ("responseElements.publicIpv4Pool", "requestParameters.publicIpv4Pool"),
                   "domain": ("responseElements.domain", "requestParameters.domain")},
       pricer="public_ipv4"),
    _e(_EC2, "ReleaseAddress", "ec2", "ec2:elastic-ip", D,
       resource_ids=("requestParameters.allocationId", "requestParameters.publicIp"),
       pricer="public_ipv4", inherit_attributes=True),
    _e(_EC2, "CreateNatGateway", "ec2", "ec2:natgateway", C,
       resource_ids=("responseElements.natGateway.natGatewayId",),
       attributes={"connectivity": ("requestParameters.ConnectivityType", "responseElements.natGateway.connectivityType"),
                   "subnet_id": ("requestParameters.SubnetId", "responseElements.natGateway.subnetId")},
       pricer="nat_gateway", note="hourly charge only; data processing is usage"),
    _e(_EC2, "DeleteNatGateway", "ec2", "ec2:natgateway", D,
       resource_ids=("requestParameters.NatGatewayId", "responseElements.natGatewayId"),
       pricer="nat_gateway", inherit_attributes=True),
    _e(_EC2, "CreateTransitGatewayVpcAttachment", "ec2", "ec2:transit-gateway-attachment", C,
       resource_ids=("responseElements.transitGatewayVpcAttachment.transitGatewayAttachmentId",),
       attributes={"transit_gateway_id": ("requestParameters.TransitGatewayId",
                                          "responseElements.transitGatewayVpcAttachment.transitGatewayId")},
       pricer="transit_gateway"),
    _e(_EC2, "DeleteTransitGatewayVpcAttachment", "ec2", "ec2:transit-gateway-attachment", D,
       resource_ids=("requestParameters.TransitGatewayAttachmentId",
                     "responseElements.transitGatewayVpcAttachment.transitGatewayAttachmentId"),
       attributes={"transit_gateway_id": ("responseElements.transitGatewayVpcAttachment.transitGatewayId",)},
       pricer="transit_gateway", inherit_attributes=True),
    # --- RDS instances ---------------------------------------------------------------------------
    _e(_RDS, "CreateDBInstance", "rds", "rds:db", C, resource_ids=_DB_ID, attributes=_DB_ATTRS,
       assume={"multi_az": False}, pricer="rds_instance",
       note="instance (Multi-AZ = 2x, estimated) + allocated storage + provisioned IOPS"),
    _e(_RDS, "RestoreDBInstanceFromDBSnapshot", "rds", "rds:db", C, resource_ids=_DB_ID, attributes=_DB_ATTRS,
       assume={"multi_az": False}, pricer="rds_instance"),
    _e(_RDS, "RestoreDBInstanceToPointInTime", "rds", "rds:db", C,
       resource_ids=("requestParameters.targetDBInstanceIdentifier", "responseElements.dBInstanceIdentifier"),
       attributes=_DB_ATTRS, assume={"multi_az": False}, pricer="rds_instance"),
    _e(_RDS, "CreateDBInstanceReadReplica", "rds", "rds:db", C, resource_ids=_DB_ID, attributes=_DB_ATTRS,
       assume={"multi_az": False}, pricer="rds_instance", inherit_attributes=True,
       inherit_from=("requestParameters.sourceDBInstanceIdentifier",),
       note="class and storage default to the source instance's (inherited)"),
    _e(_RDS, "ModifyDBInstance", "rds", "rds:db", M, resource_ids=_DB_ID, attributes=_DB_MODIFIABLE,
       previous=_DB_RESPONSE_ATTRS, pricer="rds_instance", inherit_attributes=True,
       note="change of class/Multi-AZ/storage/IOPS; priced at call time even when applied in the maintenance window"),
    _e(_RDS, "StartDBInstance", "rds", "rds:db", S, resource_ids=_DB_ID, attributes=_DB_RESPONSE_ATTRS,
       pricer="rds_instance_hours", inherit_attributes=True),
    _e(_RDS, "StopDBInstance", "rds", "rds:db", P, resource_ids=_DB_ID, attributes=_DB_RESPONSE_ATTRS,
       pricer="rds_instance_hours", inherit_attributes=True, note="storage keeps billing while stopped"),
    _e(_RDS, "DeleteDBInstance", "rds", "rds:db", D, resource_ids=_DB_ID, attributes=_DB_RESPONSE_ATTRS,
       pricer="rds_instance", inherit_attributes=True),
    # --- RDS clusters ----------------------------------------------------------------------------
    _e(_RDS, "CreateDBCluster", "rds", "rds:cluster", C, resource_ids=_DB_CLUSTER_ID, attributes=_DB_CLUSTER_ATTRS,
       pricer="rds_cluster",
       note="Aurora: $0 (instances are priced on their CreateDBInstance); Multi-AZ DB cluster: 3 instances + storage"),
    _e(_RDS, "RestoreDBClusterFromSnapshot", "rds", "rds:cluster", C, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_ATTRS, pricer="rds_cluster"),
    _e(_RDS, "ModifyDBCluster", "rds", "rds:cluster", M, resource_ids=_DB_CLUSTER_ID, attributes=_DB_CLUSTER_MODIFIABLE,
       previous=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster", inherit_attributes=True),
    _e(_RDS, "StartDBCluster", "rds", "rds:cluster", S, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster_hours", inherit_attributes=True),
    _e(_RDS, "StopDBCluster", "rds", "rds:cluster", P, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster_hours", inherit_attributes=True),
    _e(_RDS, "DeleteDBCluster", "rds", "rds:cluster", D, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster", inherit_attributes=True),
    # --- RDS snapshots ---------------------------------------------------------------------------
    _e(_RDS, "CreateDBSnapshot", "rds", "rds:snapshot", C,
       resource_ids=("requestParameters.dBSnapshotIdentifier", "responseElements.dBSnapshotIdentifier"),
       attributes={"storage_gb": ("responseElements.allocatedStorage",),
                   "db_instance": ("requestParameters.dBInstanceIdentifier",)},
       pricer="rds_snapshot", inherit_attributes=True, inherit_from=("requestParameters.dBInstanceIdentifier",),
       inherit_type="rds:db",
       note="backup storage for the instance's allocated size (inherited from the instance when not in the response)"),
    _e(_RDS, "CopyDBSnapshot", "rds", "rds:snapshot", C,
       resource_ids=("requestParameters.targetDBSnapshotIdentifier", "responseElements.dBSnapshotIdentifier"),
       attributes={"storage_gb": ("responseElements.allocatedStorage",)},
       pricer="rds_snapshot", inherit_attributes=True, inherit_from=("requestParameters.sourceDBSnapshotIdentifier",)),
    _e(_RDS, "DeleteDBSnapshot", "rds", "rds:snapshot", D,
       resource_ids=("requestParameters.dBSnapshotIdentifier", "responseElements.dBSnapshotIdentifier"),
       attributes={"storage_gb": ("responseElements.allocatedStorage",)},
       pricer="rds_snapshot", inherit_attributes=True),
    # --- ELB v1 and v2 ---------------------------------------------------------------------------
    _e(_ELB, "CreateLoadBalancer", "elb", "elasticloadbalancing:loadbalancer", C, resource_ids=_LB_IDS_CREATE,
       attributes=_LB_ATTRS, pricer="load_balancer", note="hourly charge only; LCUs are usage"),
    _e(_ELB, "DeleteLoadBalancer", "elb", "elasticloadbalancing:loadbalancer", D, resource_ids=_LB_IDS_DELETE,
       attributes={"arn": ("requestParameters.loadBalancerArn",), "classic_name": ("requestParameters.loadBalancerName",)},
       pricer="load_balancer", inherit_attributes=True),
    # --- Lambda ----------------------------------------------------------------------------------
    _e(_LAMBDA, "PutProvisionedConcurrencyConfig", "lambda", "lambda:provisioned-concurrency", C,
       resource_ids=_LAMBDA_PC_ID,
       attributes={"concurrency": ("requestParameters.provisionedConcurrentExecutions",
                                   "responseElements.requestedProvisionedConcurrentExecutions")},
       pricer="lambda_provisioned_concurrency"),
    _e(_LAMBDA, "DeleteProvisionedConcurrencyConfig", "lambda", "lambda:provisioned-concurrency", D,
       resource_ids=_LAMBDA_PC_ID, pricer="lambda_provisioned_concurrency", inherit_attributes=True),
    # --- DynamoDB --------------------------------------------------------------------------------
    _e(_DDB, "CreateTable", "dynamodb", "dynamodb:table", C, resource_ids=_TABLE_ID, attributes=_TABLE_ATTRS,
       pricer="dynamodb_table", note="provisioned WCU/RCU incl. GSIs; on-demand tables have no standing charge"),
    _e(_DDB, "UpdateTable", "dynamodb", "dynamodb:table", M, resource_ids=_TABLE_ID,
       attributes={"billing_mode": ("requestParameters.billingMode",),
                   "wcu": ("requestParameters.provisionedThroughput.writeCapacityUnits",),
                   "rcu": ("requestParameters.provisionedThroughput.readCapacityUnits",)},
       previous=_TABLE_PREVIOUS, pricer="dynamodb_table", inherit_attributes=True),
    _e(_DDB, "DeleteTable", "dynamodb", "dynamodb:table", D, resource_ids=_TABLE_ID,
       attributes=_TABLE_PREVIOUS,
       pricer="dynamodb_table", inherit_attributes=True),
    # --- ElastiCache -----------------------------------------------------------------------------
    _e(_CACHE, "CreateCacheCluster", "elasticache", "elasticache:cluster", C, resource_ids=_CACHE_CLUSTER_ID,
       attributes=_CACHE_CLUSTER_ATTRS, pricer="elasticache_nodes"),
    _e(_CACHE, "ModifyCacheCluster", "elasticache", "elasticache:cluster", M, resource_ids=_CACHE_CLUSTER_ID,
       attributes={"instance_type": ("requestParameters.cacheNodeType",), "nodes": ("requestParameters.numCacheNodes",)},
       previous=_CACHE_CLUSTER_RESPONSE_ATTRS, pricer="elasticache_nodes", inherit_attributes=True),
    _e(_CACHE, "DeleteCacheCluster", "elasticache", "elasticache:cluster", D, resource_ids=_CACHE_CLUSTER_ID,
       attributes=_CACHE_CLUSTER_RESPONSE_ATTRS, pricer="elasticache_nodes", inherit_attributes=True),
    _e(_CACHE, "CreateReplicationGroup", "elasticache", "elasticache:replicationgroup", C, resource_ids=_REPL_GROUP_ID,
       attributes=_REPL_GROUP_ATTRS, pricer="elasticache_nodes",
       note="nodes = numCacheClusters, else shards x (replicas + 1), else the member clusters in the response"),
    _e(_CACHE, "ModifyReplicationGroup", "elasticache", "elasticache:replicationgroup", M, resource_ids=_REPL_GROUP_ID,
       attributes={"instance_type": ("requestParameters.cacheNodeType",)}, previous=_REPL_GROUP_RESPONSE_ATTRS,
       pricer="elasticache_nodes", inherit_attributes=True),
    _e(_CACHE, "DeleteReplicationGroup", "elasticache", "elasticache:replicationgroup", D, resource_ids=_REPL_GROUP_ID,
       attributes=_REPL_GROUP_RESPONSE_ATTRS, pricer="elasticache_nodes", inherit_attributes=True),
    # --- Redshift --------------------------------------------------------------------------------
    _e(_REDSHIFT, "CreateCluster", "redshift", "redshift:cluster", C, resource_ids=_REDSHIFT_ID,
       attributes=_REDSHIFT_ATTRS, pricer="redshift_nodes"),
    _e(_REDSHIFT, "RestoreFromClusterSnapshot", "redshift", "redshift:cluster", C, resource_ids=_REDSHIFT_ID,
       attributes=_REDSHIFT_ATTRS, pricer="redshift_nodes"),
    _e(_REDSHIFT, "ModifyCluster", "redshift", "redshift:cluster", M, resource_ids=_REDSHIFT_ID,
       attributes={"instance_type": ("requestParameters.nodeType",), "nodes": ("requestParameters.numberOfNodes",)},
       previous=_REDSHIFT_PREVIOUS, pricer="redshift_nodes", inherit_attributes=True),
    _e(_REDSHIFT, "ResizeCluster", "redshift", "redshift:cluster", M, resource_ids=_REDSHIFT_ID,
       attributes={"instance_type": ("requestParameters.nodeType",), "nodes": ("requestParameters.numberOfNodes",)},
       previous=_REDSHIFT_PREVIOUS, pricer="redshift_nodes", inherit_attributes=True),
    _e(_REDSHIFT, "PauseCluster", "redshift", "redshift:cluster", P, resource_ids=_REDSHIFT_ID,
       pricer="redshift_nodes", inherit_attributes=True),
    _e(_REDSHIFT, "ResumeCluster", "redshift", "redshift:cluster", S, resource_ids=_REDSHIFT_ID,
       pricer="redshift_nodes", inherit_attributes=True),
    _e(_REDSHIFT, "DeleteCluster", "redshift", "redshift:cluster", D, resource_ids=_REDSHIFT_ID,
       pricer="redshift_nodes", inherit_attributes=True),
    # --- OpenSearch / Elasticsearch (both event sources and both API generations) -----------------
    *_domain_entries(_ES),
    *_domain_entries(_OPENSEARCH),
    # --- EKS -------------------------------------------------------------------------------------
    _e(_EKS, "CreateCluster", "eks", "eks:cluster", C,
       resource_ids=("requestParameters.name", "requestParameters.clusterName", "responseElements.cluster.name",
                     "responseElements.cluster.clusterName"),
       attributes={"version": ("requestParameters.version", "responseElements.cluster.version")},
       pricer="eks_cluster", note="control plane only (standard support rate); nodes are priced as EC2 or node groups"),
    _e(_EKS, "DeleteCluster", "eks", "eks:cluster", D,
       resource_ids=("requestParameters.name", "requestParameters.clusterName", "responseElements.cluster.name"),
       pricer="eks_cluster", inherit_attributes=True),
    _e(_EKS, "CreateNodegroup", "eks", "eks:nodegroup", C, resource_ids=_NODEGROUP_ID, attributes=_NODEGROUP_ATTRS,
       pricer="eks_nodegroup",
       note="desired nodes x EC2 price (estimated); the ASG's own RunInstances calls may also arrive"),
    _e(_EKS, "UpdateNodegroupConfig", "eks", "eks:nodegroup", M, resource_ids=_NODEGROUP_ID,
       attributes={"desired_size": ("requestParameters.scalingConfig.desiredSize",),
                   "min_size": ("requestParameters.scalingConfig.minSize",)},
       pricer="eks_nodegroup", inherit_attributes=True),
    _e(_EKS, "DeleteNodegroup", "eks", "eks:nodegroup", D, resource_ids=_NODEGROUP_ID, attributes=_NODEGROUP_ATTRS,
       pricer="eks_nodegroup", inherit_attributes=True),
    # --- SageMaker (no licensed price source) ----------------------------------------------------
    _e(_SAGEMAKER, "CreateEndpoint", "sagemaker", "sagemaker:endpoint", C,
       resource_ids=("requestParameters.endpointName", "responseElements.endpointArn"),
       attributes={"endpoint_config": ("requestParameters.endpointConfigName",)}, pricer="sagemaker"),
    _e(_SAGEMAKER, "DeleteEndpoint", "sagemaker", "sagemaker:endpoint", D, resource_ids=("requestParameters.endpointName",),
       pricer="sagemaker", inherit_attributes=True),
    _e(_SAGEMAKER, "CreateNotebookInstance", "sagemaker", "sagemaker:notebook-instance", C, resource_ids=_NOTEBOOK_ID,
       attributes=_NOTEBOOK_ATTRS, pricer="sagemaker"),
    _e(_SAGEMAKER, "StartNotebookInstance", "sagemaker", "sagemaker:notebook-instance", S, resource_ids=_NOTEBOOK_ID,
       pricer="sagemaker", inherit_attributes=True),
    _e(_SAGEMAKER, "StopNotebookInstance", "sagemaker", "sagemaker:notebook-instance", P, resource_ids=_NOTEBOOK_ID,
       pricer="sagemaker", inherit_attributes=True),
    _e(_SAGEMAKER, "DeleteNotebookInstance", "sagemaker", "sagemaker:notebook-instance", D, resource_ids=_NOTEBOOK_ID,
       pricer="sagemaker", inherit_attributes=True),
    _e(_SAGEMAKER, "CreateTrainingJob", "sagemaker", "sagemaker:training-job", C,
       resource_ids=("requestParameters.trainingJobName",),
       attributes={"instance_type": ("requestParameters.resourceConfig.instanceType",),
                   "instance_count": ("requestParameters.resourceConfig.instanceCount",),
                   "volume_size": ("requestParameters.resourceConfig.volumeSizeInGB",)},
       pricer="sagemaker", note="runs until it finishes; StopTrainingJob ends it early"),
    _e(_SAGEMAKER, "StopTrainingJob", "sagemaker", "sagemaker:training-job", P,
       resource_ids=("requestParameters.trainingJobName",), pricer="sagemaker", inherit_attributes=True),
    # --- MSK, Kinesis, Bedrock (no licensed price source) ----------------------------------------
    _e(_KAFKA, "CreateCluster", "msk", "kafka:cluster", C, resource_ids=_MSK_ID, attributes=_MSK_ATTRS, pricer="msk"),
    _e(_KAFKA, "CreateClusterV2", "msk", "kafka:cluster", C, resource_ids=_MSK_ID, attributes=_MSK_ATTRS, pricer="msk"),
    _e(_KAFKA, "DeleteCluster", "msk", "kafka:cluster", D, resource_ids=_MSK_ID, pricer="msk", inherit_attributes=True),
    _e(_KINESIS, "CreateStream", "kinesis", "kinesis:stream", C, resource_ids=_STREAM_ID,
       attributes={"shard_count": ("requestParameters.shardCount",),
                   "stream_mode": ("requestParameters.streamModeDetails.streamMode",)}, pricer="kinesis"),
    _e(_KINESIS, "UpdateShardCount", "kinesis", "kinesis:stream", M, resource_ids=_STREAM_ID,
       attributes={"shard_count": ("requestParameters.targetShardCount", "responseElements.targetShardCount")},
       previous={"shard_count": ("responseElements.currentShardCount",)}, pricer="kinesis", inherit_attributes=True),
    _e(_KINESIS, "DeleteStream", "kinesis", "kinesis:stream", D, resource_ids=_STREAM_ID, pricer="kinesis",
       inherit_attributes=True),
    _e(_BEDROCK, "CreateModelCustomizationJob", "bedrock", "bedrock:model-customization-job", C,
       resource_ids=("responseElements.jobArn", "requestParameters.jobName"),
       attributes={"base_model": ("requestParameters.baseModelIdentifier",)}, pricer="bedrock"),
    _e(_BEDROCK, "CreateProvisionedModelThroughput", "bedrock", "bedrock:provisioned-model", C,
       resource_ids=("responseElements.provisionedModelArn", "requestParameters.provisionedModelName"),
       attributes={"model_units": ("requestParameters.modelUnits",), "model_id": ("requestParameters.modelId",)},
       pricer="bedrock"),
    _e(_BEDROCK, "DeleteProvisionedModelThroughput", "bedrock", "bedrock:provisioned-model", D,
       resource_ids=("requestParameters.provisionedModelId",), pricer="bedrock", inherit_attributes=True),
)

CATALOGUE: Mapping[tuple[str, str], CatalogueEntry] = MappingProxyType(
    {(e.event_source, e.event_name): e for e in ENTRIES}
)
if len(CATALOGUE) != len(ENTRIES):  # pragma: no cover - a data error caught at import
    raise ValueError("duplicate (eventSource, eventName) in the catalogue")

# Event sources whose CloudTrail eventName carries an API-version suffix
# (PutProvisionedConcurrencyConfig20190930, ...): EventBridge must match these by prefix.
VERSION_SUFFIXED_SOURCES = frozenset({_LAMBDA})
CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail"


def lookup(event_source: str, event_name: str) -> CatalogueEntry | None:
    return CATALOGUE.get((event_source, event_name))


def cost_relevant_event_names() -> dict[str, list[str]]:
    """eventSource -> eventNames, for the EventBridge rules that forward only what we price.

    Names are the base names. For the sources in :data:`VERSION_SUFFIXED_SOURCES` (Lambda)
    CloudTrail appends an API version (``…20150331``, ``…20150331v2``): match those by prefix
    (:func:`event_pattern` does).
    """
    out: dict[str, list[str]] = {}
    for entry in ENTRIES:
        names = out.setdefault(entry.event_source, [])
        if entry.event_name not in names:
            names.append(entry.event_name)
    return out


def _name_matchers(source: str, names: list[str]) -> list:
    if source in VERSION_SUFFIXED_SOURCES:
        return [{"prefix": n} for n in names]
    return list(names)


def event_pattern() -> dict:
    """The EventBridge pattern for every catalogue entry.

    eventSource and eventName are matched independently (a cross product), so the rule also
    lets through a few (source, name) pairs that are not in the catalogue; the normaliser
    drops those as ``not_in_catalogue``. EventBridge's default pattern size limit is 2,048
    characters (adjustable to 4,096); :func:`event_patterns` splits by source under a limit.
    """
    names = cost_relevant_event_names()
    exact: list[str] = []
    prefixes: list[dict] = []
    for source, source_names in names.items():
        for matcher in _name_matchers(source, source_names):
            if isinstance(matcher, dict):
                if matcher not in prefixes:
                    prefixes.append(matcher)
            elif matcher not in exact:
                exact.append(matcher)
    return {
        "source": sorted({"aws." + source.split(".", 1)[0] for source in names}),
        "detail-type": [CLOUDTRAIL_API_CALL],
        "detail": {"eventSource": sorted(names), "eventName": sorted(exact) + prefixes},
    }


def event_patterns(max_chars: int = 2048) -> list[dict]:
    """The same coverage as :func:`event_pattern`, split into patterns of at most ``max_chars``
    (compact JSON) by grouping event sources; one EventBridge rule per pattern."""
    import json

    def pattern(group: dict[str, list[str]]) -> dict:
        exact = sorted({n for s, ns in group.items() if s not in VERSION_SUFFIXED_SOURCES for n in ns})
        prefixes = [{"prefix": n} for s, ns in group.items() if s in VERSION_SUFFIXED_SOURCES for n in ns]
        return {
            "source": sorted({"aws." + s.split(".", 1)[0] for s in group}),
            "detail-type": [CLOUDTRAIL_API_CALL],
            "detail": {"eventSource": sorted(group), "eventName": exact + prefixes},
        }

    def size(p: dict) -> int:
        return len(json.dumps(p, separators=(",", ":")))

    out: list[dict] = []
    group: dict[str, list[str]] = {}
    for source, names in cost_relevant_event_names().items():
        trial = {**group, source: names}
        if group and size(pattern(trial)) > max_chars:
            out.append(pattern(group))
            group = {source: names}
        else:
            group = trial
        if size(pattern(group)) > max_chars:
            raise ValueError(f"the names of {source} alone exceed {max_chars} characters")
    if group:
        out.append(pattern(group))
    return out
