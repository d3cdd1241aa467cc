"""Slack per tenant, end to end against the local Slack fake: the OAuth v2 install, sealed bot
tokens, each tenant's alerts only in its own workspace, clicks only from that workspace (Grid
included), the single-workspace env token bound to one tenant, uninstall, routes."""

from __future__ import annotations

import json
import logging

import pytest

from dd0c_cost.db.connection import open_connection, tenant_transaction
from tests.slack_world import query


def _row(db_url, tenant):
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant.id):
            return conn.execute(
                "SELECT team_id, status, bot_token_sealed, default_channel_id FROM dd0c.slack_installations "
                "ORDER BY installed_at DESC LIMIT 1"
            ).fetchone()
    finally:
        conn.close()


def test_oauth_install_saves_a_sealed_token_for_the_tenant_and_never_logs_it(world, caplog):
    acme = world.tenant("acme", "111111111111")
    caplog.set_level(logging.DEBUG)
    result = world.install(acme, "T0ACME", channel_id="C0ACME", channel_name="#acme-cost")
    assert result["statusCode"] == 200 and "Thank you" in result["body"]
    assert any("Max-Age=0" in c for c in result["cookies"])  # the state cookie is cleared

    token = world.slack.token_of("T0ACME")
    row = _row(world.db_url, acme)
    assert (row["team_id"], row["status"], row["default_channel_id"]) == ("T0ACME", "active", "C0ACME")
    assert token.encode() not in bytes(row["bot_token_sealed"])
    [exchange] = world.slack.calls_to("oauth.v2.access")
    assert exchange.params["redirect_uri"] == "http://localhost/slack/oauth_redirect"

    status, view = world.api("GET", "/v1/slack", acme)
    assert status == 200 and view["delivery"] == "installation"
    assert view["installation"]["team_id"] == "T0ACME" and view["installation"]["default_channel"] == "C0ACME"
    assert token not in json.dumps(view)

    anomaly = world.raise_anomaly(acme)
    assert anomaly["delivery"]["status"] == "slack" and anomaly["delivery"]["channel"] == "C0ACME"
    [post] = world.posts_in("T0ACME")
    assert post.params["channel"] == "C0ACME" and anomaly["id"] in json.dumps(post.params["blocks"])
    assert token not in caplog.text and "fake-client-secret" not in caplog.text


def test_each_tenants_alerts_go_only_to_its_own_workspace(world):
    acme, globex, initech = (
        world.tenant("acme", "111111111111"),
        world.tenant("globex", "222222222222"),
        world.tenant("initech", "333333333333"),
    )
    world.install(acme, "T0ACME")
    world.install(globex, "T0GLOBEX")
    a, g, i = world.raise_anomaly(acme), world.raise_anomaly(globex), world.raise_anomaly(initech)

    acme_posts, globex_posts = world.posts_in("T0ACME"), world.posts_in("T0GLOBEX")
    assert [a["id"] in json.dumps(p.params) for p in acme_posts] == [True]
    assert [g["id"] in json.dumps(p.params) for p in globex_posts] == [True]
    assert not any(g["id"] in json.dumps(p.params) or i["id"] in json.dumps(p.params) for p in acme_posts)
    # initech installed nothing: its alert is kept, shown as undelivered, and posted nowhere
    assert i["delivery"] == {"status": "undelivered", "detail": "slack_not_installed", "channel": None, "ts": None}
    assert len(world.slack.calls_to("chat.postMessage")) == 2
    _, view = world.api("GET", "/v1/slack", initech)
    assert (view["delivery"], view["undelivered_reason"], view["installation"]) == ("none", "slack_not_installed", None)


def test_a_click_from_another_workspace_changes_nothing(world):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME")
    anomaly = world.raise_anomaly(acme)
    status, reply = world.click(acme, "anomaly_acknowledge", anomaly["id"], team_id="T_EVIL")
    assert (status, reply["ok"], reply["error"]) == (200, False, "foreign_workspace")
    assert world.anomaly(acme, anomaly["id"])["status"] == "open"
    assert world.slack.calls_to("chat.update") == []
    # the person who clicked is told why, through the interaction's response_url
    assert [r["response_type"] for r in world.slack.responses] == ["ephemeral"]
    assert "another Slack workspace" in world.slack.responses[0]["text"]

    status, reply = world.click(acme, "anomaly_acknowledge", anomaly["id"])  # from T0ACME itself
    assert (status, reply) == (200, {"ok": True})
    assert world.anomaly(acme, anomaly["id"])["status"] == "acknowledged"
    [update] = world.slack.calls_to("chat.update")
    assert update.team_id == "T0ACME" and "Acknowledged by <@U0ALICE>" in json.dumps(update.params["blocks"])


