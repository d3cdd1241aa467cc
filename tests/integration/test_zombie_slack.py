"""The weekly zombie digest in the tenant's own Slack, and its buttons through the same verified
dispatch as anomaly alerts (notify.registry): the real api handler, the Slack fake, PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.zombies import dal, hunter
from dd0c_cost.zombies.models import ResourceType, Verdict, ZombieMessage
from tests.integration.test_zombie_api_cli import _finding, _store

SCAN = datetime(2026, 11, 20, 5, tzinfo=UTC)


def _findings(world, tenant):
    conn = open_connection(world.db_url)
    try:
        with tenant_transaction(conn, tenant.id):
            return {f.resource_id: f for f in dal.list_findings(conn, statuses=None)}
    finally:
        conn.close()


def test_digest_goes_to_the_tenants_workspace_and_its_buttons_change_the_finding(world):
    acme = world.tenant("acme", "111122223333")
    other = world.tenant("other", "444455556666")
    world.install(acme, "T0ACME")
    world.install(other, "T0OTHER")
    _store(
        world.db_url,
        acme.id,
        acme.account,
        [
            _finding(ResourceType.NAT_GATEWAY, "nat-1", "nat_no_traffic", Verdict.ZOMBIE, 32.85, account=acme.account),
            _finding(ResourceType.EBS_VOLUME, "vol-1", "ebs_unattached", Verdict.ZOMBIE, 50.0, account=acme.account),
        ],
    )
    digest = ZombieMessage(kind="digest", tenant_id=acme.id, scan_time=SCAN).model_dump_json()
    assert hunter.handle_body(digest) == "digest_posted"
    assert hunter.handle_body(digest) == "digest_already_posted"
    (post,) = [c for c in world.posts_in("T0ACME") if "zombie" in c.params.get("text", "")]
    assert post.params["text"] == "🧟 2 zombie resources: $82.85/month"
    assert world.posts_in("T0OTHER") == []
    buttons = [e for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    vol = _findings(world, acme)["vol-1"]
    ack = next(
        e
        for e in buttons
        if e["action_id"] == "zombie_acknowledge" and json.loads(e["value"])["zombie_id"] == str(vol.id)
    )

    # A click from another workspace changes nothing.
    status, _ = world.post_interaction(
        world.payload(acme, "zombie_acknowledge", str(vol.id), team_id="T0OTHER", subject="zombie")
    )
    assert status == 200 and _findings(world, acme)["vol-1"].status.value == "open"
    # The tenant's own workspace acknowledges it; the history says who.
    status, _ = world.post_interaction(
        world.payload(acme, ack["action_id"], str(vol.id), team_id="T0ACME", subject="zombie", user="U0BOB")
    )
    assert status == 200
    assert _findings(world, acme)["vol-1"].status.value == "acknowledged"
    conn = open_connection(world.db_url)
    try:
        with tenant_transaction(conn, acme.id):
            assert [(h["to_status"], h["changed_by"]) for h in dal.history(conn, vol.id)] == [
                ("open", "scan"),
                ("acknowledged", "U0BOB"),
            ]
    finally:
        conn.close()
    # Snooze from the select: until the tenant's newest scan time + 30 days (event time).
    nat = _findings(world, acme)["nat-1"]
    status, _ = world.post_interaction(
        world.payload(
            acme, "zombie_snooze", str(nat.id), team_id="T0ACME", subject="zombie", value={"snooze_seconds": 30 * 86400}
        )
    )
    snoozed = _findings(world, acme)["nat-1"]
    assert (snoozed.status.value, snoozed.snoozed_until) == ("snoozed", datetime(2026, 12, 20, 5, tzinfo=UTC))


def test_digest_is_withheld_in_shadow_mode_and_undelivered_without_slack(world):
    from dd0c_cost import governance

    quiet = world.tenant("quiet", "111122223333")
    bare = world.tenant("bare", "444455556666")
    for tenant in (quiet, bare):
        _store(
            world.db_url,
            tenant.id,
            tenant.account,
            [
                _finding(
                    ResourceType.EBS_VOLUME, "vol-1", "ebs_unattached", Verdict.ZOMBIE, 50.0, account=tenant.account
                )
            ],
        )
    conn = open_connection(world.db_url)
    try:
        with tenant_transaction(conn, quiet.id):
            governance.set_mode(conn, quiet.id, "shadow", actor="ops", source="cli", reason="trial")
    finally:
        conn.close()
    body = lambda t: ZombieMessage(kind="digest", tenant_id=t.id, scan_time=SCAN).model_dump_json()  # noqa: E731
    assert hunter.handle_body(body(quiet)) == "digest_withheld"
    assert hunter.handle_body(body(bare)) == "digest_undelivered"  # Slack is configured, but not installed
    assert world.slack.calls_to("chat.postMessage") == []


def test_digest_offers_a_ticket_and_only_zombie_safe_remediation_through_the_same_actions(world):
    from tests.fakes.tickets_api import JIRA_EMAIL, JIRA_TOKEN, FakeTicketTargets

    acme = world.tenant("acme", "111122223333")
    world.install(acme, "T0ACME")
    assert world.api("POST", "/v1/governance/mode", acme, json_body={"mode": "enforce", "reason": "test"})[0] == 200
    assert world.api("PUT", "/v1/remediation", acme, json_body={"allowed_users": ["U0ALICE"]})[0] == 200
    _store(
        world.db_url,
        acme.id,
        acme.account,
        [
            _finding(ResourceType.EC2_INSTANCE, "i-idle", "ec2_idle", Verdict.ZOMBIE, 70.0, account=acme.account),
            _finding(ResourceType.EBS_VOLUME, "vol-1", "ebs_unattached", Verdict.ZOMBIE, 50.0, account=acme.account),
            _finding(ResourceType.LOAD_BALANCER, "lb-1", "lb_no_listeners", Verdict.ZOMBIE, 16.4, account=acme.account),
        ],
    )
    with FakeTicketTargets() as targets:
        config = {"kind": "jira", "base_url": targets.url, "project": "OPS", "email": JIRA_EMAIL}
        assert (
            world.api("PUT", "/v1/tickets/targets/jira", acme, json_body={"config": config, "credential": JIRA_TOKEN})[
                0
            ]
            == 200
        )
        digest = ZombieMessage(kind="digest", tenant_id=acme.id, scan_time=SCAN).model_dump_json()
        assert hunter.handle_body(digest) == "digest_posted"
        (post,) = [c for c in world.posts_in("T0ACME") if "zombie" in c.params.get("text", "")]
        menus = {}
        for block in post.params["blocks"]:
            if block["type"] == "actions":
                finding_id = block["block_id"].split(":", 1)[1]
                menus[finding_id] = {e["action_id"]: e for e in block["elements"]}
        found = _findings(world, acme)
        inst, vol, lb = (menus[str(found[r].id)] for r in ("i-idle", "vol-1", "lb-1"))
        assert {"ticket_open", "remediation_request"} <= set(inst) and "ticket_open" in lb
        options = lambda m: [json.loads(o["value"])["action"] for o in m["remediation_request"]["options"]]  # noqa: E731
        assert options(inst) == ["ec2_stop"]  # never terminate: no final snapshot
        assert options(vol) == ["ebs_snapshot_delete"]  # deleted only after its snapshot
        assert "remediation_request" not in lb  # nothing to run for load balancers
        # The ticket button opens the ticket dialog, prefilled from the zombie subject.
        status, _ = world.post_interaction(
            world.payload(acme, "ticket_open", str(found["vol-1"].id), team_id="T0ACME", subject="zombie")
        )
        assert status == 200
        view = world.slack.calls_to("views.open")[-1].params["view"]
        assert "vol-1" in json.dumps(view) and "$50.00/month" in json.dumps(view)
        # The remediation menu asks for confirmation with the snapshot-first warning.
        status, _ = world.post_interaction(
            world.payload(
                acme,
                "remediation_request",
                str(found["vol-1"].id),
                team_id="T0ACME",
                subject="zombie",
                value={"action": "ebs_snapshot_delete"},
            )
        )
        assert status == 200
        confirm = world.slack.calls_to("views.open")[-1].params["view"]
        assert "snapshot" in json.dumps(confirm).lower()


def test_remediation_of_a_zombie_is_refused_for_any_action_the_finding_does_not_allow(world):
    """A signed click from the tenant's own workspace by an allowed person asking to terminate a
    zombie instance (the digest offers only stop) is refused at the click; a dialog confirmed after
    the finding was ignored is refused; a request that reached the queue anyway is refused by the
    worker before it assumes any role. Nothing is queued or run, and every refusal is audited."""
    from dd0c_cost.remediation import store as remediation
    from dd0c_cost.remediation.queue import enqueue

    acme = world.tenant("acme", "111122223333")
    world.install(acme, "T0ACME")
    assert world.api("POST", "/v1/governance/mode", acme, json_body={"mode": "enforce", "reason": "test"})[0] == 200
    assert world.api("PUT", "/v1/remediation", acme, json_body={"allowed_users": ["U0ALICE"]})[0] == 200
    _store(
        world.db_url,
        acme.id,
        acme.account,
        [_finding(ResourceType.EC2_INSTANCE, "i-idle", "ec2_idle", Verdict.ZOMBIE, 70.0, account=acme.account)],
    )
    zombie = str(_findings(world, acme)["i-idle"].id)

    def request(action: str):
        return world.post_interaction(
            world.payload(
                acme, "remediation_request", zombie, team_id="T0ACME", subject="zombie", value={"action": action}
            )
        )

    def audited() -> list[tuple[str, str]]:
        conn = open_connection(world.db_url)
        try:
            with tenant_transaction(conn, acme.id):
                rows = conn.execute(
                    "SELECT action, state FROM dd0c.audit_log WHERE action LIKE 'remediation.%%' ORDER BY id"
                ).fetchall()
        finally:
            conn.close()
        return [(r["action"], r["state"]) for r in rows]

    def requests() -> list[tuple[str, str]]:
        conn = open_connection(world.db_url)
        try:
            with tenant_transaction(conn, acme.id):
                return [(r.action, r.status) for r in remediation.for_subject(conn, "zombie", zombie)]
        finally:
            conn.close()

    # 1. At the click: terminate is not among the zombie's allowed remediations.
    status, reply = request("ec2_terminate")
    assert (status, reply["ok"], reply["error"]) == (200, False, "unknown_action")
    assert world.slack.calls_to("views.open") == [] and requests() == []
    # 2. At the confirmation: the allowed stop opens the dialog; the finding is ignored meanwhile.
    assert request("ec2_stop") == (200, {"ok": True})
    view = world.slack.calls_to("views.open")[-1].params["view"]
    assert world.api("POST", f"/v1/zombies/{zombie}/status", acme, json_body={"status": "ignored"})[0] == 200
    status, reply = world.submit(acme, view, {})
    assert status == 200 and reply["response_action"] == "errors" and "no longer applies" in json.dumps(reply)
    assert requests() == [("ec2_stop", "requested")]
    # 3. At execution: a confirmed terminate in the queue (as if forged past the dialog) is refused.
    conn = open_connection(world.db_url)
    try:
        with tenant_transaction(conn, acme.id):
            forged, _ = remediation.open_request(
                conn,
                acme.id,
                subject_kind="zombie",
                subject_id=zombie,
                action="ec2_terminate",
                account_id=acme.account,
                region="us-east-1",
                resource_ids=["i-idle"],
                params={},
                requested_by="U0ALICE",
                slack_channel=None,
                slack_ts=None,
            )
            confirmed = remediation.confirm(conn, forged.id, by="U0ALICE", params={"remediation_id": str(forged.id)})
    finally:
        conn.close()
    assert confirmed is not None
    enqueue(confirmed)
    world.pipeline.drain()
    assert sorted(requests()) == [("ec2_stop", "requested"), ("ec2_terminate", "refused")]
    refused = [state for action, state in audited() if action == "remediation.refused"]
    assert refused == ["unknown_action", "unknown_action", "unknown_action"]
