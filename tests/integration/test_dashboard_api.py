"""The dashboard API end to end through the resolver, as API Gateway invokes it: every route, with
another tenant's ids, with a read key on writes, with a session cookie (CSRF), and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from dd0c_cost import auth
from dd0c_cost.auth import keys
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.topology import TOPOLOGY
from dd0c_cost_tools.local.runner import LambdaContext
from dd0c_cost_tools.local.serve import apigw_v2_event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEVERITIES = ["low", "medium", "high", "critical"]


def _seed(conn, tenant, account, n, actor_prefix):
    ids = []
    with tenant_transaction(conn, tenant):
        for i in range(n):
            when = T0 + timedelta(hours=i)
            event_id = f"{account}-e{i}"
            conn.execute(
                """INSERT INTO dd0c.cost_events (tenant_id, event_id, account_id, region, event_time, event_source,
                   event_name, service, resource_type, resource_ids, action, quantity, actor_name,
                   estimated_usd_per_hour, payload, score)
                   VALUES (%s, %s, %s, 'us-east-1', %s, 'ec2.amazonaws.com', 'RunInstances', 'ec2', 'ec2:instance',
                           %s, 'create', 1, %s, %s, '{}', 0.5)""",
                [tenant, event_id, account, when, [f"i-{account}{i}"], f"{actor_prefix}{i}", 1.0 + i],
            )
            row = conn.execute(
                """INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, resource_ids,
                   event_ids, actor, detected_at, score, severity, estimated_hourly_usd, summary, components, status)
                   VALUES (%s, %s, 'us-east-1', 'ec2', 'ec2:instance', %s, %s, %s, %s, %s, %s, %s, %s,
                           '[{"name": "zscore", "value": 0.8, "reason": "far above the level"}]', %s) RETURNING id""",
                [
                    tenant,
                    account,
                    [f"i-{account}{i}"],
                    [event_id],
                    f"{actor_prefix}{i}",
                    when,
                    round(0.5 + i / (2 * n), 3),
                    SEVERITIES[i % 4],
                    1.0 + i,
                    f"{actor_prefix}{i} launched 1 × m5.large",
                    "open" if i % 3 else "acknowledged",
                ],
            ).fetchone()
            ids.append(str(row["id"]))
        # the resource of the first anomaly was terminated 2 hours later: money saved
        conn.execute(
            """INSERT INTO dd0c.cost_events (tenant_id, event_id, account_id, region, event_time, event_source,
               event_name, service, resource_type, resource_ids, action, quantity, actor_name,
               estimated_usd_per_hour, payload)
               VALUES (%s, %s, %s, 'us-east-1', %s, 'ec2.amazonaws.com', 'TerminateInstances', 'ec2', 'ec2:instance',
                       %s, 'delete', 1, 'ops', -1.0, '{}')""",
            [tenant, f"{account}-stop", account, T0 + timedelta(hours=2), [f"i-{account}0"]],
        )
        conn.execute(
            "UPDATE dd0c.connected_accounts SET last_event_at = %s WHERE account_id = %s",
            [T0 + timedelta(hours=n), account],
        )
    return ids


@pytest.fixture
def env(app_env, db_url, operator_conn):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    operator.attach_accounts(operator_conn, a, {"111111111111"})
    operator.attach_accounts(operator_conn, b, {"222222222222"})
    conn = open_connection(db_url)
    ids = {"a": _seed(conn, a, "111111111111", 12, "alice"), "b": _seed(conn, b, "222222222222", 3, "bob")}
    conn.close()
    auth.CACHE.clear()
    keyset = {
        "a_write": keys.create_key(operator_conn, a)[0],
        "a_read": keys.create_key(operator_conn, a, scope="read")[0],
        "b_write": keys.create_key(operator_conn, b)[0],
    }
    from dd0c_cost.api.app import app

    def call(method, path, *, body=None, key=None, headers=None, query=None):
        h = {"content-type": "application/json", "host": "127.0.0.1:8080", **(headers or {})}
        if key:
            h["authorization"] = f"Bearer {keyset[key]}"
        raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        full = path + ("?" + urlencode(query) if query else "")
        result = app.resolve(apigw_v2_event(method, full, h, raw, "127.0.0.1"), LambdaContext("api"))
        try:
            payload = json.loads(result["body"]) if result.get("body") else None
        except ValueError:
            payload = result["body"]
        return result["statusCode"], payload, result

    return {"a": a, "b": b, "ids": ids, "call": call, "keys": keyset}


def test_lists_filter_sort_and_page_with_a_cursor_that_visits_every_row_once(env):
    call = env["call"]
    status, page, _ = call("GET", "/v1/anomalies", key="a_read", query={"limit": 5})
    assert status == 200 and len(page["anomalies"]) == 5 and page["next_cursor"]
    seen = [r["id"] for r in page["anomalies"]]
    while page["next_cursor"]:
        _, page, _ = call("GET", "/v1/anomalies", key="a_read", query={"limit": 5, "cursor": page["next_cursor"]})
        seen += [r["id"] for r in page["anomalies"]]
    assert sorted(seen) == sorted(env["ids"]["a"]) and len(seen) == len(set(seen)) == 12
    times = [r["detected_at"] for r in call("GET", "/v1/anomalies", key="a_read")[1]["anomalies"]]
    assert times == sorted(times, reverse=True)
    by_usd = call("GET", "/v1/anomalies", key="a_read", query={"sort": "-estimated_hourly_usd", "limit": 3})[1]
    assert [r["estimated_hourly_usd"] for r in by_usd["anomalies"]] == [12.0, 11.0, 10.0]
    nxt = call(
        "GET",
        "/v1/anomalies",
        key="a_read",
        query={"sort": "-estimated_hourly_usd", "limit": 3, "cursor": by_usd["next_cursor"]},
    )[1]
    assert [r["estimated_hourly_usd"] for r in nxt["anomalies"]] == [9.0, 8.0, 7.0]
    only = call("GET", "/v1/anomalies", key="a_read", query={"severity": "critical,high", "status": "open"})[1][
        "anomalies"
    ]
    assert only and all(r["severity"] in ("critical", "high") and r["status"] == "open" for r in only)
    assert [
        r["actor"] for r in call("GET", "/v1/anomalies", key="a_read", query={"actor": "ALICE11"})[1]["anomalies"]
    ] == ["alice11"]
    ranged = call(
        "GET",
        "/v1/anomalies",
        key="a_read",
        query={"since": (T0 + timedelta(hours=2)).isoformat(), "until": (T0 + timedelta(hours=4)).isoformat()},
    )[1]
    assert len(ranged["anomalies"]) == 2
    assert call("GET", "/v1/anomalies", key="a_read", query={"account": "222222222222"})[1]["anomalies"] == []
    assert (
        len(
            call("GET", "/v1/anomalies", key="a_read", query={"kind": "ec2:instance", "service": "ec2"})[1]["anomalies"]
        )
        == 12
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "bogus"}, "query.status"),
        ({"severity": "huge"}, "query.severity"),
        ({"limit": 1000}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"sort": "actor"}, "query.sort"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"since": "yesterday"}, "query.since"),
        ({"since": "2026-11-02T09:00:00"}, "query.since"),
        ({"account": "12"}, "query.account"),
        ({"kind": "<script>"}, "query.kind"),
    ],
)
def test_invalid_filters_are_400_with_the_field(env, query, field):
    status, body, _ = env["call"]("GET", "/v1/anomalies", key="a_read", query=query)
    assert status == 400 and body["error"] == "invalid_request"
    assert field in [d["field"] for d in body["detail"]]


def test_a_cursor_for_another_sort_is_refused(env):
    call = env["call"]
    cursor = call("GET", "/v1/anomalies", key="a_read", query={"limit": 2})[1]["next_cursor"]
    status, body, _ = call("GET", "/v1/anomalies", key="a_read", query={"limit": 2, "sort": "-score", "cursor": cursor})
    assert (status, body["detail"][0]["field"]) == (400, "query.cursor")


def test_detail_has_components_events_timeline_links_and_audit(env):
    call = env["call"]
    first = env["ids"]["a"][0]
    assert (
        call("POST", f"/v1/anomalies/{first}/status", key="a_write", body={"status": "false_positive", "by": "carol"})[
            0
        ]
        == 200
    )
    status, detail, _ = call("GET", f"/v1/anomalies/{first}/detail", key="a_read")
    assert status == 200
    assert detail["anomaly"]["components"][0]["name"] == "zscore"
    assert [e["event_name"] for e in detail["events"]] == ["RunInstances", "TerminateInstances"]
    assert detail["events"][0]["cloudtrail_url"].startswith("https://us-east-1.console.aws.amazon.com/cloudtrail/")
    assert [t["kind"] for t in detail["timeline"]][:2] == ["event", "detected"]
    assert any(t["kind"] == "status" and "false_positive" in t["text"] for t in detail["timeline"])
    assert detail["links"]["resources"][0]["url"].endswith("instanceId=i-1111111111110")
    assert [(e["action"], e["state"], e["actor"], e["source"]) for e in detail["audit"]] == [
        ("anomaly.status", "false_positive", "carol", "api")
    ]
    assert detail["monthly_usd"] == 730.0


def test_snooze_runs_in_event_time(env):
    first = env["ids"]["a"][1]
    status, body, _ = env["call"](
        "POST", f"/v1/anomalies/{first}/status", key="a_write", body={"status": "snoozed", "snooze_hours": 4}
    )
    # from the tenant's clock (its newest event, 21:00), not from the wall clock
    assert status == 200 and body["status"] == "snoozed" and body["snoozed_until"].startswith("2026-11-03T01:00")
    status, body, _ = env["call"]("POST", f"/v1/anomalies/{first}/status", key="a_write", body={"status": "snoozed"})
    assert (status, body["detail"][0]["field"]) == (400, "body.snooze_hours")


READS = [
    "/v1/anomalies",
    "/v1/spend/now",
    "/v1/spend/series",
    "/v1/spend/baselines",
    "/v1/spend/bill",
    "/v1/accounts",
    "/v1/summary",
    "/v1/governance",
    "/v1/settings",
    "/v1/audit",
    "/v1/session",
    "/v1/slack",
    "/v1/tickets/targets",
    "/v1/remediation",
    "/v1/zombies",
]
WRITES = [
    ("POST", "/v1/anomalies/{id}/status", {"status": "acknowledged"}),
    ("POST", "/v1/governance/mode", {"mode": "shadow", "reason": "r"}),
    ("POST", "/v1/governance/panic", {"on": True, "reason": "r"}),
    ("PUT", "/v1/settings", {"scoring": {"score_threshold": 0.5}}),
    ("POST", "/v1/accounts", {"account_id": "333333333333", "regions": ["us-east-1"]}),
    ("POST", "/v1/ingest", {"Records": []}),
    ("POST", "/v1/slack/install", {}),
    ("DELETE", "/v1/slack", None),
    ("PUT", "/v1/slack/routes", {"default": "#cost"}),
    ("PATCH", "/v1/accounts/{account_id}", {"display_name": "prod"}),
    (
        "PUT",
        "/v1/tickets/targets/{name}",
        {"config": {"kind": "webhook", "url": "https://x.example"}, "credential": "s"},
    ),
    ("DELETE", "/v1/tickets/targets/{name}", None),
    ("PUT", "/v1/remediation", {"allowed_users": ["U0ALICE"]}),
    ("POST", "/v1/zombies/{finding_id}/status", {"status": "acknowledged"}),
]


def test_every_api_key_route_is_covered_here():
    covered = {("GET", p) for p in READS} | {(m, p.replace("{id}", "{anomaly_id}")) for m, p, _ in WRITES}
    covered |= {
        ("GET", "/v1/anomalies/{anomaly_id}"),
        ("GET", "/v1/anomalies/{anomaly_id}/detail"),
        ("DELETE", "/v1/session"),
        ("GET", "/v1/zombies/{finding_id}"),  # (test_zombie_api_cli)
    }  # (test_console_session_cookie_and_csrf)
    declared = {(r.method, r.path) for r in TOPOLOGY.routes if r.auth == "api_key"}
    assert declared == covered


def test_every_read_route_answers_a_read_key_and_refuses_no_key(env):
    call = env["call"]
    for path in READS:
        status, body, _ = call("GET", path, key="a_read")
        assert status == 200, (path, body)
        status, body, _ = call("GET", path)
        assert (status, body["error"]) == (401, "missing_credentials"), path
        status, body, _ = call("GET", path, headers={"authorization": "Bearer dd0c_forged"})
        assert (status, body["error"]) == (401, "invalid_api_key"), path


def test_every_write_route_refuses_a_read_key_and_changes_nothing(env):
    call = env["call"]
    target = env["ids"]["a"][1]
    for method, path, body in WRITES:
        status, answer, _ = call(
            method,
            path.format(id=target, account_id="111111111111", name="jira", finding_id=target),
            key="a_read",
            body=body,
        )
        assert (status, answer["error"]) == (403, "read_only_key"), path
    assert call("GET", f"/v1/anomalies/{target}", key="a_read")[1]["status"] == "open"
    assert call("GET", "/v1/governance", key="a_read")[1]["panic"] is False
    assert call("GET", "/v1/audit", key="a_read")[1]["entries"] == []


def test_another_tenants_ids_are_not_found_and_its_data_never_shows(env):
    call = env["call"]
    theirs = env["ids"]["b"][1]  # open
    for method, path, body in [
        ("GET", "/v1/anomalies/{id}", None),
        ("GET", "/v1/anomalies/{id}/detail", None),
        ("POST", "/v1/anomalies/{id}/status", {"status": "false_positive"}),
    ]:
        status, answer, _ = call(method, path.format(id=theirs), key="a_write", body=body)
        assert (status, answer["error"]) == (404, "not_found"), path
    assert call("GET", f"/v1/anomalies/{theirs}", key="b_write")[1]["status"] == "open"
    listed = {r["id"] for r in call("GET", "/v1/anomalies", key="a_read", query={"limit": 200})[1]["anomalies"]}
    assert listed == set(env["ids"]["a"])
    assert [a["account_id"] for a in call("GET", "/v1/accounts", key="a_read")[1]["accounts"]] == ["111111111111"]
    assert {g["key"] for g in call("GET", "/v1/spend/now", key="a_read", query={"by": "account"})[1]["groups"]} == {
        "111111111111"
    }
    assert (
        call("GET", "/v1/spend/series", key="a_read", query={"by": "account", "key": "222222222222"})[1]["anomalies"]
        == []
    )
    assert call("GET", "/v1/audit", key="a_read", query={"subject": f"anomaly:{theirs}"})[1]["entries"] == []
    # b's governance is b's own: a's panic does not touch it
    call("POST", "/v1/governance/panic", key="a_write", body={"on": True, "reason": "a only"})
    assert call("GET", "/v1/governance", key="b_write")[1]["panic"] is False


def test_spend_summary_and_accounts(env):
    call = env["call"]
    now = call("GET", "/v1/spend/now", key="a_read", query={"by": "service"})[1]
    assert now["total_usd_per_hour"] == pytest.approx(sum(1.0 + i for i in range(12)) - 1.0)
    series = call(
        "GET",
        "/v1/spend/series",
        key="a_read",
        query={"start": T0.isoformat(), "end": (T0 + timedelta(hours=12)).isoformat()},
    )[1]
    assert len(series["points"]) == 12 and series["points"][0]["usd_per_hour"] == 1.0
    assert series["points"][2]["usd_per_hour"] == 1.0 + 2.0 + 3.0 - 1.0  # the first was terminated at +2 h
    assert len(series["anomalies"]) == 12
    summary = call("GET", "/v1/summary", key="a_read")[1]
    assert sum(summary["open_by_severity"].values()) == 12 and summary["saved_anomalies"] == 1
    assert summary["saved_usd"] == pytest.approx(1.0 * (720 - 2))
    accounts = call("GET", "/v1/accounts", key="a_read")[1]["accounts"]
    assert (accounts[0]["flow"], accounts[0]["events_last_24h"]) == ("flowing", 13)
    status, body, _ = call("GET", "/v1/spend/series", key="a_read", query={"by": "service"})
    assert (status, body["error"]) == (400, "invalid_request")
    status, body, _ = call(
        "GET", "/v1/spend/series", key="a_read", query={"start": "2020-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    )
    assert status == 400 and "narrow" in body["message"]


def test_governance_and_settings_changes_are_audited(env):
    call = env["call"]
    view = call(
        "POST", "/v1/governance/mode", key="a_write", body={"mode": "shadow", "reason": "quiet start", "by": "dana"}
    )[1]
    assert (view["mode"], view["default_mode"]) == ("shadow", False)
    view = call(
        "POST",
        "/v1/governance/mode",
        key="a_write",
        body={"mode": "enforce", "rule": "stop-idle-gpu", "reason": "trusted rule"},
    )[1]
    assert view["rules"] == {"stop-idle-gpu": "enforce"}
    assert call("POST", "/v1/governance/mode", key="a_write", body={"mode": None, "reason": "x"})[0] == 400
    assert (
        call("POST", "/v1/governance/panic", key="a_write", body={"on": True, "reason": "runaway"})[1]["panic"] is True
    )
    settings = call(
        "PUT",
        "/v1/settings",
        key="a_write",
        body={"scoring": {"score_threshold": 0.7}, "governance_policy": {"min_reviewed": 5}, "reason": "tune"},
    )[1]
    assert settings["scoring"]["score_threshold"] == 0.7 and settings["governance"]["policy"]["min_reviewed"] == 5
    settings = call("PUT", "/v1/settings", key="a_write", body={"reset": ["score_threshold"]})[1]
    assert "score_threshold" not in settings["scoring"]
    assert call("PUT", "/v1/settings", key="a_write", body={"reset": ["bogus"]})[0] == 400
    assert call("PUT", "/v1/settings", key="a_write", body={"scoring": {"score_threshold": 7}})[0] == 400
    log = call("GET", "/v1/audit", key="a_read", query={"limit": 3})[1]
    assert [e["action"] for e in log["entries"]] == ["settings.changed", "settings.changed", "governance.panic"]
    rest = call("GET", "/v1/audit", key="a_read", query={"limit": 10, "before": log["next_before"]})[1]
    assert [e["action"] for e in rest["entries"]] == ["governance.mode", "governance.mode"] and rest[
        "next_before"
    ] is None


def test_console_session_cookie_and_csrf(env):
    call = env["call"]
    status, body, raw = call("POST", "/v1/session", body={"key": "dd0c_not-a-key"})
    assert (status, body["error"]) == (401, "invalid_api_key")
    status, session, raw = call("POST", "/v1/session", body={"key": env["keys"]["a_write"]})
    assert status == 201 and session["scope"] == "write" and session["tenant_name"] == "tenant-a"
    cookie = raw["cookies"][0]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=3600" in cookie
    secret = cookie.split(";")[0]
    with_cookie = {"cookie": secret}
    assert call("GET", "/v1/summary", headers=with_cookie)[0] == 200
    target = env["ids"]["a"][2]
    status, body, _ = call(
        "POST", f"/v1/anomalies/{target}/status", headers=with_cookie, body={"status": "acknowledged"}
    )
    assert (status, body["error"]) == (403, "csrf_token_mismatch")
    status, body, _ = call(
        "POST",
        f"/v1/anomalies/{target}/status",
        body={"status": "acknowledged"},
        headers={**with_cookie, "x-csrf-token": session["csrf_token"]},
    )
    assert status == 200 and body["status"] == "acknowledged"
    entry = call("GET", "/v1/audit", key="a_read", query={"limit": 1})[1]["entries"][0]
    assert (entry["action"], entry["source"]) == ("anomaly.status", "console")
    assert call("DELETE", "/v1/session", headers=with_cookie)[0] == 403  # CSRF on sign-out too
    assert call("DELETE", "/v1/session", headers={**with_cookie, "x-csrf-token": session["csrf_token"]})[0] == 200
    status, body, _ = call("GET", "/v1/summary", headers=with_cookie)
    assert (status, body["error"]) == (401, "invalid_session")


def test_bad_bodies_ids_and_sizes_are_4xx_never_500(env):
    call = env["call"]
    target = env["ids"]["a"][0]
    cases = [
        ("POST", f"/v1/anomalies/{target}/status", b"{not json"),
        ("POST", f"/v1/anomalies/{target}/status", b"[]"),
        ("POST", f"/v1/anomalies/{target}/status", {"status": "open", "extra": 1}),
        ("POST", "/v1/governance/mode", {"mode": "yolo", "reason": "r"}),
        ("POST", "/v1/governance/mode", {"mode": "audit"}),
        ("POST", "/v1/governance/mode", {"mode": "audit", "reason": "r", "rule": "<b>x</b>"}),
        ("POST", "/v1/governance/panic", {"on": "maybe", "reason": "r"}),
        ("PUT", "/v1/settings", {"scoring": {"nope": 1}}),
        ("POST", "/v1/session", {"key": 5}),
        ("POST", "/v1/governance/panic", {"on": True, "reason": "x" * 70_000}),
    ]
    for method, path, body in cases:
        status, answer, _ = call(method, path, key="a_write", body=body)
        assert 400 <= status < 500 and answer["error"] and "message" in answer, (path, body, status, answer)
    assert call("POST", "/v1/governance/panic", key="a_write", body={"on": True, "reason": "x" * 70_000})[0] == 413
    status, body, _ = call("GET", "/v1/anomalies/not-a-uuid/detail", key="a_read")
    assert (status, body["error"], body["detail"][0]["field"]) == (400, "bad_anomaly_id", "path.anomaly_id")
    assert call("GET", "/v1/nothing-here", key="a_read")[:2] == (
        404,
        {"error": "not_found", "message": "no such route", "detail": []},
    )


def test_console_and_docs_are_served_with_a_strict_policy(env):
    call = env["call"]
    status, html, raw = call("GET", "/")
    assert status == 200 and '<div id="app">' in html and "https://" not in html  # nothing from a CDN
    assert "script-src 'self'" in raw["headers"]["content-security-policy"]
    status, _js, raw = call("GET", "/console/app.js")
    assert status == 200 and raw["headers"]["Content-Type"].startswith("text/javascript")
    assert call("GET", "/console/..%2Fapp.py")[0] == 404 and call("GET", "/console/secret.txt")[0] == 404
    status, docs, _ = call("GET", "/docs")
    assert status == 200 and "/docs/swagger-ui-bundle.js" in docs and "https://" not in docs
    assert call("GET", "/docs/swagger-ui-bundle.js")[0] == 200
    status, document, _ = call("GET", "/openapi.json")
    assert status == 200 and "/v1/anomalies/{anomaly_id}/detail" in document["paths"]