def test_a_click_naming_another_tenants_anomaly_changes_nothing(world):
    acme, globex = world.tenant("acme", "111111111111"), world.tenant("globex", "222222222222")
    world.install(acme, "T0ACME")
    world.install(globex, "T0GLOBEX")
    theirs = world.raise_anomaly(globex)
    # a person in acme's workspace forges a button naming acme's tenant and globex's anomaly
    status, reply = world.click(acme, "anomaly_acknowledge", theirs["id"], team_id="T0ACME")
    assert (status, reply["ok"], reply["error"]) == (200, False, "not_found")
    # ... or naming globex's tenant: then acme's workspace is foreign to it
    status, reply = world.click(globex, "anomaly_acknowledge", theirs["id"], team_id="T0ACME")
    assert reply["error"] == "foreign_workspace"
    assert world.anomaly(globex, theirs["id"])["status"] == "open"


def test_grid_org_wide_install_accepts_its_workspaces_only(world):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0HQ", enterprise_id="E0ACME", is_enterprise_install=True)
    anomaly = world.raise_anomaly(acme)
    assert anomaly["delivery"]["status"] == "slack"
    ok = world.click(acme, "anomaly_acknowledge", anomaly["id"], team_id="T0SALES", enterprise_id="E0ACME")
    assert ok[1] == {"ok": True}
    other = world.raise_anomaly(acme)
    refused = world.click(acme, "anomaly_acknowledge", other["id"], team_id="T0SALES", enterprise_id="E0EVIL")
    assert refused[1]["error"] == "foreign_workspace"
    assert world.anomaly(acme, other["id"])["status"] == "open"


def test_workspace_install_inside_a_grid_needs_its_own_team(world):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME", enterprise_id="E0ACME")
    anomaly = world.raise_anomaly(acme)
    assert (
        world.click(acme, "anomaly_acknowledge", anomaly["id"], team_id="T0OTHER", enterprise_id="E0ACME")[1]["error"]
        == "foreign_workspace"
    )
    assert (
        world.click(acme, "anomaly_acknowledge", anomaly["id"], team_id="T0ACME", enterprise_id="E0EVIL")[1]["error"]
        == "foreign_workspace"
    )
    assert world.click(acme, "anomaly_acknowledge", anomaly["id"], team_id="T0ACME", enterprise_id="E0ACME")[1] == {
        "ok": True
    }


def test_install_state_is_tied_to_the_browser_works_once_and_expires(world):
    acme = world.tenant("acme", "111111111111")
    _status, link = world.api("POST", "/v1/slack/install", acme)
    state = query(link["install_url"])["state"]
    start = world.http("GET", f"/slack/install?state={state}")
    assert start["statusCode"] == 302 and query(start["headers"]["Location"])["state"] == state
    assert (
        query(start["headers"]["Location"])["scope"] == "chat:write,chat:write.public,incoming-webhook,usergroups:read"
    )
    # a redirect without the browser's cookie (another browser, a forged link) is refused
    stolen = world.http("GET", f"/slack/oauth_redirect?code=anything&state={state}")
    assert stolen["statusCode"] == 400 and "did not start this install" in stolen["body"]
    # an unknown state never reaches Slack
    assert world.http("GET", "/slack/install?state=made-up")["statusCode"] == 410
    assert world.http("GET", "/slack/install")["statusCode"] == 400
    # the real one works once
    cookie = {"cookie": f"dd0c-slack-oauth-state={state}"}
    world.slack.next_install("T0ACME")
    declined = world.http("GET", f"/slack/oauth_redirect?error=access_denied&state={state}", headers=cookie)
    assert declined["statusCode"] == 400 and "access_denied" in declined["body"]
    again = world.http("GET", f"/slack/oauth_redirect?code=x&state={state}", headers=cookie)
    assert again["statusCode"] == 410  # consumed by the declined attempt
    # expiry: a state past its time is gone
    _, link = world.api("POST", "/v1/slack/install", acme)
    old = query(link["install_url"])["state"]
    conn = open_connection(world.db_url)
    conn.execute("RESET ROLE")
    conn.execute("UPDATE dd0c.slack_oauth_states SET expires_at = now() - interval '1 second'")
    conn.commit()
    conn.close()
    assert world.http("GET", f"/slack/install?state={old}")["statusCode"] == 410
    assert _row(world.db_url, acme) is None


