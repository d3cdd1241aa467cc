"""What a refresh asks the Price List Query API (one query per table, service and region, with
its filters), the paging client that asks it, and the collection of the answers into per-table
prices (duplicates keep the lower price)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dd0c_cost_tools.pricing.price_list import (
    ALL_SERVICES,
    LOCAL_ZONE_RE,
    MAX_PAGES_PER_QUERY,
    PAGE_SIZE,
    PriceRow,
    RefreshError,
    ec2_key,
    elasticache_key,
    opensearch_key,
    parse_price_item,
    rate_item_of,
    rate_spec,
    rds_key,
    region_of,
)
from dd0c_cost_tools.pricing.snapshot import (
    REGION_RE,
)

# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class _Query:
    table: str
    service_code: str
    filters: tuple[tuple[str, str], ...]
    region: str | None  # the region every row must be in; None for Local Zone queries


EC2_FILTERS = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
)
LOCAL_ZONE_TYPES = ("AWS Local Zone", "AWS Wavelength Zone")
# Scalar-rate queries, per region: (service code, extra TERM_MATCH filters).
RATE_QUERIES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
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
            out += [_Query(table, "AmazonEC2", (("locationType", t), *EC2_FILTERS), None) for t in LOCAL_ZONE_TYPES]
            continue
        for region in regions:
            rc = (("regionCode", region),)
            if table == "ec2":
                out.append(_Query(table, "AmazonEC2", rc + EC2_FILTERS, region))
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
                out += [_Query(table, code, rc + extra, region) for code, extra in RATE_QUERIES]
    return out


class PriceListApi:
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


class Collector:
    """Prices of one table keyed by (region, *key); duplicate keys keep the lower price."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Decimal] = {}
        self.published: dict[tuple[str, ...], str] = {}
        self.units: dict[tuple[str, ...], set[str]] = defaultdict(set)
        self.conflicts: list[list] = []

    def add(self, key: tuple[str, ...], row: PriceRow) -> None:
        old = self.values.get(key)
        if old is None or row.usd < old:
            self.values[key] = row.usd
        if old is not None and old != row.usd:
            self.conflicts.append([*key, float(old), float(row.usd)])
        self.units[key].add(row.unit)
        if row.published > self.published.get(key, ""):
            self.published[key] = row.published


def collect(api: PriceListApi, queries: list[_Query], regions: set[str], skipped: Counter) -> dict[str, Collector]:
    out: dict[str, Collector] = defaultdict(Collector)
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


def _key_for(q: _Query, row: PriceRow, regions: set[str]) -> tuple[tuple[str, ...] | None, str]:
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
        if m is None or location_type not in LOCAL_ZONE_TYPES:
            return None, "location_type"
        if m.group(1) not in regions:
            return None, "other_region"
    if q.table in ("ec2", "ec2_local_zones"):
        itype, reason = ec2_key(attrs)
        ok = row.unit.lower() == "hrs"
        return ((where, itype), "") if itype and ok else (None, reason or "unit")
    if q.table == "rds":
        k, reason = rds_key(attrs)
    elif q.table == "elasticache":
        k, reason = elasticache_key(attrs)
    elif q.table == "opensearch":
        os_key, reason = opensearch_key(attrs)
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
