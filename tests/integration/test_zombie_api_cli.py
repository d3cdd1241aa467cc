"""Zombie findings through the dashboard API (``api/routes/zombies.py``) and the CLI (the
benchmark's own test is in tests/bench).

The API tests store findings through ``dal.apply_scan`` from hand-made scan results (the scan
itself is covered on moto in test_zombie_criteria_moto / test_zombie_hunter).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.zombies import dal, scan
from dd0c_cost.zombies.models import Evaluation, PriceComponent, Resource, ResourceType, Verdict, Waste
from dd0c_cost_tools.local.runner import LambdaContext
from dd0c_cost_tools.local.serve import apigw_v2_event

SCAN = datetime(2026, 11, 20, 5, tzinfo=UTC)


def _finding(rtype, rid, criterion, verdict, usd, *, account="111111111111", region="us-east-1"):
    resource = Resource(rtype, rid, account, region, SCAN - timedelta(days=40), "available")
    evaluation = Evaluation(criterion, verdict, SCAN - timedelta(days=14), {"rule": "test"})
    waste = Waste((PriceComponent("hours", 1, "month", usd, "test", None if usd is not None else "no price"),))
    return scan.Finding(resource, evaluation, waste)


def _store(db_url, tenant_id, account, findings):
    result = scan.RegionScan(
        account,
        "us-east-1",
        SCAN,
        findings=findings,
        complete_types=set(ResourceType),
        present={f.resource.key for f in findings},
        checked={f.resource.key for f in findings},
    )
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant_id):
            dal.apply_scan(conn, tenant_id, result)
            dal.record_scan(conn, tenant_id, result)
    finally:
        conn.close()


@pytest.fixture
def api(local_pipeline):
    handler = local_pipeline.handler("api")

    def call(method, path, *, key, body=None):
        raw = json.dumps(body).encode() if body is not None else b""
        headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
        result = handler(apigw_v2_event(method, path, headers, raw, "127.0.0.1"), LambdaContext("api"))
        return result["statusCode"], json.loads(result["body"]) if result.get("body") else None

    return call


@pytest.fixture
def tenants(operator_conn, db_url):
    out = {}
    for name, account in (("a", "111111111111"), ("b", "222222222222")):
        tenant = operator.ensure_tenant(operator_conn, f"tenant-{name}")
        operator.connect_account(operator_conn, tenant, account, ["us-east-1"])
        out[name] = (tenant, operator.create_api_key(operator_conn, tenant), account)
    tenant, _, account = out["a"]
    _store(
        db_url,
        tenant,
        account,
        [
            _finding(ResourceType.NAT_GATEWAY, "nat-1", "nat_no_traffic", Verdict.ZOMBIE, 32.85),
            _finding(ResourceType.EBS_VOLUME, "vol-1", "ebs_unattached", Verdict.ZOMBIE, 50.0),
            _finding(ResourceType.SAGEMAKER_ENDPOINT, "churn", "sagemaker_no_invocations", Verdict.ZOMBIE, None),
            _finding(ResourceType.RDS_INSTANCE, "db-1", "rds_no_connections", Verdict.INSUFFICIENT_DATA, 282.88),
        ],
    )
    return out


def test_list_zombies_largest_waste_first_with_filters(api, tenants):
    _, key, _ = tenants["a"]
    status, body = api("GET", "/v1/zombies", key=key)
    assert status == 200
    assert [f["resource_id"] for f in body["findings"]] == ["db-1", "vol-1", "nat-1", "churn"]
    assert body["monthly_waste_usd"] == pytest.approx(282.88 + 50 + 32.85) and body["unpriced"] == 1
    status, body = api("GET", "/v1/zombies?verdict=zombie&resource_type=ebs_volume", key=key)
    assert [f["resource_id"] for f in body["findings"]] == ["vol-1"]
    assert api("GET", "/v1/zombies?verdict=dead", key=key)[0] == 400
    _, other, _ = tenants["b"]
    assert api("GET", "/v1/zombies", key=other)[1]["findings"] == []


def test_status_change_snoozes_in_event_time_and_keeps_history(api, tenants):
    _, key, _ = tenants["a"]
    finding = api("GET", "/v1/zombies?resource_type=nat_gateway", key=key)[1]["findings"][0]
    path = f"/v1/zombies/{finding['id']}/status"
    status, body = api("POST", path, key=key, body={"status": "snoozed", "snooze_days": 7, "by": "alice"})
    assert status == 200
    assert (body["status"], body["snoozed_until"]) == ("snoozed", "2026-11-27T05:00:00Z")
    assert api("POST", path, key=key, body={"status": "snoozed"})[0] == 400
    assert api("POST", path, key=key, body={"status": "gone"})[0] == 400  # scans own gone / in_use
    status, detail = api("GET", f"/v1/zombies/{finding['id']}", key=key)
    assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in detail["history"]] == [
        (None, "open", "scan"),
        ("open", "snoozed", "alice"),
    ]
    assert api("GET", "/v1/zombies?status=snoozed", key=key)[1]["findings"][0]["id"] == finding["id"]
    _, other, _ = tenants["b"]
    assert api("GET", f"/v1/zombies/{finding['id']}", key=other)[0] == 404
    assert api("POST", path, key=other, body={"status": "ignored"})[0] == 404


def _cli(args, capsys) -> tuple[str, str]:
    from dd0c_cost_tools.cli import main

    assert main(args) == 0
    out = capsys.readouterr()
    return out.out, out.err


def test_cli_lists_a_tenants_findings_as_json(app_env, tenants, capsys):
    rows = json.loads(_cli(["zombies", "--tenant", "tenant-a", "--json"], capsys)[0])
    assert [r["resource_id"] for r in rows] == ["db-1", "vol-1", "nat-1", "churn"]
    assert set(rows[0]) == {
        "id",
        "account_id",
        "region",
        "resource_type",
        "resource_id",
        "criterion",
        "verdict",
        "evidence",
        "first_seen_idle",
        "monthly_waste_usd",
        "waste_so_far_usd",
        "status",
    }
    table = _cli(["zombies", "--tenant", "tenant-a"], capsys)[0]
    assert "$282.88" in table and "unpriced" in table


def test_cli_scan_runs_the_hunter_locally(app_env, db_url, tenants, capsys):
    out, err = _cli(["zombies", "scan", "--tenant", "tenant-b", "--at", "2026-11-21T05:00:00Z"], capsys)
    assert "scanned 1 account-region(s)" in err and "no open zombie findings" in out
    conn = open_connection(db_url)
    try:
        tenant, _, account = tenants["b"]
        with tenant_transaction(conn, tenant):
            (row,) = dal.scans(conn)
    finally:
        conn.close()
    assert (row["account_id"], row["status"]) == (account, "complete")