def test_a_bad_code_saves_nothing(world):
    acme = world.tenant("acme", "111111111111")
    _, link = world.api("POST", "/v1/slack/install", acme)
    state = query(link["install_url"])["state"]
    result = world.http(
        "GET", f"/slack/oauth_redirect?code=forged&state={state}", headers={"cookie": f"dd0c-slack-oauth-state={state}"}
    )
    assert result["statusCode"] == 400 and "invalid_code" in result["body"]
    assert _row(world.db_url, acme) is None


def test_reinstall_replaces_the_installation(world):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0OLD")
    world.install(acme, "T0NEW")
    anomaly = world.raise_anomaly(acme)
    assert world.posts_in("T0OLD") == [] and len(world.posts_in("T0NEW")) == 1
    assert world.click(acme, "anomaly_acknowledge", anomaly["id"], team_id="T0OLD")[1]["error"] == "foreign_workspace"


def test_uninstall_and_revoked_tokens_stop_delivery_and_show_in_the_api(world):
    acme, globex = world.tenant("acme", "111111111111"), world.tenant("globex", "222222222222")
    world.install(acme, "T0ACME")
    world.install(globex, "T0GLOBEX")
    assert world.event({"type": "url_verification", "challenge": "c-123"}) == (200, {"challenge": "c-123"})
    assert world.event({"type": "event_callback", "team_id": "T0ACME"}, secret="wrong")[0] == 401

    status, body = world.event({"type": "event_callback", "team_id": "T0ACME", "event": {"type": "app_uninstalled"}})
    assert (status, body) == (200, {"ok": True, "disabled": 1})
    assert (
        world.event({"type": "event_callback", "team_id": "T0ACME", "event": {"type": "app_uninstalled"}})[1][
            "disabled"
        ]
        == 0
    )

    status, view = world.api("GET", "/v1/slack", acme)
    assert (view["delivery"], view["undelivered_reason"], view["installation"]["status"]) == (
        "none",
        "slack_uninstalled",
        "uninstalled",
    )
    assert view["installation"]["disabled_at"]
    assert _row(world.db_url, acme)["bot_token_sealed"] is None  # the token is gone, not just unused
    anomaly = world.raise_anomaly(acme)
    assert anomaly["delivery"]["status"] == "undelivered" and anomaly["delivery"]["detail"] == "slack_uninstalled"
    assert world.posts_in("T0ACME") == []

    # tokens_revoked names bot users; only a revoked bot token disables delivery
    bot = "U0BOTT0GLOBEX"
    assert (
        world.event(
            {
                "type": "event_callback",
                "team_id": "T0GLOBEX",
                "event": {"type": "tokens_revoked", "tokens": {"oauth": ["U1"]}},
            }
        )[1]["disabled"]
        == 0
    )
    assert (
        world.event(
            {
                "type": "event_callback",
                "team_id": "T0GLOBEX",
                "event": {"type": "tokens_revoked", "tokens": {"bot": [bot]}},
            }
        )[1]["disabled"]
        == 1
    )
    status, view = world.api("GET", "/v1/slack", globex)
    assert view["undelivered_reason"] == "slack_tokens_revoked"
    # a click from the uninstalled workspace is refused too
    assert world.click(acme, "anomaly_acknowledge", anomaly["id"], team_id="T0ACME")[1]["error"] == "foreign_workspace"


