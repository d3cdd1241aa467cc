"""The snapshot build refuses bad price rows (missing, non-numeric, negative, zero, absurd), naming each."""

from __future__ import annotations

import pytest

from dd0c_cost_tools.pricing.dataset import rows as build
from tests.conftest import shared_path


def _ec2(*prices: str) -> list[dict[str, str]]:
    return [
        {"region": "us-east-1", "instance_type": f"m5.{size}", "usd_per_hour": usd}
        for size, usd in zip(("large", "xlarge", "2xlarge", "4xlarge"), prices, strict=False)
    ]


def test_good_rows_pass() -> None:
    build.check_rows("ec2_ondemand_linux.csv", _ec2("0.096", "0.192", "0.384", "0.768"))


@pytest.mark.parametrize(
    "bad, says",
    [
        ("", "missing or not a number"),
        ("n/a", "missing or not a number"),
        ("-0.1", "not a positive price"),
        ("0", "not a positive price"),
        ("nan", "not a positive price"),
        ("960", ">= 1000 x its family median"),
    ],
)
def test_bad_row_is_named(bad: str, says: str) -> None:
    rows = _ec2("0.096", "0.192", "0.384", bad)
    with pytest.raises(build.BuildError) as err:
        build.check_rows("ec2_ondemand_linux.csv", rows)
    text = str(err.value)
    assert "ec2_ondemand_linux.csv:5 us-east-1/m5.4xlarge" in text and says in text


def test_rates_family_is_the_item_across_regions() -> None:
    rows = [
        {"service": "msk", "item": "storage", "region": r, "usd": usd}
        for r, usd in (("us-east-1", "0.10"), ("eu-west-1", "0.11"), ("ap-south-1", "110"))
    ]
    with pytest.raises(build.BuildError, match=r"service_rates_more.csv:4 msk/storage/ap-south-1"):
        build.check_rows("service_rates_more.csv", rows)


def test_every_shared_input_has_a_rule() -> None:
    # (The real inputs pass: test_pricing rebuilds the shipped snapshot from them.)
    names = {p.name for d in ("pricing", "pricing-extra") for p in shared_path(d).glob("*.csv")}
    assert "service_rates_more.csv" in names and "ec2_ondemand_linux.csv" in names
    assert names <= set(build.PRICE_COLUMNS), names - set(build.PRICE_COLUMNS)
