"""The zombie hunter end to end on real parts: the schedule's fan-out, moto's FIFO zombie queue,
the real ``zombie_hunter`` handler, the customer's ``dd0c-reader`` role assumed through STS
(moto) with each account's ExternalId, and PostgreSQL (005_zombies.sql).

moto cannot enforce a role's trust policy, so ``TrustPolicies`` answers ``sts:AssumeRole`` the
way the onboarding template's trust policy does (role ``dd0c-reader``, the account's ExternalId,
AccessDenied otherwise) in front of moto; ``Faults`` makes chosen calls of one account and
region throttle, as AWS does under load. Everything else is moto's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.awsrequest import AWSResponse

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.onboarding import READER_ROLE_NAME
from dd0c_cost.topology import ZOMBIES
from dd0c_cost.zombies import access, dal, fanout, hunter
from dd0c_cost.zombies.models import FindingStatus, ZombieMessage
from dd0c_cost_tools.local.moto_aws import backdate, cloudwatch_like_aws, days_before, put_daily, session_for
from tests.outcome_tally import Tally

SCAN = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
GOOD, DENIED = "111122223333", "444455556666"
REGION, OTHER_REGION = "us-east-1", "eu-west-1"


def _error(status: int, code: str, message: str):
    return AWSResponse("https://fault.invalid", status, {}, None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


class TrustPolicies:
    """What each customer's dd0c-reader trust policy admits: its ExternalId (None: no role)."""

    def __init__(self) -> None:
        self.external_ids: dict[str, str | None] = {}
        self.assumed: list[tuple[str, str]] = []

    def before_assume_role(self, params, **_):
        params = params["body"]  # the serialised request (STS speaks the query protocol: a form)
        arn = params["RoleArn"]
        account, role = arn.split(":")[4], arn.rsplit("/", 1)[-1]
        expected = self.external_ids.get(account)
        if role != READER_ROLE_NAME or expected is None or params.get("ExternalId") != expected:
            return _error(403, "AccessDenied", f"User is not authorized to perform: sts:AssumeRole on resource: {arn}")
        self.assumed.append((account, params["ExternalId"]))
        return None


class Faults:
    """Calls that throttle: {(account, region, "ec2:DescribeVolumes")}."""

    def __init__(self) -> None:
        self.throttle: set[tuple[str, str, str]] = set()

    def install(self, session, account: str) -> None:
        def before_call(model, request_signer, **_):
            action = f"{model.service_model.signing_name}:{model.name}"
            if (account, request_signer.region_name, action) in self.throttle:
                return _error(400, "RequestLimitExceeded", "Request limit exceeded.")
            return None

        session.events.register("before-call", before_call)