def test_alerts_kept_undelivered_go_out_when_slack_is_installed_or_a_route_matches(world):
    acme, globex = world.tenant("acme", "111111111111"), world.tenant("globex", "222222222222")
    kept = world.raise_anomaly(acme)
    assert kept["delivery"]["detail"] == "slack_not_installed"
    # Installed, but the installer picked no channel: sent again, kept again (no route).
    world.install(acme, "T0ACME", channel_id=None)
    world.pipeline.drain()
    assert world.anomaly(acme, kept["id"])["delivery"]["detail"] == "no_route"
    # A route that does not match it changes nothing.
    assert world.api("PUT", "/v1/slack/routes", acme, json_body={"account": {"999999999999": "#other"}})[0] == 200
    world.pipeline.drain()
    assert world.anomaly(acme, kept["id"])["delivery"]["detail"] == "no_route" and world.posts_in("T0ACME") == []
    # A default route: it goes out, once, even though the routes change twice before the queue drains.
    assert world.api("PUT", "/v1/slack/routes", acme, json_body={"default": "#cost"})[0] == 200
    assert (
        world.api("PUT", "/v1/slack/routes", acme, json_body={"default": "#cost", "service": {"rds": "#db"}})[0] == 200
    )
    world.pipeline.drain()
    [post] = world.posts_in("T0ACME")
    assert post.params["channel"] == "#cost" and kept["id"] in json.dumps(post.params)
    assert world.slack.calls_to("chat.update") == []  # the second change's message found it delivered
    delivery = world.anomaly(acme, kept["id"])["delivery"]
    assert (delivery["status"], delivery["detail"], delivery["ts"]) == ("slack", "default", post.response["ts"])
    world.api("PUT", "/v1/slack/routes", acme, json_body={"default": "#finops"})
    world.pipeline.drain()
    assert len(world.posts_in("T0ACME")) == 1  # delivered alerts are not sent again

    # The other tenant's alert, kept while it had no Slack, goes to its own workspace when it installs.
    waiting = world.raise_anomaly(globex)
    world.install(globex, "T0GLOBEX")
    world.pipeline.drain()
    [post] = world.posts_in("T0GLOBEX")
    assert waiting["id"] in json.dumps(post.params)
    assert world.anomaly(globex, waiting["id"])["delivery"]["status"] == "slack"
    assert len(world.posts_in("T0ACME")) == 1


def test_a_route_is_a_governance_rule_whose_mode_wins_over_the_tenants(world):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME", channel_id=None)

    def mode(mode: str, rule: str | None = None) -> None:
        body = {"mode": mode, "reason": "test", **({"rule": rule} if rule else {})}
        assert world.api("POST", "/v1/governance/mode", acme, json_body=body)[0] == 200

    # The tenant notifies (audit), but alerts on the default route are only watched (shadow).
    mode("audit")
    mode("shadow", "route:default")
    world.api("PUT", "/v1/slack/routes", acme, json_body={"default": "#cost"})
    quiet = world.raise_anomaly(acme)
    assert world.posts_in("T0ACME") == [] and quiet["delivery"]["status"] == "pending"
    # The tenant is in shadow mode, but critical alerts go to #oncall (that route: audit).
    world.api("PUT", "/v1/slack/routes", acme, json_body={"default": "#cost", "severity": {"critical": "#oncall"}})
    mode("shadow")
    mode("audit", "route:severity:critical")
    loud = world.raise_anomaly(acme)
    assert loud["severity"] == "critical"
    assert [p.params["channel"] for p in world.posts_in("T0ACME")] == ["#oncall"]
    assert loud["delivery"]["detail"] == "severity:critical"


def test_env_token_serves_only_the_tenant_it_names(world, monkeypatch):
    from dd0c_cost.settings import reset_settings

    acme, globex = world.tenant("acme", "111111111111"), world.tenant("globex", "222222222222")
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLACK_BOT_TOKEN", world.slack.token)
    monkeypatch.setenv("SLACK_TENANT", "acme")
    monkeypatch.setenv("SLACK_CHANNEL", "#acme-alerts")
    reset_settings()
    a, g = world.raise_anomaly(acme), world.raise_anomaly(globex)
    [post] = world.slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "#acme-alerts" and a["id"] in json.dumps(post.params)
    assert g["delivery"]["detail"] == "slack_not_installed"
    # clicks: the env workspace (auth.test: T0FAKE) for acme; nobody for globex
    assert world.click(acme, "anomaly_acknowledge", a["id"], team_id="T0FAKE")[1] == {"ok": True}
    assert world.click(acme, "anomaly_expected", a["id"], team_id="T_EVIL")[1]["error"] == "foreign_workspace"
    assert world.click(globex, "anomaly_acknowledge", g["id"], team_id="T0FAKE")[1]["error"] == "foreign_workspace"
    _, view = world.api("GET", "/v1/slack", acme)
    assert view["delivery"] == "env"


