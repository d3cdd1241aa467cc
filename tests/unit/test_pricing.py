"""Price snapshot and price book (dd0c_cost.pricing). No network."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest

import dd0c_cost.pricing as pricing
from dd0c_cost.events.models import PriceQuote
from dd0c_cost.pricing import PriceBook, get_price_book

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "layers" / "shared" / "python" / "dd0c_cost" / "pricing" / "data"
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build_price_snapshot.py"
SHARED_PRICING = REPO_ROOT.parent / "shared" / "pricing"


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return get_price_book()


# ---------------------------------------------------------------- sanity figures (shared/pricing/README.md)


@pytest.mark.parametrize(
    ("region", "itype", "usd"),
    [
        ("us-east-1", "m5.large", 0.096),
        ("us-east-1", "t3.micro", 0.0104),
        ("us-east-1", "t3.medium", 0.0416),
        ("us-east-1", "m5.xlarge", 0.192),
        ("eu-west-1", "m5.large", 0.107),
        ("us-east-1", "p4d.24xlarge", 21.957642),
        ("us-east-1", "p4de.24xlarge", 27.44705),
    ],
)
def test_ec2_sanity(book, region, itype, usd):
    q = book.ec2_instance(region, itype)
    assert isinstance(q, PriceQuote)
    assert q.usd_per_hour == pytest.approx(usd)
    assert q.estimated is False
    assert q.unit == "hour"
    assert q.source in {"karpenter", "ec2instances"} and re.fullmatch(r"\d{4}-\d\d-\d\d", q.as_of)


@pytest.mark.parametrize(
    ("service", "item", "per_unit", "divide_by", "unit"),
    [
        ("ebs", "gp3_gb_month", 0.08, 730, "GB-hour"),
        ("ebs", "gp2_gb_month", 0.10, 730, "GB-hour"),
        ("ebs", "st1_gb_month", 0.045, 730, "GB-hour"),
        ("ebs", "sc1_gb_month", 0.015, 730, "GB-hour"),
        ("ebs", "io1_iops_month", 0.065, 730, "IOPS-hour"),
        ("ebs", "gp3_iops_month", 0.005, 730, "IOPS-hour"),
        ("ebs", "gp3_throughput_mibps_month", 0.04, 730, "MiBps-hour"),
        ("ec2", "nat_gateway_hour", 0.045, 1, "hour"),
        ("ec2", "public_ipv4_hour", 0.005, 1, "hour"),
        ("ec2", "eip_hour", 0.005, 1, "hour"),
        ("elb", "alb_hour", 0.0225, 1, "hour"),
        ("elb", "nlb_hour", 0.0225, 1, "hour"),
        ("elb", "clb_hour", 0.025, 1, "hour"),
        ("eks", "cluster_hour", 0.10, 1, "hour"),
        ("eks", "cluster_extended_support_hour", 0.60, 1, "hour"),
    ],
)
def test_rate_sanity_us_east_1(book, service, item, per_unit, divide_by, unit):
    q = book.rate(service, item, "us-east-1")
    assert q.usd_per_hour == pytest.approx(per_unit / divide_by)
    assert q.unit == unit
    assert q.estimated is False
    assert q.source == "infracost"


def test_rds_single_and_multi_az(book):
    single = book.rds_instance("us-east-1", "db.t3.large", "mysql")
    multi = book.rds_instance("us-east-1", "db.t3.large", "mysql", multi_az=True)
    assert single.usd_per_hour == pytest.approx(0.136) and single.estimated is False
    assert multi.usd_per_hour == pytest.approx(0.272) and multi.estimated is True
    assert book.rds_instance("us-east-1", "db.t3.large", "postgres").usd_per_hour == pytest.approx(0.145)
    assert book.rds_instance("us-east-1", "db.m5.xlarge", "sqlserver-ee").usd_per_hour == pytest.approx(2.336)
    # legacy engine name; Aurora has no Multi-AZ instance uplift
    assert book.rds_instance("us-east-1", "db.r4.large", "aurora").usd_per_hour == pytest.approx(0.29)
    aurora_multi = book.rds_instance("us-east-1", "db.r4.large", "aurora-mysql", multi_az=True)
    assert aurora_multi.usd_per_hour == pytest.approx(0.29) and aurora_multi.estimated is False


def test_elasticache_and_opensearch(book):
    assert book.elasticache_node("us-east-1", "cache.m4.large", "redis").usd_per_hour == pytest.approx(0.156)
    assert book.elasticache_node("us-east-1", "cache.m4.large").usd_per_hour == pytest.approx(0.156)
    assert book.elasticache_node("us-east-1", "cache.m6g.12xlarge").usd_per_hour == pytest.approx(3.557)
    for name in ("c4.2xlarge.search", "c4.2xlarge.elasticsearch", "c4.2xlarge"):
        q = book.opensearch_instance("us-east-1", name)
        assert q.usd_per_hour == pytest.approx(0.587) and q.estimated is False


# ---------------------------------------------------------------- unknowns never raise


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.ec2_instance("us-east-1", "m99z.gigantic"),
        lambda b: b.ec2_instance("mars-central-1", "m5.large"),
        lambda b: b.ec2_instance("cn-north-1", "m5.large"),  # China (CNY) is not covered
        lambda b: b.ec2_instance("", ""),
        lambda b: b.rds_instance("us-east-1", "db.m99z.large", "mysql"),
        lambda b: b.rds_instance("us-east-1", "db.t3.large", "oracle-ee"),
        lambda b: b.rds_instance("us-east-1", "db.serverless", "aurora-postgresql", multi_az=True),
        lambda b: b.elasticache_node("us-east-1", "cache.m99.large", "redis"),
        lambda b: b.elasticache_node("us-east-1", "cache.m4.large", "nosuchengine"),
        lambda b: b.opensearch_instance("nowhere-1", "m5.large.search"),
        lambda b: b.rate("ec2", "no_such_item", "us-east-1"),
        lambda b: b.rate("sagemaker", "ml.m5.large", "us-east-1"),
        lambda b: b.rate("ebs", "gp3_gb_month", "mars-central-1"),
    ],
)
def test_unknown_gives_none(book, call):
    q = call(book)
    assert isinstance(q, PriceQuote)
    assert q.usd_per_hour is None
    assert q.source == "unknown"
    assert q.estimated is False


# ---------------------------------------------------------------- derivations are marked estimated


def test_derived_regional_scalar_rate_is_estimated(book):
    listed = book.rate("ebs", "gp3_gb_month", "us-east-1")
    derived = book.rate("ebs", "gp3_gb_month", "eu-west-1")
    assert listed.estimated is False
    assert derived.estimated is True and derived.unit == "GB-hour"
    ratio = json.loads((DATA_DIR / "regions.json").read_text())["ratio"]["eu-west-1"]
    assert 1.0 < ratio < 1.3
    assert derived.usd_per_hour == pytest.approx(0.08 * ratio / 730, rel=1e-5)
    assert "region-ratio" in derived.source
    # flat-priced items keep the us-east-1 rate (still marked estimated)
    eks = book.rate("eks", "cluster_hour", "sa-east-1")
    assert eks.usd_per_hour == pytest.approx(0.10) and eks.estimated is True
    # data transfer has listed per-region rates
    assert book.rate("data_transfer", "internet_out_gb", "sa-east-1").estimated is False


def test_every_known_region_has_the_core_rates(book):
    for region in book.known_regions():
        for service, item in [
            ("ec2", "nat_gateway_hour"),
            ("ebs", "gp3_gb_month"),
            ("elb", "alb_hour"),
            ("eks", "cluster_hour"),
        ]:
            q = book.rate(service, item, region)
            assert q.usd_per_hour is not None and q.usd_per_hour > 0, (service, item, region)
            assert q.estimated is (region != "us-east-1"), (service, item, region)


def test_ec2_conflict_decisions(book):
    # .metal: ec2instances value (= virtualised 16xlarge), not karpenter's uplifted one
    metal = book.ec2_instance("us-east-1", "m6g.metal")
    assert metal.usd_per_hour == pytest.approx(2.464) and metal.source == "ec2instances"
    assert metal.usd_per_hour == book.ec2_instance("us-east-1", "m6g.16xlarge").usd_per_hour
    # stale pre-2025 GPU prices are scaled by the us-east-1 cut ratio (0.67) and marked estimated
    p4d = book.ec2_instance("us-east-2", "p4d.24xlarge")
    assert p4d.estimated is True
    assert p4d.usd_per_hour == pytest.approx(32.7726 * 0.67, rel=1e-5)
    assert p4d.usd_per_hour == pytest.approx(book.ec2_instance("us-east-1", "p4d.24xlarge").usd_per_hour, rel=1e-5)


def test_missing_types_and_regions_are_estimated(book):
    # type launched after the 2024 regional data: us-east-1 price x region ratio
    q = book.ec2_instance("eu-west-1", "c8g.large")
    base = book.ec2_instance("us-east-1", "c8g.large")
    assert base.usd_per_hour is not None and base.estimated is False
    assert q.estimated is True and base.usd_per_hour < q.usd_per_hour < base.usd_per_hour * 1.3
    # region with no EC2 rows (ratio from ElastiCache)
    assert book.ec2_instance("ap-southeast-5", "m5.large").estimated is True
    # RDS class newer than the 2021 data: EC2 price x RDS markup
    t4g = book.rds_instance("us-east-1", "db.t4g.micro", "mysql")
    assert t4g.estimated is True and 0.005 < t4g.usd_per_hour < 0.05
    t4g_multi = book.rds_instance("us-east-1", "db.t4g.micro", "mysql", multi_az=True)
    assert t4g_multi.usd_per_hour == pytest.approx(2 * t4g.usd_per_hour)
    # RDS region absent from the 2021 data
    il = book.rds_instance("il-central-1", "db.t3.large", "mysql")
    assert il.estimated is True and il.usd_per_hour > 0.136


def test_region_and_type_normalisation(book):
    assert book.ec2_instance("us-east-1a", "m5.large").usd_per_hour == pytest.approx(0.096)
    assert book.ec2_instance(" US-EAST-1 ", "M5.Large").usd_per_hour == pytest.approx(0.096)
    assert book.rds_instance("us-east-1", "t3.large", "MySQL").usd_per_hour == pytest.approx(0.136)
    assert book.elasticache_node("us-east-1", "m4.large").usd_per_hour == pytest.approx(0.156)
    lz = book.ec2_instance("us-west-2-lax-1", "m5.large")
    assert lz.usd_per_hour is not None and lz.usd_per_hour > book.ec2_instance("us-west-2", "m5.large").usd_per_hour


def test_known_regions(book):
    regions = book.known_regions()
    assert {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-5", "mx-central-1", "us-gov-west-1"} <= regions
    assert not any(r.startswith("cn-") for r in regions)
    assert "us-west-2-lax-1" not in regions
    for region in regions:
        assert book.ec2_instance(region, "m5.large").usd_per_hour is not None, region


# ---------------------------------------------------------------- API shape


def test_lazy_no_io_until_first_lookup():
    fresh = PriceBook()
    assert fresh._tables == {}
    fresh.rate("eks", "cluster_hour", "us-east-1")
    assert "ec2" not in fresh._tables  # only what the lookup needed


def _documented_rate_items() -> dict[tuple[str, str], str]:
    """Parse the service/item/unit table in the package docstring (columns from the ==== ruler)."""
    lines = (pricing.__doc__ or "").splitlines()
    rulers = [i for i, line in enumerate(lines) if line.startswith("====")]
    assert len(rulers) == 3, "docstring rate table not found"
    cols = [m.start() for m in re.finditer(r"=+", lines[rulers[0]])]
    out = {}
    for line in lines[rulers[1] + 1 : rulers[2]]:
        if not line.strip() or line[0].isspace():
            continue  # continuation line (aliases)
        service = line[: cols[1]].strip()
        item = line[cols[1] : cols[2]].split()[0]
        unit = line[cols[2] :].split("(")[0].strip()
        out[(service, item)] = unit
    return out


def test_docstring_lists_every_rate_item(book):
    assert _documented_rate_items() == book.rate_items()


def test_all_snapshot_prices_are_positive(book):
    ec2 = json.loads((DATA_DIR / "ec2.json").read_text())
    n = 0
    for region, types in ec2["prices"].items():
        for itype in types:
            q = book.ec2_instance(region, itype)
            assert q.usd_per_hour is not None and math.isfinite(q.usd_per_hour) and q.usd_per_hour > 0
            n += 1
    assert n > 14_000


def test_repeat_lookups_are_fast(book):
    book.ec2_instance("us-east-1", "m5.large")
    start = time.perf_counter()
    for _ in range(20_000):
        book.ec2_instance("us-east-1", "m5.large")
        book.rate("ebs", "gp3_gb_month", "eu-west-1")
    assert time.perf_counter() - start < 1.0  # ~0.1 us each in practice; generous for shared CI


# ---------------------------------------------------------------- snapshot reproducibility


def test_snapshot_is_small_and_attributed():
    files = sorted(p for p in DATA_DIR.iterdir() if p.is_file())
    assert sum(p.stat().st_size for p in files) < 1_500_000
    notice = (DATA_DIR / "NOTICE").read_text()
    assert "Copyright (c) 2013 Garret Heaton" in notice and "Apache License, Version 2.0" in notice
    assert "TERMS AND CONDITIONS FOR USE" in (DATA_DIR / "LICENSE-Apache-2.0.txt").read_text()
    prov = json.loads((DATA_DIR / "provenance.json").read_text())
    for table in ("ec2", "ec2_local_zones", "rds", "elasticache", "opensearch", "rates"):
        assert prov["tables"][table]["sources"] and prov["tables"][table]["as_of"], table
    assert all(prov["cross_checks"].values())
