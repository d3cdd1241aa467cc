"""Create ticket, end to end: the button, the prefilled modal, the tickets queue and its worker,
against local fakes of Slack, Jira Cloud, GitHub and a signed webhook. Second clicks link the
existing ticket; double submissions queue one; a refusal is shown in the thread, retried, and
finally parked in the DLQ with the anomaly marked "ticket failed"."""

from __future__ import annotations

import json

import pytest

from dd0c_cost.topology import TICKETS
from tests.fakes.tickets_api import GITHUB_TOKEN, JIRA_EMAIL, JIRA_TOKEN, WEBHOOK_SECRET, FakeTicketTargets


@pytest.fixture
def targets():
    with FakeTicketTargets() as fake:
        yield fake


def _jira(world, tenant, targets, **extra):
    config = {"kind": "jira", "base_url": targets.url, "project": "OPS", "email": JIRA_EMAIL, **extra}
    status, body = world.api(
        "PUT", "/v1/tickets/targets/jira", tenant, json_body={"config": config, "credential": JIRA_TOKEN}
    )
    assert status == 200, body
    return body


def _thread(world, team="T0ACME"):
    return [c.params["text"] for c in world.posts_in(team) if c.params.get("thread_ts")]


def modal_values(view, **overrides):
    """The values Slack submits for a modal we opened: the initial ones, with ``overrides``."""
    values = {
        block["block_id"]: {
            block["element"]["action_id"]: (
                {"selected_option": block["element"]["initial_option"]}
                if block["element"]["type"] == "static_select"
                else {"value": block["element"].get("initial_value")}
            )
        }
        for block in view["blocks"]
    }
    for block_id, value in overrides.items():
        action_id = next(iter(values[block_id]))
        values[block_id][action_id] = value
    return values


def _open_and_submit(world, tenant, anomaly, **overrides):
    """Click Create ticket, then submit the modal Slack opened (with ``overrides`` of its values)."""
    status, reply = world.click(tenant, "ticket_open", anomaly["id"])
    assert (status, reply) == (200, {"ok": True}), reply
    view = world.slack.calls_to("views.open")[-1].params["view"]
    return view, world.submit(tenant, view, modal_values(view, **overrides))


def test_jira_ticket_from_the_button_is_linked_in_the_thread_and_on_the_anomaly(world, targets):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME")
    _jira(world, acme, targets)
    anomaly = world.raise_anomaly(acme)
    [post] = world.posts_in("T0ACME")
    assert "ticket_open" in json.dumps(post.params["blocks"])  # the button shows once a target exists

    view, (status, reply) = _open_and_submit(world, acme, anomaly)
    assert (status, reply) == (200, {})  # an empty answer closes the modal
    # prefilled with the alert's facts: what, who, where, $/h and $/month, why, event ids
    body = next(b for b in view["blocks"] if b["block_id"] == "ticket_body")["element"]["initial_value"]
    for fact in ("p4d.24xlarge", "engineer1", "111111111111", "/h", "/month", "Why:", anomaly["event_ids"][0]):
        assert fact in body, fact
    world.pipeline.drain()  # the tickets queue's worker

    [issue] = targets.of_kind("jira")
    assert issue.body["fields"]["project"] == {"key": "OPS"} and issue.body["fields"]["issuetype"] == {"name": "Task"}
    assert issue.body["fields"]["description"]["type"] == "doc"
    assert "engineer1" in json.dumps(issue.body["fields"]["description"])
    ticket = world.anomaly(acme, anomaly["id"])["ticket"]
    assert ticket["status"] == "created" and ticket["key"] == issue.answer["key"]
    assert ticket["url"] == f"{targets.url}/browse/{issue.answer['key']}"
    thread = _thread(world)
    assert any(issue.answer["key"] in t and "created" in t for t in thread)
    assert issue.answer["key"] in json.dumps(world.slack.calls_to("chat.update")[-1].params["blocks"])

    # a second click links the existing ticket instead of opening another
    status, reply = world.click(acme, "ticket_open", anomaly["id"])
    assert reply == {"ok": True} and len(world.slack.calls_to("views.open")) == 1
    assert "Already ticketed" in _thread(world)[-1] and len(targets.of_kind("jira")) == 1


def test_double_submission_and_redelivery_make_one_ticket(world, targets):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME")
    _jira(world, acme, targets)
    anomaly = world.raise_anomaly(acme)
    view, _ = _open_and_submit(world, acme, anomaly)
    again = world.submit(acme, view, modal_values(view))  # Slack retried, or a second modal was submitted
    assert again == (200, {})
    world.pipeline.drain()
    assert len(targets.of_kind("jira")) == 1
    # a redelivered queue message for a created ticket does nothing
    from dd0c_cost.tickets.worker import process_ticket

    message = json.dumps({"tenant_id": str(acme.id), "ticket_id": _ticket_id(world, acme)})
    assert process_ticket(message, 1) == "already_done"
    assert len(targets.of_kind("jira")) == 1


def _ticket_id(world, tenant):
    from dd0c_cost.db.connection import open_connection, tenant_transaction

    conn = open_connection(world.db_url)
    try:
        with tenant_transaction(conn, tenant.id):
            return str(conn.execute("SELECT id FROM dd0c.tickets").fetchone()["id"])
    finally:
        conn.close()