def test_routes_choose_the_most_specific_channel_and_unrouted_alerts_are_kept(world):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME", channel_id=None)  # the installer picked no channel
    first = world.raise_anomaly(acme)
    assert first["delivery"] == {"status": "undelivered", "detail": "no_route", "channel": None, "ts": None}

    routes = {
        "default": "#cost",
        "account": {"111111111111": "#acme-prod"},
        "service": {"ec2": "#compute"},
        "severity": {"critical": "#oncall"},
    }
    status, view = world.api("PUT", "/v1/slack/routes", acme, json_body=routes)
    assert status == 200 and view["routes"] == routes
    assert world.raise_anomaly(acme)["delivery"]["detail"] == "account:111111111111"
    del routes["account"]
    world.api("PUT", "/v1/slack/routes", acme, json_body=routes)
    assert world.raise_anomaly(acme)["delivery"]["detail"] == "service:ec2"
    del routes["service"]
    world.api("PUT", "/v1/slack/routes", acme, json_body=routes)
    assert world.raise_anomaly(acme)["delivery"]["detail"] == "severity:critical"
    del routes["severity"]
    world.api("PUT", "/v1/slack/routes", acme, json_body=routes)
    last = world.raise_anomaly(acme)
    assert last["delivery"]["detail"] == "default"
    channels = [p.params["channel"] for p in world.posts_in("T0ACME")]
    # the first alert, kept for want of a route, went out once the routes were set
    assert channels == ["#acme-prod", "#acme-prod", "#compute", "#oncall", "#cost"]
    assert world.anomaly(acme, first["id"])["delivery"]["detail"] == "account:111111111111"

    status, body = world.api("PUT", "/v1/slack/routes", acme, json_body={"account": {"42": "#x"}})
    assert (status, body["error"]) == (400, "invalid_request")
    status, body = world.api("PUT", "/v1/slack/routes", acme, json_body={"severity": {"huge": "#x"}})
    assert (status, body["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("path", ["/v1/slack", "/v1/slack/install"])
def test_slack_endpoints_need_the_tenant_key(world, path):
    method = "GET" if path == "/v1/slack" else "POST"
    status, body = world.api(method, path)
    assert (status, body["error"]) == (401, "missing_credentials")


def test_account_names_are_the_tenants_own(world):
    acme, globex = world.tenant("acme", "111111111111"), world.tenant("globex", "222222222222")
    assert world.api("PATCH", "/v1/accounts/111111111111", acme, json_body={"display_name": "acme-prod"})[0] == 200
    status, body = world.api("PATCH", "/v1/accounts/111111111111", globex, json_body={"display_name": "mine now"})
    assert (status, body["error"]) == (404, "not_found")
    world.install(acme, "T0ACME")
    world.raise_anomaly(acme)
    [post] = world.posts_in("T0ACME")
    assert "acme-prod" in json.dumps(post.params["blocks"])


def test_cli_sets_routes_names_accounts_and_shows_status(world, capsys, monkeypatch):
    from dd0c_cost_tools.cli import main

    monkeypatch.setenv("DATABASE_URL", world.db_url)
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME")
    assert (
        main(
            [
                "slack",
                "routes",
                "--tenant",
                "acme",
                "--default",
                "#cost",
                "--severity",
                "critical=#oncall",
                "--account",
                "111111111111=#acme-prod",
            ]
        )
        == 0
    )
    assert main(["slack", "routes", "--tenant", "acme", "--account", "111111111111=none", "--json"]) == 0
    out = capsys.readouterr().out
    status = json.loads(out[out.index("{\n") :])
    assert status["routes"] == {"default": "#cost", "account": {}, "service": {}, "severity": {"critical": "#oncall"}}
    assert status["delivery"] == "installation" and status["installation"]["team_id"] == "T0ACME"
    with pytest.raises(SystemExit, match="not one of"):
        main(["slack", "routes", "--tenant", "acme", "--severity", "huge=#x"])
    assert main(["accounts", "name", "111111111111", "--tenant", "acme", "--display-name", "acme-prod"]) == 0
    assert capsys.readouterr().out == "111111111111  acme-prod\n"
    assert world.raise_anomaly(acme)["delivery"]["detail"] == "severity:critical"
    assert world.posts_in("T0ACME")[-1].params["channel"] == "#oncall"
    assert "acme-prod" in json.dumps(world.posts_in("T0ACME")[-1].params["blocks"])
    assert main(["slack", "install-link", "--tenant", "acme", "--public-url", "https://api.example"]) == 0
    assert capsys.readouterr().out.startswith("https://api.example/slack/install?state=")
    assert main(["slack", "uninstall", "--tenant", "acme"]) == 0
    assert "installation removed" in capsys.readouterr().out
    assert world.raise_anomaly(acme)["delivery"]["detail"] == "slack_removed"
