"""``dd0c-cost pricing refresh`` (dd0c_cost_tools.pricing.refresh) against recorded-shape responses. No network.

The responses in tests/fixtures/pricing/ are hand-written in the documented Price List API shape
(see its README.md) and fed through botocore's Stubber, which also checks every request's
parameters (TERM_MATCH filters, NextToken) against tests/fixtures/pricing/manifest.json.
"""

from __future__ import annotations

import filecmp
import json
from datetime import date
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from dd0c_cost.pricing import PriceBook, get_price_book
from dd0c_cost_tools.pricing import refresh as refresh_mod
from dd0c_cost_tools.pricing.refresh import (
    RefreshError,
    parse_price_item,
    plan_queries,
    rate_item_of,
    refresh,
    region_of,
    strip_usage_prefix,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pricing"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
TODAY = date(2026, 8, 20)
# the regional EC2 instance queries only: eu-west-1 (1 page), us-east-1 (2 pages)
EC2_CALLS = [
    c
    for c in MANIFEST
    if c["operation"] == "get_products"
    and c["params"]["Filters"][0]["Field"] == "regionCode"
    and {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"} in c["params"]["Filters"]
]


def _client():
    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


def _stubbed(calls: list[dict]) -> tuple[object, Stubber]:
    client = _client()
    stubber = Stubber(client)
    for call in calls:
        stubber.add_response(call["operation"], json.loads((FIXTURES / call["response"]).read_text()), call["params"])
    stubber.activate()
    return client, stubber


def _run(out: Path, calls: list[dict] = MANIFEST, **kwargs):
    client, stubber = _stubbed(calls)
    try:
        report = refresh(client, out, today=TODAY, **kwargs)
        stubber.assert_no_pending_responses()  # every recorded page was requested, in order
    finally:
        stubber.deactivate()
    return report


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> tuple[Path, refresh_mod.RefreshReport]:
    out = tmp_path_factory.mktemp("refreshed")
    return out, _run(out)


@pytest.fixture(scope="module")
def book(refreshed) -> PriceBook:
    return PriceBook(data_dir=refreshed[0])


# ---------------------------------------------------------------- the refreshed snapshot through the price book


def test_fixture_is_recorded_in_the_api_shape():
    for call in MANIFEST:
        resp = json.loads((FIXTURES / call["response"]).read_text())
        if call["operation"] == "get_products":
            assert resp["FormatVersion"] == "aws_v1"
            assert all(isinstance(item, str) for item in resp["PriceList"])  # JSON strings, as the API returns
            assert all(f["Type"] == "TERM_MATCH" for f in call["params"]["Filters"])
    tokens = [c["params"]["NextToken"] for c in MANIFEST if "NextToken" in c["params"]]
    assert tokens, "the fixture must paginate somewhere"


def test_ec2_prices_come_from_the_fixture_on_every_page(book):
    q = book.ec2_instance("us-east-1", "m5.large")  # page 1, next to Windows / $0 / RHEL rows
    assert (q.usd_per_hour, q.source, q.as_of, q.estimated, q.unit) == (
        0.096,
        "aws-price-list",
        "2026-08-15",
        False,
        "hour",
    )
    assert book.ec2_instance("us-east-1", "c5.large").usd_per_hour == 0.085  # not the RHEL 0.145 row
    assert book.ec2_instance("us-east-1", "r6g.xlarge").usd_per_hour == 0.2016  # page 2: NextToken was followed
    assert book.ec2_instance("us-east-1", "x2iedn.metal").usd_per_hour == 26.676  # page 2
    assert book.ec2_instance("eu-west-1", "m5.large").usd_per_hour == 0.107  # "EU-BoxUsage:" prefix
    # listed in eu-west-1 by the API (the shipped 2024 data only estimates it)
    c8g = book.ec2_instance("eu-west-1", "c8g.large")
    assert (c8g.usd_per_hour, c8g.estimated) == (0.0891, False)
    assert book.ec2_instance("us-east-1", "m5.24xlarge").usd_per_hour is None  # only a CNY row: skipped


def test_skipped_rows_are_counted(refreshed):
    _, report = refreshed
    s = report.skipped
    assert s["non_usd"] == 1  # m5.24xlarge priced in CNY only
    assert s["zero_price"] == 1  # $0 AllocatedCapacityReservation row
    assert s["os"] == 2  # Windows, RHEL
    assert s["license"] == 1  # Oracle BYOL
    assert s["usage_type"] == 1  # Aurora I/O-Optimized
    assert s["other_region"] == 1  # an eu-west-2 row in an eu-west-1 answer
    assert report.requests == len(MANIFEST) == 40
    assert report.rows["ec2"] == 51 and report.locations["ec2"] == 2


def test_local_zones(book):
    q = book.ec2_instance("us-east-1-bos-1", "m5.large")
    assert (q.usd_per_hour, q.source, q.estimated) == (0.115, "aws-price-list", False)
    derived = book.ec2_instance("us-east-1-bos-1a", "m5.xlarge")  # AZ name; type not listed there
    assert derived.estimated is True and derived.source == "aws-price-list;local-zone-ratio"
    assert derived.usd_per_hour == pytest.approx(0.192 * 0.115 / 0.096, rel=0.05)


def test_rds_elasticache_opensearch(book):
    single = book.rds_instance("us-east-1", "db.t3.large", "mysql")
    assert (single.usd_per_hour, single.source, single.as_of, single.estimated) == (
        0.136,
        "aws-price-list",
        "2026-08-12",
        False,
    )
    assert book.rds_instance("us-east-1", "db.t3.large", "mysql", multi_az=True).usd_per_hour == 0.272  # 2 x, estimated
    assert (
        book.rds_instance("us-east-1", "db.m6i.large", "postgres").usd_per_hour == 0.178
    )  # class absent from 2021 data
    assert book.rds_instance("us-east-1", "db.r5.large", "aurora").usd_per_hour == 0.29  # not the I/O-Optimized 0.377
    assert book.rds_instance("us-east-1", "db.m5.large", "sqlserver-se").usd_per_hour == 0.977
    assert book.rds_instance("us-east-1", "db.m5.large", "oracle-se2").usd_per_hour == 0.438  # not the BYOL row
    assert book.rds_instance("eu-west-1", "db.t3.large", "postgres").usd_per_hour == 0.156
    assert book.elasticache_node("us-east-1", "cache.m5.large", "valkey").usd_per_hour == 0.1248
    assert book.elasticache_node("eu-west-1", "m5.large").usd_per_hour == 0.172
    os_ = book.opensearch_instance("us-east-1", "m5.large.search")
    assert (os_.usd_per_hour, os_.as_of) == (0.142, "2026-08-05")
    assert book.opensearch_instance("us-east-1", "ultrawarm1.medium.elasticsearch").usd_per_hour == 0.238


@pytest.mark.parametrize(
    ("service", "item", "region", "usd", "unit"),
    [
        ("ec2", "nat_gateway_hour", "us-east-1", 0.045, "hour"),
        ("ec2", "nat_gateway_data_gb", "eu-west-1", 0.048, "GB"),
        ("ec2", "eip_hour", "us-east-1", 0.005, "hour"),  # alias of public_ipv4_hour (AmazonVPC)
        ("ebs", "gp3_gb_month", "eu-west-1", 0.088 / 730, "GB-hour"),
        ("ebs", "io1_gb_month", "us-east-1", 0.125 / 730, "GB-hour"),
        ("ebs", "standard_gb_month", "us-east-1", 0.05 / 730, "GB-hour"),
        ("ebs", "io2_iops_month", "us-east-1", 0.065 / 730, "IOPS-hour"),  # tier 1, not the .tier2 row
        ("ebs", "gp3_throughput_mibps_month", "us-east-1", 0.04 / 730, "MiBps-hour"),  # 40.96 per GiBps-mo
        ("ebs", "standard_io_million_requests", "us-east-1", 0.05, "1M requests"),  # per IO x 1e6
        ("ebs", "snapshot_gb_month", "us-east-1", 0.05 / 730, "GB-hour"),
        ("elb", "alb_hour", "eu-west-1", 0.0252, "hour"),
        ("elb", "alb_lcu_hour", "us-east-1", 0.008, "LCU-hour"),
        ("elb", "nlb_nlcu_hour", "us-east-1", 0.006, "NLCU-hour"),
        ("elb", "clb_hour", "us-east-1", 0.025, "hour"),
        ("elb", "clb_data_gb", "us-east-1", 0.008, "GB"),
        ("eks", "cluster_hour", "us-east-1", 0.10, "hour"),
        ("eks", "cluster_extended_support_hour", "us-east-1", 0.60, "hour"),  # cluster hour + 0.50 surcharge
        ("vpc", "interface_endpoint_hour", "us-east-1", 0.01, "hour"),
        ("vpc", "interface_endpoint_data_gb", "us-east-1", 0.01, "GB"),  # first tier of three
        ("lambda", "provisioned_concurrency_gb_second", "us-east-1", 0.0000041667, "GB-second"),
        ("lambda", "provisioned_concurrency_arm_gb_second", "us-east-1", 0.0000033334, "GB-second"),
        ("lambda", "provisioned_duration_gb_second", "us-east-1", 0.0000097222, "GB-second"),
        ("dynamodb", "provisioned_wcu_hour", "us-east-1", 0.00065, "WCU-hour"),  # free tier skipped
        ("dynamodb", "provisioned_rcu_hour", "us-east-1", 0.00013, "RCU-hour"),
        ("kinesis", "shard_hour", "us-east-1", 0.015, "hour"),
        ("kinesis", "on_demand_stream_hour", "us-east-1", 0.04, "hour"),
        ("msk", "kafka.m5.large", "us-east-1", 0.21, "hour"),
        ("msk", "kafka.t3.small", "us-east-1", 0.0456, "hour"),
        ("sagemaker", "ml.m5.large", "us-east-1", 0.115, "hour"),  # Host:, not Train:
        ("sagemaker", "ml.m5.large", "eu-west-1", 0.129, "hour"),  # row without regionCode: from `location`
        ("redshift", "ra3.4xlarge", "us-east-1", 3.26, "hour"),
        ("redshift", "ra3.4xlarge", "eu-west-1", 3.543, "hour"),
        ("redshift", "dc2.large", "us-east-1", 0.25, "hour"),
    ],
)
def test_listed_rates(book, service, item, region, usd, unit):
    q = book.rate(service, item, region)
    assert q.usd_per_hour == pytest.approx(usd, rel=1e-9)
    assert (q.source, q.estimated, q.unit) == ("aws-price-list", False, unit)


def test_derived_and_carried_over_rates(book):
    ratio = json.loads((Path(book._data_dir) / "regions.json").read_text())["ratio"]["eu-west-1"]
    assert 1.05 < ratio < 1.2  # median over the 24 shared EC2 types
    msk = book.rate("msk", "kafka.m5.large", "eu-west-1")  # not listed in eu-west-1
    assert msk.estimated is True and msk.source == "aws-price-list;us-east-1*region-ratio"
    assert msk.usd_per_hour == pytest.approx(0.21 * ratio, rel=1e-5)
    eks = book.rate("eks", "cluster_hour", "eu-west-1")  # flat
    assert (eks.usd_per_hour, eks.estimated) == (0.10, True)
    # items the Price List mapping does not produce keep the shipped snapshot's values and source
    shipped = get_price_book().rate("data_transfer", "internet_out_gb", "eu-west-1")
    carried = book.rate("data_transfer", "internet_out_gb", "eu-west-1")
    assert carried == shipped and carried.source == "infracost"
    assert book.rate("lambda", "requests_million", "us-east-1").source == "infracost"
    assert book.rate("sagemaker", "ml.m5.xlarge", "us-east-1").usd_per_hour is None  # unknown stays unknown
    assert book.known_regions() == {"us-east-1", "eu-west-1"}


def test_provenance_and_notice(refreshed):
    out, report = refreshed
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["source"] == "aws-price-list" and prov["as_of"] == report.as_of == "2026-08-15"
    assert prov["retrieved"] == "2026-08-20" and prov["refreshed_regions"] == ["eu-west-1", "us-east-1"]
    for table in ("ec2", "ec2_local_zones", "rds", "elasticache", "opensearch", "rates"):
        assert prov["tables"][table]["source"] == "aws-price-list", table
        assert "Price List" in json.dumps(prov["tables"][table]["sources"])
    assert prov["tables"]["rds"]["as_of"] == "2026-08-12"
    assert "data_transfer/internet_out_gb" in prov["carried_over_from_base"]
    notice = (out / "NOTICE").read_text()
    assert "AWS Price List" in notice and "Copyright (c) 2013 Garret Heaton" in notice  # carried attribution kept
    assert (out / "LICENSE-Apache-2.0.txt").is_file()


# ---------------------------------------------------------------- determinism, format, carry-over


def test_output_is_deterministic_and_sorted(refreshed, tmp_path):
    out, _ = refreshed
    again = tmp_path / "again"
    _run(again)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert not [n for n in names if not filecmp.cmp(out / n, again / n, shallow=False)]
    ec2 = json.loads((out / "ec2.json").read_text())
    keys = list(ec2)  # sorted header keys, then the big "prices" map (as the build script writes it)
    assert keys[-1] == "prices" and keys[:-1] == sorted(keys[:-1])
    assert list(ec2["prices"]) == sorted(ec2["prices"])
    assert list(ec2["prices"]["us-east-1"]) == sorted(ec2["prices"]["us-east-1"])
    # same layout as scripts/build_price_snapshot.py: header lines, then one region per line
    lines = (out / "ec2.json").read_text().splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and any(line.startswith('"us-east-1":{') for line in lines)


def test_a_second_refresh_does_not_nest_the_notice(refreshed, tmp_path):
    out, _ = refreshed
    second = tmp_path / "second"
    _run(second, base_dir=out)
    notice = (second / "NOTICE").read_text()
    assert notice.count("Refreshed by dd0c_cost_tools.pricing.refresh") == 1
    assert notice.count("Copyright (c) 2013 Garret Heaton") == 1
    assert filecmp.cmp(out / "rates.json", second / "rates.json", shallow=False)


def test_services_and_regions_subset_carry_the_rest_over(tmp_path):
    assert len(EC2_CALLS) == 3  # eu-west-1 (1 page) + us-east-1 (2 pages); no discovery call: regions given
    report = _run(tmp_path, EC2_CALLS, regions=["eu-west-1"], services=["ec2"])
    assert report.regions == ["eu-west-1", "us-east-1"]  # the base region is always refreshed
    assert set(report.carried_over) >= {"ec2_local_zones", "rds", "elasticache", "opensearch"}
    book = PriceBook(data_dir=tmp_path)
    assert book.ec2_instance("eu-west-1", "c8g.large").source == "aws-price-list"
    shipped = get_price_book()
    assert book.rds_instance("us-east-1", "db.t3.large", "mysql") == shipped.rds_instance(
        "us-east-1", "db.t3.large", "mysql"
    )
    assert book.ec2_instance("us-west-2-lax-1", "m5.large").usd_per_hour is not None  # carried Local Zone table
    assert book.rate("ebs", "gp3_gb_month", "us-east-1") == shipped.rate("ebs", "gp3_gb_month", "us-east-1")


def test_no_base_region_rows_writes_nothing(tmp_path):
    call = next(c for c in MANIFEST if c["params"].get("Filters", [{}])[0].get("Value") == "eu-west-1")
    client, stubber = _stubbed([])
    stubber.add_response("get_products", json.loads((FIXTURES / call["response"]).read_text()), call["params"])
    us_params = {
        **call["params"],
        "Filters": [{**call["params"]["Filters"][0], "Value": "us-east-1"}, *call["params"]["Filters"][1:]],
    }
    stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": []}, us_params)
    with pytest.raises(RefreshError, match="us-east-1"):
        refresh(client, tmp_path / "out", regions=["eu-west-1"], services=["ec2"], today=TODAY)
    stubber.deactivate()
    assert not (tmp_path / "out").exists()


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown services"):
        refresh(_client(), tmp_path, regions=["us-east-1"], services=["ec2", "lightsail"])
    with pytest.raises(ValueError, match="cn-north-1"):
        refresh(_client(), tmp_path, regions=["cn-north-1"], services=["ec2"])


# ---------------------------------------------------------------- CLI


def test_main_dry_run_prints_counts_and_writes_nothing(tmp_path, monkeypatch, capsys):
    client, stubber = _stubbed(MANIFEST)
    monkeypatch.setattr(refresh_mod, "_make_client", lambda: client)
    out = tmp_path / "data"
    assert refresh_mod.main(["--dry-run", "--quiet", "--out", str(out)]) == 0
    stubber.assert_no_pending_responses()
    stubber.deactivate()
    printed = capsys.readouterr().out
    assert "40 API requests" in printed and "ec2: 51 prices, 2 regions" in printed
    assert "dry run: nothing written" in printed and "non_usd=1" in printed
    assert not out.exists()


def test_main_builds_the_client_lazily_in_us_east_1(monkeypatch, tmp_path, capsys):
    seen = {}

    def fake_client(service, **kwargs):
        seen.update(service=service, **kwargs)
        raise refresh_mod.RefreshError("stop here")

    monkeypatch.setattr(boto3, "client", fake_client)
    assert refresh_mod.main(["--out", str(tmp_path), "--regions", "us-east-1"]) == 2
    assert seen["service"] == "pricing" and seen["region_name"] == "us-east-1"
    assert "stop here" in capsys.readouterr().err


# ---------------------------------------------------------------- parsing helpers


def _item(dims: dict, attrs: dict | None = None, reserved: dict | None = None, **top) -> str:
    terms = {"OnDemand": {"S.T": {"priceDimensions": dims}}}
    if reserved:
        terms["Reserved"] = {"S.R": {"priceDimensions": reserved}}
    return json.dumps({"product": {"productFamily": "Storage", "attributes": attrs or {}}, "terms": terms, **top})


def _dim(usd=None, begin="0", unit="Hrs", **currency) -> dict:
    per_unit = {"USD": usd} if usd is not None else currency
    return {"unit": unit, "beginRange": begin, "endRange": "Inf", "pricePerUnit": per_unit}


def test_parse_picks_the_first_priced_on_demand_tier():
    row, reason = parse_price_item(
        _item(
            {"a": _dim("0.0000000000"), "b": _dim("0.0006500000", "18600"), "c": _dim("0.0004", "999999")},
            reserved={"r": _dim("0.0001")},
            publicationDate="2026-08-07T16:30:00Z",
        )
    )
    assert reason == "" and float(row.usd) == 0.00065 and row.published == "2026-08-07"
    assert row.attrs["productFamily"] == "Storage"
    assert parse_price_item(_item({"a": _dim(CNY="1.2")})) == (None, "non_usd")
    assert parse_price_item(_item({"a": _dim("0")})) == (None, "zero_price")
    assert parse_price_item(_item({}, reserved={"r": _dim("0.1")})) == (None, "no_on_demand")
    assert parse_price_item(_item({"a": _dim("0.1")}))[0].published == ""  # -> run date as as_of


def test_region_and_usage_type_helpers():
    assert region_of({"regionCode": "eu-west-1", "location": "EU (Frankfurt)"}) == "eu-west-1"
    assert region_of({"location": "EU (Ireland)"}) == "eu-west-1"
    assert region_of({"location": "Europe (Ireland)"}) == "eu-west-1"
    assert region_of({"location": "Mars (Olympus)"}) is None
    assert (
        strip_usage_prefix("EU-NatGateway-Hours") == strip_usage_prefix("USE2-NatGateway-Hours") == "NatGateway-Hours"
    )
    assert strip_usage_prefix("NatGateway-Hours") == "NatGateway-Hours"
    assert (
        rate_item_of("AWSELB", {"usagetype": "CAN1-TS-LoadBalancerUsage", "productFamily": "Load Balancer-Application"})
        is None
    )
    assert (
        rate_item_of("AWSELB", {"usagetype": "CAN1-LoadBalancerUsage", "productFamily": "Load Balancer-Application"})
        == "elb/alb_hour"
    )
    assert rate_item_of("AmazonMSK", {"usagetype": "USE1-Kafka.express.m7g.large"}) == "msk/kafka.express.m7g.large"
    assert rate_item_of("AmazonMSK", {"usagetype": "USE1-Kafka.Storage.GP2"}) is None
    node = {"usagetype": "EU-Node:ra3.16xlarge", "productFamily": "Compute Instance", "instanceType": "ra3.16xlarge"}
    assert rate_item_of("AmazonRedshift", node) == "redshift/ra3.16xlarge"
    assert rate_item_of("AmazonRedshift", {**node, "instanceType": "dc2.large"}) is None  # disagreeing row
    assert (
        rate_item_of("AmazonRedshift", {"usagetype": "USE1-ServerlessUsage", "productFamily": "Compute Instance"})
        is None
    )
    assert rate_item_of("AmazonSageMaker", {"usagetype": "USE1-Train:ml.m5.large"}) is None


def test_plan_has_one_query_per_table_region_and_local_zone_type():
    plan = plan_queries(["eu-west-1", "us-east-1"], ["ec2", "ec2_local_zones", "rates"])
    assert [q.table for q in plan[:4]] == ["ec2", "ec2", "ec2_local_zones", "ec2_local_zones"]
    assert len(plan) == 2 + 2 + 2 * 14
    ec2 = dict(plan[0].filters)
    assert ec2 == {
        "regionCode": "eu-west-1",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }


def test_fixture_files_match_their_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_pricing_fixtures", FIXTURES / "make_fixtures.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    expected = gen.build()
    on_disk = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.json")}
    assert on_disk == set(expected), "rerun tests/fixtures/pricing/make_fixtures.py"
    stale = [name for name, text in expected.items() if (FIXTURES / name).read_text() != text]
    assert not stale, f"rerun tests/fixtures/pricing/make_fixtures.py: {stale}"


def test_without_a_base_snapshot_only_api_data_is_written(tmp_path):
    report = _run(tmp_path, base_dir=None)
    assert report.carried_over == []
    book = PriceBook(data_dir=tmp_path)
    assert book.ec2_instance("us-east-1", "m5.large").usd_per_hour == 0.096
    assert book.rate("data_transfer", "internet_out_gb", "us-east-1").usd_per_hour is None  # nothing to carry over
    assert ("msk", "kafka.m5.large") in book.rate_items()
    assert not (tmp_path / "LICENSE-Apache-2.0.txt").exists()  # no third-party data in this snapshot
    assert "previous snapshot" not in (tmp_path / "NOTICE").read_text()


def test_tables_left_empty_never_make_the_book_raise(tmp_path):
    report = _run(tmp_path, EC2_CALLS, regions=["eu-west-1"], services=["ec2"], base_dir=None)
    assert any("written empty" in w for w in report.warnings)
    book = PriceBook(data_dir=tmp_path)
    assert book.ec2_instance("eu-west-1", "m5.large").usd_per_hour == 0.107
    for q in (
        book.rds_instance("eu-west-1", "db.t3.large", "mysql"),
        book.elasticache_node("eu-west-1", "cache.m5.large"),
        book.opensearch_instance("us-east-1", "m5.large.search"),
        book.ec2_instance("us-east-1-bos-1", "m5.large"),
        book.rate("ebs", "gp3_gb_month", "us-east-1"),
    ):
        assert q.usd_per_hour is None and q.source == "unknown"


def test_the_build_script_and_the_refresh_share_one_snapshot_writer():
    """Format, derivations and rounding come from pricing/snapshot.py (and the price book's
    rounding from dd0c_cost.pricing.derive): neither producer has its own copy, and the script
    is only the CSV build's entry point."""
    import importlib.util

    from dd0c_cost.pricing import book, derive
    from dd0c_cost_tools.pricing import carry_over, derive_rates, derive_tables, price_list, price_queries, snapshot
    from dd0c_cost_tools.pricing.dataset import build, ec2, instances, rates

    refresh_modules = (refresh_mod, price_list, price_queries, derive_tables, derive_rates, carry_over)
    build_modules = (build, ec2, instances, rates)
    shared = (
        "rds_markups",
        "table_ratios",
        "median_ratios",
        "parent_ratios",
        "region_ratios",
        "regions_document",
        "derived_rates",
        "sig6",
        "ratio4",
        "provenance_text",
    )
    for name in shared:
        users = [m for m in (*refresh_modules, *build_modules) if hasattr(m, name)]  # the modules that use it
        assert users and all(getattr(m, name) is getattr(snapshot, name) for m in users), name
    for name in ("median_ratios", "parent_ratios", "region_ratios", "regions_document", "derived_rates"):  # both use
        assert any(hasattr(m, name) for m in refresh_modules) and any(hasattr(m, name) for m in build_modules), name
    assert build.write_table is snapshot.write_table and refresh_mod.table_text is snapshot.table_text
    assert snapshot.sig6 is derive.sig6 and book.sig6 is derive.sig6

    path = Path(__file__).resolve().parents[2] / "scripts" / "build_price_snapshot.py"
    spec = importlib.util.spec_from_file_location("build_price_snapshot", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main is build.main
