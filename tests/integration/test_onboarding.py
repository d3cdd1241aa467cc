"""Connecting a customer account (dd0c_cost.onboarding.connect_account) on a real PostgreSQL."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from dd0c_cost import onboarding
from dd0c_cost.db import operator
from dd0c_cost.onboarding import OnboardingError, connect_account

DD0C_ACCOUNT = "999900001111"
BUS_ARN = f"arn:aws:events:eu-west-1:{DD0C_ACCOUNT}:event-bus/dd0c-cost"
CUSTOMER = "111122223333"
TEMPLATE_URL = "https://dd0c-public.s3.amazonaws.com/onboarding/dd0c-cost-customer.template.json"


def _row(conn, account_id: str) -> dict | None:
    with conn.transaction():
        return conn.execute(
            "SELECT tenant_id, external_id, regions FROM dd0c.connected_accounts WHERE account_id = %s", [account_id]
        ).fetchone()


def _query(url: str) -> dict[str, str]:
    """The quick-create link's parameters (they follow the '#' fragment's '?')."""
    fragment = urlsplit(url).fragment
    assert fragment.startswith("/stacks/quickcreate?")
    return {k: v[0] for k, v in parse_qs(fragment.split("?", 1)[1], keep_blank_values=True).items()}


def test_connect_returns_the_external_id_parameters_and_one_stack_per_region(operator_conn) -> None:
    result = connect_account(operator_conn, "acme", CUSTOMER, ["eu-west-1", "us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    json.dumps(result)  # the API returns it as it is

    row = _row(operator_conn, CUSTOMER)
    assert row["external_id"] == result["external_id"]
    assert re.match(onboarding.EXTERNAL_ID_PATTERN, result["external_id"])
    assert row["regions"] == ["eu-west-1", "us-east-1"]
    assert str(row["tenant_id"]) == result["tenant_id"] == str(operator.find_tenant(operator_conn, "acme"))
    assert result["created"] is True
    assert result["home_region"] == "eu-west-1"
    assert result["reader_role_arn"] == f"arn:aws:iam::{CUSTOMER}:role/dd0c-reader"
    assert result["template_parameters"] == {
        "CentralBusArn": BUS_ARN,
        "DD0CAccountId": DD0C_ACCOUNT,
        "ExternalId": result["external_id"],
        "EnableRemediation": "false",  # opt-in: the customer flips it to allow remediation from Slack
    }

    # One stack per region; the global reader role only in the first.
    assert [(s["region"], s["parameters"]["CreateReaderRole"]) for s in result["stacks"]] == [
        ("eu-west-1", "true"),
        ("us-east-1", "false"),
    ]
    for stack in result["stacks"]:
        url = stack["quick_create_url"]
        assert url.startswith(f"https://console.aws.amazon.com/cloudformation/home?region={stack['region']}#")
        query = _query(url)
        assert query["templateURL"] == "{template_url}"  # the operator's template URL goes here
        assert query["stackName"] == "dd0c-cost"
        assert {k.removeprefix("param_"): v for k, v in query.items() if k.startswith("param_")} == stack["parameters"]

    fmt = result["quick_create_url_format"]
    assert "{region}" in fmt and "{template_url}" in fmt and "{create_reader_role}" in fmt
    assert (
        fmt.replace("{region}", "us-east-1").replace("{create_reader_role}", "false")
        == result["stacks"][1]["quick_create_url"]
    )


def test_the_parameters_are_exactly_the_templates(operator_conn) -> None:
    """connect_account and the checked-in customer template agree on the parameter names."""
    from tests.conftest import REPO_ROOT

    template = json.loads((REPO_ROOT / "docs" / "onboarding" / onboarding.TEMPLATE_FILE_NAME).read_text())
    result = connect_account(operator_conn, "acme", CUSTOMER, ["us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    assert set(result["stacks"][0]["parameters"]) == set(template["Parameters"])
    for name, value in result["stacks"][0]["parameters"].items():
        spec = template["Parameters"][name]
        if "AllowedPattern" in spec:
            assert re.match(spec["AllowedPattern"], value), (name, value)
        if "AllowedValues" in spec:
            assert value in spec["AllowedValues"]
        assert spec.get("MinLength", 0) <= len(value) <= spec.get("MaxLength", 10_000)


def test_a_template_url_fills_the_links(operator_conn) -> None:
    result = connect_account(
        operator_conn, "acme", CUSTOMER, ["us-east-1"], BUS_ARN, DD0C_ACCOUNT, template_url=TEMPLATE_URL
    )
    (stack,) = result["stacks"]
    assert "{template_url}" not in stack["quick_create_url"]
    assert _query(stack["quick_create_url"])["templateURL"] == TEMPLATE_URL
    assert unquote(stack["quick_create_url"]).count(TEMPLATE_URL) == 1
    assert result["template_url"] == TEMPLATE_URL


def test_connecting_again_keeps_the_external_id_and_adds_regions(operator_conn) -> None:
    first = connect_account(operator_conn, "acme", CUSTOMER, ["us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    again = connect_account(operator_conn, "acme", CUSTOMER, ["eu-central-1", "us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    assert again["created"] is False
    assert again["external_id"] == first["external_id"]
    assert again["regions"] == ["us-east-1", "eu-central-1"]
    assert again["home_region"] == "us-east-1"  # the reader role stays where it was created
    assert _row(operator_conn, CUSTOMER)["regions"] == ["us-east-1", "eu-central-1"]


def test_an_account_attached_earlier_keeps_its_external_id(operator_conn) -> None:
    tenant = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, tenant, {CUSTOMER})
    before = _row(operator_conn, CUSTOMER)["external_id"]
    result = connect_account(operator_conn, "acme", CUSTOMER, ["us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    assert result["external_id"] == before and result["created"] is False


def test_an_account_owned_by_another_tenant_is_refused_and_unchanged(operator_conn) -> None:
    first = connect_account(operator_conn, "acme", CUSTOMER, ["us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    with pytest.raises(OnboardingError, match="another tenant"):
        connect_account(operator_conn, "globex", CUSTOMER, ["eu-west-1"], BUS_ARN, DD0C_ACCOUNT)
    row = _row(operator_conn, CUSTOMER)
    assert str(row["tenant_id"]) == first["tenant_id"]
    assert row["regions"] == ["us-east-1"] and row["external_id"] == first["external_id"]


def test_each_account_gets_its_own_external_id(operator_conn) -> None:
    a = connect_account(operator_conn, "acme", CUSTOMER, ["us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    b = connect_account(operator_conn, "acme", "444455556666", ["us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    assert a["external_id"] != b["external_id"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"account_id": "12345"}, "12-digit"),
        ({"account_id": DD0C_ACCOUNT}, "dd0c account itself"),
        ({"regions": []}, "at least one region"),
        ({"regions": ["us-east-1", "Mars-1"]}, "not region names: Mars-1"),
        ({"central_bus_arn": "arn:aws:sqs:eu-west-1:999900001111:q"}, "not an EventBridge bus ARN"),
        (
            {"central_bus_arn": "arn:aws:events:eu-west-1:222233334444:event-bus/dd0c-cost"},
            "belongs to account 222233334444",
        ),
        ({"dd0c_account_id": "abc"}, "12-digit"),
        ({"tenant_name": "  "}, "tenant name is empty"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(operator_conn, kwargs: dict, message: str) -> None:
    args = {
        "tenant_name": "acme",
        "account_id": CUSTOMER,
        "regions": ["us-east-1"],
        "central_bus_arn": BUS_ARN,
        "dd0c_account_id": DD0C_ACCOUNT,
        **kwargs,
    }
    with pytest.raises(OnboardingError, match=re.escape(message)):
        connect_account(operator_conn, **args)
    with operator_conn.transaction():
        assert operator_conn.execute("SELECT count(*) AS n FROM dd0c.connected_accounts").fetchone()["n"] == 0
        assert operator_conn.execute("SELECT count(*) AS n FROM dd0c.tenants").fetchone()["n"] == 0


def test_other_partitions_link_to_their_console(operator_conn) -> None:
    bus = f"arn:aws-us-gov:events:us-gov-west-1:{DD0C_ACCOUNT}:event-bus/dd0c-cost"
    result = connect_account(operator_conn, "acme", CUSTOMER, ["us-gov-west-1"], bus, DD0C_ACCOUNT)
    assert result["stacks"][0]["quick_create_url"].startswith("https://console.amazonaws-us-gov.com/cloudformation/")
    assert result["reader_role_arn"] == f"arn:aws-us-gov:iam::{CUSTOMER}:role/dd0c-reader"


def test_the_normaliser_resolves_the_connected_accounts_tenant(operator_conn, db_url) -> None:
    from dd0c_cost.db.connection import NORMALIZER_ROLE, open_connection, tenant_for_account

    result = connect_account(operator_conn, "acme", CUSTOMER, ["us-east-1"], BUS_ARN, DD0C_ACCOUNT)
    conn = open_connection(db_url, NORMALIZER_ROLE)
    try:
        assert str(tenant_for_account(conn, CUSTOMER)) == result["tenant_id"]
    finally:
        conn.close()