@pytest.fixture
def hunt(local_pipeline, operator_conn, monkeypatch):
    """The zombie hunter behind the local pipeline, with a tenant holding two accounts."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    trust, faults = TrustPolicies(), Faults()
    base = access.new_session()
    base.events.register("before-call.sts.AssumeRole", trust.before_assume_role)

    def factory(account: str, external_id: str):
        session = access.reader_session(account, external_id, base_session=base)
        faults.install(session, account)
        return session

    hunter.set_session_factory(factory)
    tenant = operator.ensure_tenant(operator_conn, "acme")
    good = operator.connect_account(operator_conn, tenant, GOOD, [REGION, OTHER_REGION])
    operator.connect_account(operator_conn, tenant, DENIED, [REGION])
    trust.external_ids[GOOD] = good.external_id
    trust.external_ids[DENIED] = "the-customer-launched-the-template-with-another-id"
    with cloudwatch_like_aws():
        yield Hunt(local_pipeline, tenant, trust, faults)
    hunter.set_session_factory(None)


class Hunt:
    def __init__(self, pipeline, tenant, trust, faults) -> None:
        self.pipeline, self.tenant, self.trust, self.faults = pipeline, tenant, trust, faults

    def schedule(self, at: datetime, kind: str = "scan") -> dict:
        """What the EventBridge schedule does: invoke the fan-out with its event time; then drain."""
        result = self.pipeline.fire_schedule(f"zombie-{kind}", at)
        self.pipeline.drain()
        return result

    def rows(self, sql: str, params=()):
        from dd0c_cost.settings import get_settings

        conn = open_connection(get_settings().database_url)
        try:
            with tenant_transaction(conn, self.tenant):
                return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def findings(self) -> dict[str, dict]:
        return {r["resource_id"]: r for r in self.rows("SELECT * FROM dd0c.zombie_findings")}

    def scans(self) -> dict[tuple[str, str, datetime], dict]:
        return {(r["account_id"], r["region"], r["scan_time"]): r for r in self.rows("SELECT * FROM dd0c.zombie_scans")}

    def history(self, resource_id: str) -> list[tuple]:
        return [
            (r["from_status"], r["to_status"], r["changed_by"])
            for r in self.rows(
                """SELECT h.* FROM dd0c.zombie_finding_history h JOIN dd0c.zombie_findings f ON f.id = h.finding_id
               WHERE f.resource_id = %s ORDER BY h.id""",
                [resource_id],
            )
        ]


def _idle_volume(account: str, region: str = REGION, *, size=100, days=30) -> str:
    ec2 = session_for(account, region).client("ec2", region_name=region)
    vid = ec2.create_volume(AvailabilityZone=region + "a", Size=size, VolumeType="gp2")["VolumeId"]
    backdate("volume", vid, SCAN - timedelta(days=days), account=account, region=region)
    return vid


def test_multi_account_scan_where_one_account_denies_access(hunt: Hunt) -> None:
    here = _idle_volume(GOOD)
    there = _idle_volume(GOOD, OTHER_REGION, size=10)
    hidden = _idle_volume(DENIED)
    with Tally() as tally:
        fanned = hunt.schedule(SCAN)
    assert fanned["messages"] == 3  # GOOD x 2 regions, DENIED x 1
    found = hunt.findings()
    assert set(found) == {here, there}
    assert found[here]["monthly_waste_usd"] == pytest.approx(10.0)
    scans = hunt.scans()
    assert scans[(GOOD, REGION, SCAN)]["status"] == "complete"
    assert scans[(GOOD, OTHER_REGION, SCAN)]["status"] == "complete"
    denied = scans[(DENIED, REGION, SCAN)]
    assert denied["status"] == "access_denied"
    assert denied["errors"]["assume_role"]["kind"] == "access_denied"
    assert "sts:AssumeRole" in denied["errors"]["assume_role"]["detail"]
    assert tally.count("zombies", "access_denied") == 1 and tally.count("zombies", "complete") == 2
    assert hunt.pipeline.take_dead_letters(ZOMBIES) == []  # a denied account is recorded, not retried in a loop
    # The ExternalId presented is the account's own.
    assert {(a, e) for a, e in hunt.trust.assumed} == {(GOOD, hunt.trust.external_ids[GOOD])}

    # The customer fixes the trust policy; the next scheduled scan retries the account.
    from dd0c_cost.settings import get_settings

    conn = operator.open_operator_connection(get_settings().database_url)
    try:
        hunt.trust.external_ids[DENIED] = operator.connect_account(conn, hunt.tenant, DENIED, [REGION]).external_id
    finally:
        conn.close()
    hunt.schedule(SCAN + timedelta(days=1))
    assert hidden in hunt.findings()
    assert hunt.scans()[(DENIED, REGION, SCAN + timedelta(days=1))]["status"] == "complete"


def test_a_finding_whose_resource_is_gone_closes_itself(hunt: Hunt) -> None:
    vid = _idle_volume(GOOD)
    hunt.schedule(SCAN)
    assert hunt.findings()[vid]["status"] == "open"
    session_for(GOOD).client("ec2", region_name=REGION).delete_volume(VolumeId=vid)
    hunt.schedule(SCAN + timedelta(days=1))
    row = hunt.findings()[vid]
    assert (row["status"], row["closed_at"]) == ("gone", SCAN + timedelta(days=1))
    assert hunt.history(vid) == [(None, "open", "scan"), ("open", "gone", "scan")]


def test_a_partial_scan_never_closes_findings_it_could_not_check_and_is_retried(hunt: Hunt) -> None:
    vid = _idle_volume(GOOD)
    hunt.schedule(SCAN)
    session_for(GOOD).client("ec2", region_name=REGION).delete_volume(VolumeId=vid)
    # The next scan: DescribeVolumes keeps throttling in us-east-1 (botocore's retries included).
    hunt.faults.throttle.add((GOOD, REGION, "ec2:DescribeVolumes"))
    nxt = SCAN + timedelta(days=1)
    with Tally() as tally:
        hunt.schedule(nxt)
    assert hunt.findings()[vid]["status"] == "open"  # not checked: not closed
    record = hunt.scans()[(GOOD, REGION, nxt)]
    # raised back to SQS twice (redelivered later), the third delivery keeps what it could check
    assert (record["status"], record["attempts"]) == ("partial", 3)
    assert record["errors"]["ec2"]["kind"] == "throttled"
    assert tally.count("zombies", "partial") == 1
    assert hunt.pipeline.take_dead_letters(ZOMBIES) == []
    assert hunt.scans()[(GOOD, OTHER_REGION, nxt)]["status"] == "complete"  # the other region carried on
    # The throttling stops; the next scan checks it and closes it.
    hunt.faults.throttle.clear()
    hunt.schedule(nxt + timedelta(days=1))
    assert hunt.findings()[vid]["status"] == "gone"


def test_a_redelivered_scan_changes_nothing_and_an_older_scan_cannot_undo_a_newer_one(hunt: Hunt) -> None:
    vid = _idle_volume(GOOD)
    hunt.schedule(SCAN)
    before = hunt.findings()[vid]
    message = ZombieMessage(kind="scan", tenant_id=hunt.tenant, scan_time=SCAN, account_id=GOOD, region=REGION)
    assert hunter.handle_body(message.model_dump_json()) == "already_scanned"
    assert hunt.findings()[vid] == before
    # Deleted, then a newer scan closes it; a late delivery of an older scan time must not reopen it.
    session_for(GOOD).client("ec2", region_name=REGION).delete_volume(VolumeId=vid)
    hunt.schedule(SCAN + timedelta(days=2))
    late = ZombieMessage(
        kind="scan", tenant_id=hunt.tenant, scan_time=SCAN + timedelta(days=1), account_id=GOOD, region=REGION
    )
    hunter.handle_body(late.model_dump_json())
    assert hunt.findings()[vid]["status"] == "gone"


def test_waste_so_far_grows_with_scan_time_and_first_seen_idle_never_moves_later(hunt: Hunt) -> None:
    vid = _idle_volume(GOOD, days=30)
    hunt.schedule(SCAN)
    first = hunt.findings()[vid]
    # no IO datapoints in the 14-day window: idle since at least the window's start
    assert first["first_seen_idle"] == datetime(2026, 11, 6, tzinfo=UTC)
    hunt.schedule(SCAN + timedelta(days=3))
    later = hunt.findings()[vid]
    assert later["first_seen_idle"] == first["first_seen_idle"]
    hours = (SCAN + timedelta(days=3) - first["first_seen_idle"]).total_seconds() / 3600
    assert later["waste_so_far_usd"] == pytest.approx(10.0 / 730 * hours)


def test_a_busy_again_resource_closes_as_in_use_and_the_opt_out_tag_ignores(hunt: Hunt) -> None:
    s = session_for(GOOD)
    ec2, cw = s.client("ec2", region_name=REGION), s.client("cloudwatch", region_name=REGION)
    iid = ec2.run_instances(ImageId="ami-00000001", MinCount=1, MaxCount=1, InstanceType="t3.large")["Instances"][0][
        "InstanceId"
    ]
    backdate("instance", iid, SCAN - timedelta(days=40), account=GOOD)
    vid = _idle_volume(GOOD)
    dims = {"InstanceId": iid}
    days = days_before(SCAN + timedelta(days=1), 15)
    put_daily(
        cw, "AWS/EC2", "CPUUtilization", dims, dict.fromkeys(days[:-1], 1.0), maximum=dict.fromkeys(days[:-1], 2.0)
    )
    hunt.schedule(SCAN)
    assert hunt.findings()[iid]["criterion"] == "ec2_idle"
    put_daily(cw, "AWS/EC2", "CPUUtilization", dims, {days[-1]: 60.0}, maximum={days[-1]: 95.0})
    ec2.create_tags(Resources=[vid], Tags=[{"Key": "dd0c:ignore", "Value": "yes"}])
    hunt.schedule(SCAN + timedelta(days=1))
    found = hunt.findings()
    assert found[iid]["status"] == "in_use"
    assert (found[vid]["status"], found[vid]["status_changed_by"]) == ("ignored", "scan: tag dd0c:ignore")


def test_people_acknowledge_and_snooze_and_a_snooze_ends_at_event_time(hunt: Hunt) -> None:
    vid = _idle_volume(GOOD)
    hunt.schedule(SCAN)
    from dd0c_cost.settings import get_settings

    conn = open_connection(get_settings().database_url)
    try:
        with tenant_transaction(conn, hunt.tenant):
            finding_id = hunt.findings()[vid]["id"]
            at = dal.newest_scan_time(conn)
            assert at == SCAN
            snoozed = dal.set_status(conn, finding_id, "snoozed", by="U1", at=at, snoozed_until=at + timedelta(days=2))
            assert snoozed.status is FindingStatus.SNOOZED
            with pytest.raises(dal.StatusChangeRefused):
                dal.set_status(conn, finding_id, "gone", by="U1", at=at)
    finally:
        conn.close()
    hunt.schedule(SCAN + timedelta(days=1))
    assert hunt.findings()[vid]["status"] == "snoozed"
    hunt.schedule(SCAN + timedelta(days=2))
    assert hunt.findings()[vid]["status"] == "open"
    assert hunt.history(vid) == [(None, "open", "scan"), ("open", "snoozed", "U1"), ("snoozed", "open", "scan")]


def test_a_poison_message_fails_only_itself_and_ends_in_the_dlq(hunt: Hunt) -> None:
    url = hunt.pipeline.queues[ZOMBIES].url
    hunt.pipeline.sqs.send_message(
        QueueUrl=url, MessageBody='{"kind": "scan"}', MessageGroupId="x", MessageDeduplicationId="poison"
    )
    vid = _idle_volume(GOOD)
    hunt.schedule(SCAN)
    assert vid in hunt.findings()
    dead = hunt.pipeline.take_dead_letters(ZOMBIES)
    assert [m["Body"] for m in dead] == ['{"kind": "scan"}']


def test_fan_out_gives_each_account_and_region_one_message_keyed_by_the_event_time(hunt: Hunt) -> None:
    from dd0c_cost.db.connection import get_connection

    targets = fanout.scan_targets(get_connection(role=fanout.FANOUT_ROLE))
    messages = fanout.messages_for("scan", SCAN, targets)
    assert sorted((m.account_id, m.region) for m in messages) == [
        (GOOD, OTHER_REGION),
        (GOOD, REGION),
        (DENIED, REGION),
    ]
    again = fanout.messages_for("scan", SCAN, targets)
    assert [m.natural_key for m in messages] == [m.natural_key for m in again]
    assert {m.group for m in messages} == {f"{GOOD}:{REGION}", f"{GOOD}:{OTHER_REGION}", f"{DENIED}:{REGION}"}
    digests = fanout.messages_for("digest", SCAN, targets)
    assert [(m.kind, m.tenant_id) for m in digests] == [("digest", hunt.tenant)]
    assert json.loads(messages[0].model_dump_json())["scan_time"] == "2026-11-20T05:00:00Z"


def test_weekly_digest_is_posted_once_per_tenant_and_week_largest_waste_first(hunt: Hunt, app_env) -> None:
    small, big = _idle_volume(GOOD, size=10), _idle_volume(GOOD, OTHER_REGION, size=900)
    hunt.schedule(SCAN)
    with Tally() as tally:
        hunt.schedule(SCAN + timedelta(hours=3), kind="digest")
        hunt.schedule(SCAN + timedelta(days=2), kind="digest")  # same ISO week
    assert (tally.count("zombies", "digest_posted"), tally.count("zombies", "digest_already_posted")) == (1, 1)
    posted = [json.loads(line) for line in (app_env / "slack-outbox.jsonl").read_text().splitlines()]
    (digest,) = [p for p in posted if p["kind"] == "zombie_digest"]
    from dd0c_cost.pricing import get_price_book

    book = get_price_book()
    gp2 = lambda region: book.rate("ebs", "gp2_gb_month", region).usd_per_hour * 730  # noqa: E731
    monthly = 10 * gp2(REGION) + 900 * gp2(OTHER_REGION)
    assert digest["text"] == f"🧟 2 zombie resources: ${monthly:,.2f}/month"
    sections = [b["text"]["text"] for b in digest["blocks"] if b["type"] == "section"]
    assert big in sections[0] and small in sections[1]
    actions = {e["action_id"] for b in digest["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert actions == {"zombie_acknowledge", "zombie_snooze", "zombie_ignore"}
    (row,) = hunt.rows("SELECT * FROM dd0c.zombie_digests")
    assert (row["findings"], row["monthly_waste_usd"], str(row["week_start"])) == (2, round(monthly, 2), "2026-11-16")