def test_github_and_webhook_targets(world, targets):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME")
    github = {"kind": "github", "api_url": targets.url, "repo": "acme/infra"}
    assert (
        world.api("PUT", "/v1/tickets/targets/gh", acme, json_body={"config": github, "credential": GITHUB_TOKEN})[0]
        == 200
    )
    hook = {"kind": "webhook", "url": f"{targets.url}/hooks/acme"}
    assert (
        world.api("PUT", "/v1/tickets/targets/hook", acme, json_body={"config": hook, "credential": WEBHOOK_SECRET})[0]
        == 200
    )
    _, listing = world.api("GET", "/v1/tickets/targets", acme)
    assert [(t["name"], t["is_default"]) for t in listing["targets"]] == [("gh", True), ("hook", False)]
    assert GITHUB_TOKEN not in json.dumps(listing) and WEBHOOK_SECRET not in json.dumps(listing)

    first = world.raise_anomaly(acme)
    _open_and_submit(world, acme, first, ticket_project={"value": "acme/costs"})
    second = world.raise_anomaly(acme)
    _open_and_submit(world, acme, second, ticket_target={"selected_option": {"value": "hook"}})
    world.pipeline.drain()
    [issue] = targets.of_kind("github")
    assert issue.path == "/repos/acme/costs/issues" and issue.body["labels"] == ["dd0c-cost"]
    assert world.anomaly(acme, first["id"])["ticket"]["url"] == issue.answer["html_url"]
    [hooked] = targets.of_kind("webhook")
    assert hooked.body["subject"] == {"kind": "anomaly", "id": second["id"]}
    assert hooked.headers["idempotency-key"] == world.anomaly(acme, second["id"])["ticket"]["id"]


def test_a_refusing_target_is_shown_retried_and_parked_with_the_anomaly_marked_failed(world, targets):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME")
    _jira(world, acme, targets)
    anomaly = world.raise_anomaly(acme)
    for _ in range(10):
        targets.fail_next("/rest/api/3/issue", 503, {"errorMessages": ["Jira is down for maintenance"]})
    _open_and_submit(world, acme, anomaly)
    world.pipeline.drain()

    ticket = world.anomaly(acme, anomaly["id"])["ticket"]
    assert ticket["status"] == "failed" and "Jira is down" in ticket["error"] and ticket["attempts"] == 4
    parked = world.pipeline.take_dead_letters(TICKETS)
    assert [json.loads(m["Body"])["ticket_id"] for m in parked] == [ticket["id"]]
    thread = _thread(world)
    assert sum("Could not create the ticket" in t for t in thread) == 1  # the first failure, not every retry
    assert "No ticket after 4 attempts" in thread[-1] and "Jira is down" in thread[-1]
    assert "Ticket failed" in json.dumps(world.slack.calls_to("chat.update")[-1].params["blocks"])
    assert "Retry ticket" in json.dumps(world.slack.calls_to("chat.update")[-1].params["blocks"])

    # once Jira is back, Retry ticket queues it again and it is created
    targets._failures.clear()
    _open_and_submit(world, acme, anomaly)
    world.pipeline.drain()
    assert world.anomaly(acme, anomaly["id"])["ticket"]["status"] == "created"


def test_a_bad_project_fails_at_once_with_jiras_words(world, targets):
    acme = world.tenant("acme", "111111111111")
    world.install(acme, "T0ACME")
    _jira(world, acme, targets)
    anomaly = world.raise_anomaly(acme)
    _, (_, reply) = _open_and_submit(world, acme, anomaly, ticket_project={"value": "not a key"})
    assert reply == {"response_action": "errors", "errors": {"ticket_project": "A Jira project key, e.g. OPS"}}
    _open_and_submit(world, acme, anomaly, ticket_project={"value": "NOPE"})
    world.pipeline.drain()
    ticket = world.anomaly(acme, anomaly["id"])["ticket"]
    assert ticket["status"] == "failed" and "valid project is required" in ticket["error"]
    assert any("valid project is required" in t for t in _thread(world))


def test_ticket_refusals_change_nothing(world, targets):
    acme, globex = world.tenant("acme", "111111111111"), world.tenant("globex", "222222222222")
    world.install(acme, "T0ACME")
    world.install(globex, "T0GLOBEX")
    anomaly = world.raise_anomaly(acme)
    # no target configured yet
    _status, reply = world.click(acme, "ticket_open", anomaly["id"])
    assert reply["error"] == "no_ticket_target" and world.slack.calls_to("views.open") == []
    _jira(world, acme, targets)
    # a foreign workspace, and a forged submission from it
    assert world.click(acme, "ticket_open", anomaly["id"], team_id="T0GLOBEX")[1]["error"] == "foreign_workspace"
    view, _ = _open_and_submit(world, acme, anomaly)
    _, reply = world.submit(acme, view, modal_values(view), team_id="T0GLOBEX")
    assert reply["response_action"] == "errors"
    # an expired click: Slack refuses to open the modal
    world.slack.fail_next("views.open", "expired_trigger_id")
    other = world.raise_anomaly(acme)
    assert world.click(acme, "ticket_open", other["id"])[1]["error"] == "expired"
    world.pipeline.drain()
    assert len(targets.of_kind("jira")) == 1


def test_github_app_target_mints_an_installation_token(world):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with FakeTicketTargets(app_public_key_pem=public) as app_targets:
        acme = world.tenant("acme", "111111111111")
        world.install(acme, "T0ACME")
        config = {
            "kind": "github",
            "api_url": app_targets.url,
            "repo": "acme/infra",
            "auth": "app",
            "app_id": 123,
            "installation_id": 456,
        }
        assert (
            world.api("PUT", "/v1/tickets/targets/app", acme, json_body={"config": config, "credential": pem})[0] == 200
        )
        anomaly = world.raise_anomaly(acme)
        _open_and_submit(world, acme, anomaly)
        world.pipeline.drain()
        [issue] = app_targets.of_kind("github")
        assert issue.headers["authorization"][7:] in app_targets.app_tokens  # an installation token, not the key
        assert world.anomaly(acme, anomaly["id"])["ticket"]["status"] == "created"
