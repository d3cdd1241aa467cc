"""The price book: lookups over the offline snapshot in ``pricing/data`` (see the package docstring).

Nothing is read at import time. Each table is read on the first lookup that needs it and kept for
the life of the process; every answer is memoised per distinct argument tuple, so the hot path of
a repeated lookup is one dict ``get``.
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from dd0c_cost.events.models import PriceQuote
from dd0c_cost.pricing.derive import sig6

SCHEMA = 1
BASE_REGION = "us-east-1"
UNKNOWN_SOURCE = "unknown"
# Memoised answers are dropped (all at once) beyond this many distinct lookups, so garbage input
# (random instance types in hostile records) cannot grow memory without bound.
_QUOTE_CACHE_LIMIT = 65_536
_OPENSEARCH_SUFFIXES = (".search", ".elasticsearch")
_GRAVITON_FAMILY_RE = re.compile(r"^[a-z]+\d+g")


class _Price(NamedTuple):
    usd: float
    source: str
    as_of: str
    estimated: bool


def _derived(base: _Price, factor: float, method: str) -> _Price:
    return _Price(sig6(base.usd * factor), f"{base.source};{method}", base.as_of, True)


class PriceBook:
    """Read-only price lookups. Unknown region/type/item gives ``usd_per_hour=None``, never raises.

    ``data_dir`` is for tests and tools; by default the snapshot shipped in the package is used.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._lock = threading.Lock()
        self._tables: dict[str, dict[str, Any]] = {}
        self._quotes: dict[tuple, PriceQuote] = {}

    # ------------------------------------------------------------------ public API

    def ec2_instance(self, region: str, instance_type: str) -> PriceQuote:
        """EC2 Linux on-demand $/h of one instance (shared tenancy)."""
        key = ("ec2", region, instance_type)
        quote = self._quotes.get(key)
        if quote is None:
            region, itype = self._norm_region(region), _norm(instance_type)
            quote = self._remember(key, self._ec2(region, itype), "hour")
        return quote

    def rds_instance(self, region: str, instance_class: str, engine: str, multi_az: bool = False) -> PriceQuote:
        """RDS on-demand $/h of one DB instance (license-included for Oracle/SQL Server).

        Multi-AZ is 2 x Single-AZ (estimated). For aurora-* engines ``multi_az`` does not change
        the price: Aurora bills every instance (writer and replicas) separately.
        """
        key = ("rds", region, instance_class, engine, bool(multi_az))
        quote = self._quotes.get(key)
        if quote is None:
            quote = self._remember(
                key, self._rds(self._norm_region(region), instance_class, engine, bool(multi_az)), "hour"
            )
        return quote

    def elasticache_node(self, region: str, node_type: str, engine: str = "redis") -> PriceQuote:
        """ElastiCache on-demand $/h of one node; engine is redis, valkey or memcached."""
        key = ("elasticache", region, node_type, engine)
        quote = self._quotes.get(key)
        if quote is None:
            region, ntype, eng = self._norm_region(region), _norm(node_type), _norm(engine or "redis")
            if not ntype.startswith("cache."):
                ntype = "cache." + ntype
            quote = self._remember(key, self._nested("elasticache", region, eng, ntype), "hour")
        return quote

    def opensearch_instance(self, region: str, instance_type: str) -> PriceQuote:
        """OpenSearch on-demand $/h of one instance; accepts ``x.search``, ``x.elasticsearch`` or ``x``."""
        key = ("opensearch", region, instance_type)
        quote = self._quotes.get(key)
        if quote is None:
            itype = _norm(instance_type)
            for suffix in _OPENSEARCH_SUFFIXES:
                if itype.endswith(suffix):
                    itype = itype[: -len(suffix)]
                    break
            quote = self._remember(key, self._flat_table("opensearch", self._norm_region(region), itype), "hour")
        return quote

    def rate(self, service: str, item: str, region: str) -> PriceQuote:
        """A scalar rate, e.g. ``rate("ec2", "nat_gateway_hour", r)``; items are listed in the package docstring.

        ``unit`` names one unit: capacity units end in "hour" ("hour" = one resource, "GB-hour" =
        one GB for one hour, i.e. the GB-month price / 730) and ``usd_per_hour`` is USD per such
        unit; usage units ("GB", "1M requests", "GB-second", "WRU") have no time dimension and
        ``usd_per_hour`` is then USD per unit used.
        """
        key = ("rate", service, item, region)
        quote = self._quotes.get(key)
        if quote is None:
            quote = self._rate(key, service, item, region)
        return quote

    def known_regions(self) -> set[str]:
        """AWS region codes the snapshot can price (commercial + GovCloud; no China, no Local Zones)."""
        return set(self._table("regions")["known_regions"])

    def rate_items(self) -> dict[tuple[str, str], str]:
        """Every ``(service, item)`` accepted by :meth:`rate` (aliases excluded) -> its unit."""
        items = self._table("rates")["items"]
        return {(k.split("/", 1)[0], k.split("/", 1)[1]): v["unit"] for k, v in items.items()}

    # ------------------------------------------------------------------ loading

    def _table(self, name: str) -> dict[str, Any]:
        table = self._tables.get(name)
        if table is None:
            with self._lock:
                table = self._tables.get(name)
                if table is None:
                    table = self._load(name)
                    self._tables[name] = table
        return table

    def _load(self, name: str) -> dict[str, Any]:
        filename = f"{name}.json"
        if self._data_dir is not None:
            raw = (self._data_dir / filename).read_bytes()
        else:
            raw = resources.files("dd0c_cost.pricing").joinpath("data", filename).read_bytes()
        doc = json.loads(raw)
        if doc.get("schema") != SCHEMA:
            raise RuntimeError(f"price snapshot {filename}: schema {doc.get('schema')!r}, expected {SCHEMA}")
        return doc

    def _remember(self, key: tuple, price: _Price | None, unit: str) -> PriceQuote:
        if price is None:
            quote = PriceQuote(usd_per_hour=None, source=UNKNOWN_SOURCE, as_of="", estimated=False, unit=unit)
        else:
            quote = PriceQuote(
                usd_per_hour=price.usd, source=price.source, as_of=price.as_of, estimated=price.estimated, unit=unit
            )
        if len(self._quotes) >= _QUOTE_CACHE_LIMIT:
            self._quotes.clear()
        self._quotes[key] = quote
        return quote

    # ------------------------------------------------------------------ regions

    def _ratio(self, region: str) -> float | None:
        return self._table("regions")["ratio"].get(region)

    def _norm_region(self, region: str) -> str:
        """Lower-case/strip; map an AZ name (us-east-1a, us-west-2-lax-1a) to its region/location."""
        r = _norm(region)
        ratios = self._table("regions")["ratio"]
        if r in ratios:
            return r
        locations = self._table("ec2_local_zones")["parent_region"]
        if r in locations:
            return r
        if r[-1:].isalpha() and (r[:-1] in ratios or r[:-1] in locations):
            return r[:-1]
        return r

    # ------------------------------------------------------------------ EC2

    def _ec2(self, region: str, itype: str) -> _Price | None:
        listed = self._ec2_listed(region, itype)
        if listed is not None:
            return listed
        lz = self._table("ec2_local_zones")
        if region in lz["parent_region"]:
            return self._ec2_local_zone(lz, region, itype)
        ratio = self._ratio(region)
        if region != BASE_REGION and ratio is not None:
            base = self._ec2_listed(BASE_REGION, itype)
            if base is not None:
                return _derived(base, ratio, "us-east-1*region-ratio")
        return None

    def _ec2_listed(self, region: str, itype: str) -> _Price | None:
        t = self._table("ec2")
        usd = t["prices"].get(region, {}).get(itype)
        if usd is None:
            return None
        basis = t["basis_overrides"].get(region, {}).get(itype) or t["region_basis"][region]
        b = t["bases"][basis]
        return _Price(usd, b["source"], b["as_of"], b["estimated"])

    def _ec2_local_zone(self, lz: dict[str, Any], location: str, itype: str) -> _Price | None:
        usd = lz["prices"].get(location, {}).get(itype)
        if usd is not None:
            b = lz["bases"][lz["basis_overrides"].get(location, {}).get(itype) or lz["default_basis"]]
            return _Price(usd, b["source"], b["as_of"], b["estimated"])
        ratio = lz["parent_ratio"].get(location)
        parent = self._ec2(lz["parent_region"][location], itype)
        if parent is None or ratio is None:
            return None
        return _derived(parent, ratio, "local-zone-ratio")

    # ------------------------------------------------------------------ RDS

    def _rds(self, region: str, instance_class: str, engine: str, multi_az: bool) -> _Price | None:
        t = self._table("rds")
        eng = _norm(engine)
        eng = t["engine_aliases"].get(eng, eng)
        cls = _norm(instance_class)
        if not cls.startswith("db."):
            cls = "db." + cls
        single = self._rds_single(t, region, cls, eng)
        if single is None or not multi_az or eng.startswith("aurora"):
            return single
        return _Price(single.usd * 2, f"{single.source};multi-az=2x-single-az", single.as_of, True)

    def _rds_single(
        self, t: dict[str, Any], region: str, cls: str, engine: str, derive_region: bool = True
    ) -> _Price | None:
        by_engine = t["prices"].get(region)
        base_basis = t["bases"][t["default_basis"]]
        if by_engine is not None:
            usd = by_engine.get(engine, {}).get(cls)
            if usd is not None:
                return _Price(usd, base_basis["source"], base_basis["as_of"], base_basis["estimated"])
            estimate = self._rds_markup(t, region, cls, engine)
            if estimate is not None:
                return estimate
        if derive_region and region != BASE_REGION:
            ratio = t["region_ratio"].get(region) or self._ratio(region)
            base = self._rds_single(t, BASE_REGION, cls, engine, derive_region=False)
            if base is not None and ratio is not None:
                return _derived(base, ratio, "us-east-1*region-ratio")
        return None

    def _rds_markup(self, t: dict[str, Any], region: str, cls: str, engine: str) -> _Price | None:
        """Class missing from the (2021) table: EC2 price of the same size x the RDS/EC2 markup."""
        markups = t["markup_over_ec2"].get(region)
        twin = cls[3:]
        family = twin.split(".", 1)[0]
        if not markups or not family or "." not in twin:
            return None
        letter = family[0]
        arch = "graviton" if _is_graviton(family) else "x86"
        for key in (f"{engine}|{letter}|{arch}", f"{engine}|*|{arch}", f"{engine}|{letter}|*", f"{engine}|*|*"):
            markup = markups.get(key)
            if markup is not None:
                break
        else:
            return None
        ec2 = self._ec2(region, twin)
        if ec2 is None:
            return None
        as_of = t["bases"][t["default_basis"]]["as_of"]
        return _Price(sig6(ec2.usd * markup), f"{ec2.source};rds-markup-over-ec2", min(as_of, ec2.as_of), True)

    # ------------------------------------------------------------------ ElastiCache / OpenSearch

    def _nested(self, name: str, region: str, engine: str, itype: str) -> _Price | None:
        t = self._table(name)
        b = t["bases"][t["default_basis"]]
        usd = t["prices"].get(region, {}).get(engine, {}).get(itype)
        if usd is not None:
            return _Price(usd, b["source"], b["as_of"], b["estimated"])
        base = t["prices"][BASE_REGION].get(engine, {}).get(itype)
        ratio = t["region_ratio"].get(region) or self._ratio(region)
        if base is None or ratio is None or region == BASE_REGION:
            return None
        return _derived(_Price(base, b["source"], b["as_of"], b["estimated"]), ratio, "us-east-1*region-ratio")

    def _flat_table(self, name: str, region: str, itype: str) -> _Price | None:
        t = self._table(name)
        b = t["bases"][t["default_basis"]]
        usd = t["prices"].get(region, {}).get(itype)
        if usd is not None:
            return _Price(usd, b["source"], b["as_of"], b["estimated"])
        base = t["prices"][BASE_REGION].get(itype)
        ratio = t["region_ratio"].get(region) or self._ratio(region)
        if base is None or ratio is None or region == BASE_REGION:
            return None
        return _derived(_Price(base, b["source"], b["as_of"], b["estimated"]), ratio, "us-east-1*region-ratio")

    # ------------------------------------------------------------------ scalar rates

    def _rate(self, key: tuple, service: str, item: str, region: str) -> PriceQuote:
        t = self._table("rates")
        name = f"{_norm(service)}/{_norm(item)}"
        name = t["aliases"].get(name, name)
        entry = t["items"].get(name)
        if entry is None:
            return self._remember(key, None, "hour")
        region = self._norm_region(region)
        divide_by = entry["divide_by"]
        # Entries written by pricing.refresh name their source; the CSV-built snapshot's are Infracost's.
        listed_source = entry.get("listed_source", "infracost")
        usd = entry["listed"].get(region)
        if usd is not None:
            price = _Price(usd / divide_by, listed_source, entry["as_of"], False)
        else:
            usd = entry["derived"].get(region)
            if usd is None:
                return self._remember(key, None, entry["unit"])
            policy = entry.get("derived_policy", {}).get(region, entry["policy"])
            method = {
                "flat": f"flat-from-{entry['base_region']}",
                "geo": "geography-median",
                "scaled": f"{entry['base_region']}*region-ratio",
            }[policy]
            price = _Price(usd / divide_by, f"{listed_source};{method}", entry["as_of"], True)
        return self._remember(key, price, entry["unit"])


def _norm(value: str) -> str:
    return str(value).strip().lower()


def _is_graviton(family: str) -> bool:
    """m6g, r6gd, t4g, x2gd, c7gn ...: letters, digits, then "g" (same rule as the build script)."""
    return _GRAVITON_FAMILY_RE.match(family) is not None


@lru_cache(maxsize=1)
def get_price_book() -> PriceBook:
    """The process-wide price book (created on first call; tables load on first use)."""
    return PriceBook()
