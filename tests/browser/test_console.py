"""The console in headless Chromium: sign in, filter, open an anomaly and see its component
chart, switch governance mode, press panic and see it take effect, and a stored-XSS attempt
through an actor name shows as text. Screenshots of every page go to test-output/browser/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dd0c_cost import governance
from dd0c_cost.auth import keys
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
XSS_ACTOR = '<img src=x onerror="window.__xss=1">'
XSS_SUMMARY = "<script>window.__xss=2</script> launched 8 × p4d.24xlarge"


@pytest.fixture(scope="module")
def tenant(module_db):
    op = operator.open_operator_connection(module_db)
    tenant_id = operator.ensure_tenant(op, "browser-co")
    operator.attach_accounts(op, tenant_id, {"111111111111"})
    secret, _ = keys.create_key(op, tenant_id, name="browser test")
    op.close()
    conn = open_connection(module_db)
    ids = []
    with tenant_transaction(conn, tenant_id):
        for i in range(8):
            when = T0 + timedelta(days=i)
            conn.execute(
                """INSERT INTO dd0c.cost_events (tenant_id, event_id, account_id, region, event_time, event_source,
                   event_name, service, resource_type, resource_ids, action, quantity, actor_name, estimated_usd_per_hour, payload)
                   VALUES (%s, %s, '111111111111', 'us-east-1', %s, 'ec2.amazonaws.com', 'RunInstances', 'ec2',
                           'ec2:instance', %s, 'create', 1, 'alice', %s, '{}')""",
                [tenant_id, f"e{i}", when, [f"i-{i:04d}"], 2.0 + i],
            )
            xss = i == 7
            row = conn.execute(
                """INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, resource_ids,
                   event_ids, actor, detected_at, score, severity, estimated_hourly_usd, summary, components)
                   VALUES (%s, '111111111111', 'us-east-1', 'ec2', 'ec2:instance', %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   RETURNING id""",
                [
                    tenant_id,
                    [f"<b>i-{i:04d}</b>" if xss else f"i-{i:04d}"],
                    [f"e{i}"],
                    XSS_ACTOR if xss else f"dev{i}",
                    when,
                    0.6 + i / 20,
                    ["low", "medium", "high", "critical"][i % 4],
                    2.0 + i,
                    XSS_SUMMARY if xss else f"dev{i} launched 1 × m5.large",
                    json.dumps(
                        [
                            {"name": "zscore", "value": 0.9, "reason": "far above the level"},
                            {"name": "novelty", "value": 0.4, "reason": "new instance family"},
                        ]
                    ),
                ],
            ).fetchone()
            ids.append(str(row["id"]))
        conn.execute("UPDATE dd0c.connected_accounts SET last_event_at = %s", [T0 + timedelta(days=8)])
    conn.close()
    return {"id": tenant_id, "key": secret, "anomalies": ids}


def _wait(driver, predicate, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: predicate(d))


def _css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def test_console_end_to_end(server, browser, tenant, module_db):
    from selenium.webdriver.support.ui import Select

    d = browser
    # --- sign in ------------------------------------------------------------------------------
    d.get(server + "/")
    _wait(d, lambda d: _css(d, "input#key"))
    shot(d, "01-sign-in")
    _css(d, "input#key")[0].send_keys(tenant["key"])
    _css(d, "button[type=submit]")[0].click()
    _wait(d, lambda d: _css(d, "[data-testid=spend-chart] canvas"))
    _wait(d, lambda d: "Open anomalies" in d.find_element("tag name", "main").text)
    assert "browser-co" in _css(d, "header .who")[0].text
    cookies = {c["name"]: c for c in d.get_cookies()}
    assert cookies["dd0c_session"]["httpOnly"] and cookies["dd0c_session"]["sameSite"] == "Strict"
    assert d.execute_script("return document.cookie").find("dd0c_session") == -1  # scripts cannot read it
    shot(d, "02-overview")

    # --- anomalies: filter ---------------------------------------------------------------------
    d.get(server + "/#/anomalies")
    _wait(d, lambda d: len(_css(d, "[data-testid=anomaly-table] tbody tr")) == 8)
    Select(_css(d, "select[name=severity]")[0]).select_by_visible_text("critical")
    _wait(d, lambda d: len(_css(d, "[data-testid=anomaly-table] tbody tr")) == 2)
    assert {td.text.lower() for td in _css(d, "[data-testid=anomaly-table] tbody td.sev")} == {"critical"}
    shot(d, "03-anomalies-filtered")

    # --- stored XSS through the actor name, summary and resource id: shown as text ----------------
    assert d.execute_script("return window.__xss") is None
    actors = [td.text for td in _css(d, "[data-testid=anomaly-table] td.actor")]
    assert XSS_ACTOR in actors
    assert not _css(d, "[data-testid=anomaly-table] img") and not _css(d, "main script")

    # --- open one: its component chart and timeline ---------------------------------------------
    _css(d, "[data-testid=anomaly-table] tbody tr")[0].click()
    _wait(d, lambda d: _css(d, "[data-testid=component-chart] .bar"))
    bars = _css(d, "[data-testid=component-chart] .bar")
    assert [b.text.split("\n")[0] for b in bars] == ["zscore", "novelty"]
    widths = [b.find_element("css selector", ".fill").get_attribute("style") for b in bars]
    assert "90%" in widths[0] and "40%" in widths[1]
    assert _css(d, "[data-testid=timeline] li")
    assert XSS_SUMMARY in _css(d, "h2.summary")[0].text and XSS_ACTOR in _css(d, "dd.actor")[0].text
    assert "<b>i-0007</b>" in d.find_element("tag name", "main").text
    assert d.execute_script("return window.__xss") is None and not _css(d, "main img, main b.injected")
    shot(d, "04-anomaly-detail")

    # --- accounts, zombies ------------------------------------------------------------------------
    d.get(server + "/#/accounts")
    _wait(d, lambda d: _css(d, "[data-testid=accounts-table] tbody tr"))
    assert "111111111111" in _css(d, "[data-testid=accounts-table]")[0].text
    shot(d, "05-accounts")
    d.get(server + "/#/zombies")
    _wait(d, lambda d: "zombie" in d.find_element("tag name", "main").text.lower())
    shot(d, "06-zombies")

    # --- settings: switch governance mode (with a confirmation) ---------------------------------
    d.get(server + "/#/settings")
    _wait(d, lambda d: _css(d, "[data-testid=mode]"))
    assert _css(d, "[data-testid=mode]")[0].text == "audit"
    next(b for b in _css(d, ".modes button") if b.text == "shadow").click()
    d.switch_to.alert.accept()
    _wait(d, lambda d: _css(d, "[data-testid=mode]")[0].text == "shadow")
    _wait(d, lambda d: "governance.mode" in _css(d, "[data-testid=audit-table]")[0].text)
    shot(d, "07-settings-shadow")

    # --- panic: press it, confirm, see it take effect ----------------------------------------------
    next(iter(_css(d, "button.danger"))).click()
    d.switch_to.alert.accept()
    _wait(d, lambda d: _css(d, "[data-testid=panic-banner]"))
    shot(d, "08-panic")
    conn = open_connection(module_db)
    with tenant_transaction(conn, tenant["id"]):
        decision = governance.may_notify(conn, tenant["id"], governance.decision_time(conn))
        entries = governance.list_entries(conn, action_prefix="governance.")
    conn.close()
    assert decision.reason == "panic"
    assert [(e.action, e.state, e.source) for e in entries[:2]] == [
        ("governance.panic", "on", "console"),
        ("governance.mode", "shadow", "console"),
    ]

    # --- phone-sized and dark ---------------------------------------------------------------------
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    d.set_window_size(390, 844)
    d.get(server + "/#/")
    _wait(d, lambda d: _css(d, "[data-testid=spend-chart] canvas"))
    assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    background = d.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 19, 23)"  # the dark palette
    shot(d, "09-overview-phone-dark")
    d.set_window_size(1280, 900)
