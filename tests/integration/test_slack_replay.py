"""Replay-proof Slack interactions: a signed request is acted on once; the same request
delivered again (same timestamp and signature) gets 200 and changes nothing.

Reproduces issue 7: the same signed interaction, replayed within Slack's 5 minutes, was accepted
4 times of 4 (and could flip a status back after someone changed it)."""

from __future__ import annotations

import json

from dd0c_cost.db.connection import open_connection, tenant_transaction
from tests.integration.test_api import _one_anomaly, bearer, slack_request


def _revision(db_url, tenant, anomaly_id):
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant):
            return conn.execute("SELECT revision, status FROM dd0c.anomalies WHERE id = %s", [anomaly_id]).fetchone()
    finally:
        conn.close()


def test_a_replayed_slack_request_changes_nothing(api, tenants, local_pipeline, db_url):
    tenant, key = tenants["a"]
    anomaly = _one_anomaly(api, key, local_pipeline, "111111111111")
    before = _revision(db_url, tenant, anomaly["id"])["revision"]
    body, headers = slack_request("anomaly_expected", anomaly["id"], str(tenant))

    answers = [api("POST", "/slack/interactions", body=body, headers=headers) for _ in range(4)]

    assert answers == [(200, {"ok": True})] * 4
    assert _revision(db_url, tenant, anomaly["id"]) == {"revision": before + 1, "status": "expected"}
    # Someone changes their mind; a replay of the old click must not flip it back.
    status, _ = api(
        "POST",
        f"/v1/anomalies/{anomaly['id']}/status",
        body=json.dumps({"status": "acknowledged"}),
        headers=bearer(key),
    )
    assert status == 200
    assert api("POST", "/slack/interactions", body=body, headers=headers)[0] == 200
    assert _revision(db_url, tenant, anomaly["id"]) == {"revision": before + 2, "status": "acknowledged"}
