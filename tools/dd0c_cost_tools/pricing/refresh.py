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
- Scalar rates (``rates.json``, see :data:`~dd0c_cost_tools.pricing.price_list.RATE_UNITS`): NAT gateway, public IPv4, ELB (ALB, NLB,
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
else the ``location`` name (``price_list.LOCATION_TO_REGION``). Two rows for the same key with different
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
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dd0c_cost_tools.pricing.carry_over import BaseSnapshot
from dd0c_cost_tools.pricing.derive_rates import derive_rates
from dd0c_cost_tools.pricing.derive_tables import (
    Derivation,
    Plan,
    derive_ec2,
    derive_instance_tables,
    derive_local_zones,
    derive_rds,
    derive_regions,
    snapshot_files,
)
from dd0c_cost_tools.pricing.price_list import (
    ALL_SERVICES,
    PRICING_ENDPOINT_REGION,
    RefreshError,
    parse_price_item,
    rate_item_of,
    region_of,
    strip_usage_prefix,
)
from dd0c_cost_tools.pricing.price_queries import Collector, PriceListApi, collect, plan_queries
from dd0c_cost_tools.pricing.refresh_report import RefreshReport
from dd0c_cost_tools.pricing.snapshot import (
    BASE_REGION,
    DEFAULT_DATA_DIR,
    MIN_COMMON_TYPES_FOR_RATIO,
    REGION_RE,
    table_text,
)

# The refresh's public face (the CLI, tests and the snapshot build use these names from here); the
# work is in price_list (reading rows), price_queries (asking), derive_tables, derive_rates and carry_over.
__all__ = [
    "ALL_SERVICES",
    "DEFAULT_DATA_DIR",
    "RefreshError",
    "RefreshReport",
    "main",
    "parse_price_item",
    "plan_queries",
    "rate_item_of",
    "refresh",
    "region_of",
    "strip_usage_prefix",
    "table_text",
]


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
    d = Derivation(plan, BaseSnapshot(base_dir), report)
    ec2_prices, ec2_ratio = derive_ec2(d, collected)
    derive_local_zones(d, collected, ec2_prices)
    derive_rds(d, collected, ec2_prices)
    derive_instance_tables(d, collected)
    ratios, regions_doc = derive_regions(d, ec2_ratio)
    derive_rates(d, collected, ratios, regions_doc["known_regions"])
    report.as_of = max(d.as_ofs, default="")
    for table in plan.services:
        if table != "rates" and not report.rows.get(table):
            report.warnings.append(f"{table}: no prices kept from the API")
    files = snapshot_files(d, ratios, regions_doc)
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
) -> Plan:
    """Check the arguments and settle the services and regions (asking the API for its regions
    when none are given)."""
    requested = set(services)
    unknown = sorted(requested - set(ALL_SERVICES))
    if unknown:
        raise ValueError(f"unknown services {unknown}; choose from {list(ALL_SERVICES)}")
    api = PriceListApi(client, log)
    if regions is None:
        regions = api.regions()
        if not regions:
            raise RefreshError("GetAttributeValues(AmazonEC2, regionCode) returned no region codes")
    bad = sorted(r for r in regions if not REGION_RE.match(r) or r.startswith("cn-"))
    if bad:
        raise ValueError(f"not AWS region codes (or China, which the Price List prices in CNY): {bad}")
    return Plan(
        api=api,
        out_dir=out_dir,
        services=tuple(s for s in ALL_SERVICES if s in requested),
        regions=sorted(set(regions) | {BASE_REGION}),
        run_date=(today or datetime.now(UTC).date()).isoformat(),
        dry_run=dry_run,
        min_common_types=min_common_types,
    )


def _collect_planned(plan: Plan, report: RefreshReport) -> dict[str, Collector]:
    skipped: Counter = Counter()
    collected = collect(plan.api, plan_queries(plan.regions, plan.services), set(plan.regions), skipped)
    report.requests = plan.api.requests
    report.skipped = dict(sorted(skipped.items()))
    return collected


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
