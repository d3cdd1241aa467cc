"""The composite scorer's scenarios through the real pipeline: moto FIFO queues, the real
normalise/score/notify handlers, a real PostgreSQL (see tests/integration/test_pipeline.py)."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.models import Actor, CostAction, CostEvent, IngestMessage, Origin, PriceQuote
from dd0c_cost.events.store import insert_cost_event
from dd0c_cost.pricing import get_price_book
from dd0c_cost.scoring import anomaly_writes, store
from dd0c_cost.scoring.feedback import record_feedback
from dd0c_cost.scoring.models import AnomalyStatus
from dd0c_cost.scoring.scorer import score_cost_events
from dd0c_cost.topology import COST_EVENTS
from tests.outcome_tally import Tally
from tests.records import instance_ids, run_instances, terminate_instances

ACCOUNT = "111122223333"
MONDAY = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday
ASG_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
BATCH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/nightly-batch"


def as_role(record: dict, role_arn: str, session: str) -> dict:
    """The record as made by an assumed role (e.g. the Auto Scaling service-linked role)."""
    account = record["recipientAccountId"]
    role_name = role_arn.rsplit("/", 1)[-1]
    record["userIdentity"] = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role_arn, "userName": role_name}},
    }
    return record


def send(pipeline, tenant_id, records):
    records = sorted(records, key=lambda r: r["eventTime"])
    pipeline.send_ingest(
        (
            r["recipientAccountId"],
            IngestMessage(tenant_id=tenant_id, origin=Origin(source="replay", line=i), record=r).model_dump_json(),
        )
        for i, r in enumerate(records)
    )


def rows(db_url, tenant_id, sql, params=()):
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant_id):
            return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def score_of(db_url, tenant_id, event_id):
    row = rows(
        db_url, tenant_id, "SELECT score, score_components FROM dd0c.cost_events WHERE event_id = %s", [event_id]
    )
    assert row, event_id
    return row[0]["score"], row[0]["score_components"]


def tenant(operator_conn, name="acme", accounts=(ACCOUNT,)):
    t = operator.ensure_tenant(operator_conn, name)
    operator.attach_accounts(operator_conn, t, set(accounts))
    return t


def developer_days(start: datetime, days: int, *, account=ACCOUNT, user="dev", itype="t3.medium", count=1):
    """Weekday office-hours activity: launch at 09:00, terminate at 18:00."""
    out = []
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        launch = run_instances(account, instance_type=itype, count=count, when=day + timedelta(hours=9), user=user)
        out += [launch, terminate_instances(account, instance_ids(launch), when=day + timedelta(hours=18), user=user)]
    return out


# ------------------------------------------------------------------------------------ scenarios
def test_monday_batch_alerts_on_cold_start_then_is_learned_as_a_weekly_pattern(local_pipeline, operator_conn, db_url):
    acme = tenant(operator_conn)
    records, launches = developer_days(MONDAY, 42), []
    for week in range(6):
        monday = MONDAY + timedelta(weeks=week)
        batch = as_role(
            run_instances(instance_type="r5.2xlarge", count=10, when=monday + timedelta(hours=2)), BATCH_ROLE, "batch"
        )
        done = as_role(
            terminate_instances(ACCOUNT, instance_ids(batch), when=monday + timedelta(hours=5)), BATCH_ROLE, "batch"
        )
        launches.append(batch)
        records += [batch, done]
    with Tally() as tally:
        send(local_pipeline, acme, records)
        local_pipeline.drain()

    assert tally.count("normalize", "cost_event") == len(records)
    anomalies = rows(db_url, acme, "SELECT * FROM dd0c.anomalies")
    assert len(anomalies) == 1, [a["summary"] for a in anomalies]
    first = anomalies[0]
    assert first["event_ids"] == [launches[0]["eventID"]]  # the first Monday, on the cold-start rules
    cold = {c["name"]: c for c in first["components"]}["cold_start"]
    assert cold["value"] >= 0.5 and "10 resources at once" in cold["reason"]
    assert (
        abs(first["estimated_hourly_usd"] - 10 * get_price_book().ec2_instance("us-east-1", "r5.2xlarge").usd_per_hour)
        < 1e-6
    )

    # Every later Monday: unusual against the plain level (z), but explained by the weekly pattern.
    later = [score_of(db_url, acme, b["eventID"]) for b in launches[1:]]
    assert all(score < 0.5 for score, _ in later), later
    assert later[-1][1]["zscore"] > 0.5 and later[-1][1]["pattern"] > 0.8
    assert [s for s, _ in later] == sorted((s for s, _ in later), reverse=True)  # more familiar each week


def test_eight_p4d_in_a_never_used_region_alert_on_the_first_event(local_pipeline, operator_conn, db_url):
    acme = tenant(operator_conn)
    history = developer_days(MONDAY, 14, itype="m5.large", count=2)
    surprise = run_instances(
        instance_type="p4d.24xlarge",
        count=8,
        region="ap-southeast-2",
        when=MONDAY + timedelta(days=15, hours=3),
        user="intern",
    )
    with Tally() as tally:
        send(local_pipeline, acme, history + [surprise])
        local_pipeline.drain()
    assert tally.count("score", "anomaly") == 1
    (anomaly,) = rows(db_url, acme, "SELECT * FROM dd0c.anomalies")
    assert anomaly["event_ids"] == [surprise["eventID"]]
    assert anomaly["severity"] == "critical" and anomaly["score"] >= 0.9
    parts = {c["name"]: c for c in anomaly["components"]}
    assert set(parts) == {"zscore", "rate", "pattern", "novelty", "cold_start", "feedback"}
    assert parts["novelty"]["value"] > 0.9 and "ap-southeast-2" in parts["novelty"]["reason"]
    assert "p4d" in parts["novelty"]["reason"]
    assert parts["zscore"]["value"] > 0.9


def test_forty_launches_in_five_minutes_from_autoscaling_raise_one_growing_anomaly(
    local_pipeline, operator_conn, db_url, app_env, monkeypatch
):
    acme = tenant(operator_conn)
    writers = []  # who writes a grown row's list_json, as each grow's transaction says (migration 030)
    grow = anomaly_writes.grow

    def grow_and_ask(conn, p):
        writers.append(conn.execute("SELECT current_setting('dd0c.list_json_writer', true) AS w").fetchone()["w"])
        return grow(conn, p)

    monkeypatch.setattr(anomaly_writes, "grow", grow_and_ask)
    rng = random.Random(11)
    records = [
        as_role(
            run_instances(instance_type="m5.large", count=6, when=MONDAY + timedelta(minutes=5)),
            ASG_ROLE,
            "AutoScaling",
        )
    ]
    for day in range(14):
        for hour in (3, 8, 12, 17, 21):
            when = MONDAY + timedelta(days=day, hours=hour, minutes=rng.randint(0, 40))
            out = as_role(
                run_instances(instance_type="m5.large", count=rng.randint(2, 4), when=when), ASG_ROLE, "AutoScaling"
            )
            back = as_role(
                terminate_instances(ACCOUNT, instance_ids(out), when=when + timedelta(hours=2)), ASG_ROLE, "AutoScaling"
            )
            records += [out, back]
    spike_start = MONDAY + timedelta(days=14, hours=14)
    spike = [
        as_role(
            run_instances(instance_type="m5.large", count=1, when=spike_start + timedelta(seconds=7 * k)),
            ASG_ROLE,
            "AutoScaling",
        )
        for k in range(40)
    ]
    with Tally() as tally:
        send(local_pipeline, acme, records + spike)
        local_pipeline.drain()

    anomalies = rows(db_url, acme, "SELECT * FROM dd0c.anomalies")
    assert len(anomalies) == 1
    (a,) = anomalies
    assert sorted(a["event_ids"]) == sorted(r["eventID"] for r in spike)  # the whole burst, earlier calls included
    assert len(a["resource_ids"]) == 40
    unit = get_price_book().ec2_instance("us-east-1", "m5.large").usd_per_hour
    assert abs(a["estimated_hourly_usd"] - 40 * unit) < 1e-6
    assert a["attributes"]["quantity"] == 40 and a["attributes"]["burst_events"] == 40
    assert "40 × m5.large" in a["summary"]
    parts = {c["name"]: c for c in a["components"]}
    assert parts["rate"]["value"] > 0.7 and "40 resources" in parts["rate"]["reason"]
    # one anomaly raised, the rest of the burst grew it; Slack saw the latest revision
    assert tally.count("score", "anomaly") == 1
    assert tally.count("score", "grouped") >= 20
    assert writers and set(writers) == {"scorer"}  # the trigger left list_json to the scorer on every grow
    assert a["revision"] > 1 and a["notified_revision"] == a["revision"]
    posts = [json.loads(line) for line in (app_env / "slack-outbox.jsonl").read_text().splitlines()]
    assert {p["anomaly_id"] for p in posts} == {str(a["id"])}
    assert len(posts) == a["revision"] < 10  # re-posted only when the total grew by 25 %


def test_failed_and_dry_run_launches_never_alert(local_pipeline, operator_conn, db_url):
    acme = tenant(operator_conn)
    records = [
        run_instances(instance_type="p4d.24xlarge", count=8, error_code="Client.DryRunOperation", when=MONDAY),
        run_instances(
            instance_type="p4d.24xlarge", count=8, error_code="Client.InsufficientInstanceCapacity", when=MONDAY
        ),
        run_instances(instance_type="p5.48xlarge", count=4, error_code="Client.UnauthorizedOperation", when=MONDAY),
    ]
    with Tally() as tally:
        send(local_pipeline, acme, records)
        local_pipeline.drain()
    assert tally.count("normalize", "not_cost_relevant", "failed_call") == 3
    assert rows(db_url, acme, "SELECT count(*) AS n FROM dd0c.anomalies")[0]["n"] == 0
    assert rows(db_url, acme, "SELECT count(*) AS n FROM dd0c.spend_baselines")[0]["n"] == 0


def test_a_one_cent_novelty_does_not_alert(local_pipeline, operator_conn, db_url):
    acme = tenant(operator_conn)
    history = developer_days(MONDAY, 14, itype="m5.large", count=2)
    tiny = run_instances(
        instance_type="t3.micro", region="eu-west-3", when=MONDAY + timedelta(days=15, hours=4), user="newcomer"
    )
    send(local_pipeline, acme, history + [tiny])
    local_pipeline.drain()
    assert rows(db_url, acme, "SELECT count(*) AS n FROM dd0c.anomalies")[0]["n"] == 0
    score, parts = score_of(db_url, acme, tiny["eventID"])
    assert 0 < parts["novelty"] < 0.01 and score < 0.05  # new region, family and principal, but $0.01/h


def test_feedback_lowers_the_next_score_of_the_same_situation(local_pipeline, operator_conn, db_url):
    """Two tenants live the same history; only one says "expected". The repeat scores lower there."""
    a = tenant(operator_conn, "tenant-a", ("111111111111",))
    b = tenant(operator_conn, "tenant-b", ("222222222222",))

    def story(account, when_first, when_again):
        history = developer_days(MONDAY, 14, account=account, itype="m5.large", count=2)
        first = run_instances(account, instance_type="g5.12xlarge", count=4, when=when_first, user="ml-team")
        stop = terminate_instances(account, instance_ids(first), when=when_first + timedelta(hours=3), user="ml-team")
        again = run_instances(account, instance_type="g5.12xlarge", count=4, when=when_again, user="ml-team")
        return history + [first, stop], again

    first_time, again_time = MONDAY + timedelta(days=15, hours=10), MONDAY + timedelta(days=18, hours=15)
    history_a, again_a = story("111111111111", first_time, again_time)
    history_b, again_b = story("222222222222", first_time, again_time)
    send(local_pipeline, a, history_a)
    send(local_pipeline, b, history_b)
    local_pipeline.drain()
    (first_a,) = rows(db_url, a, "SELECT * FROM dd0c.anomalies")
    (first_b,) = rows(db_url, b, "SELECT * FROM dd0c.anomalies")
    assert abs(first_a["score"] - first_b["score"]) < 1e-9  # same story, same score

    conn = open_connection(db_url)
    with tenant_transaction(conn, a):
        updated = record_feedback(conn, first_a["id"], AnomalyStatus.EXPECTED, "U123")
    with tenant_transaction(conn, b):
        assert record_feedback(conn, first_a["id"], AnomalyStatus.EXPECTED, "U999") is None  # not B's anomaly
    conn.close()
    assert updated.status is AnomalyStatus.EXPECTED

    send(local_pipeline, a, [again_a])
    send(local_pipeline, b, [again_b])
    local_pipeline.drain()
    score_a, parts_a = score_of(db_url, a, again_a["eventID"])
    score_b, parts_b = score_of(db_url, b, again_b["eventID"])
    assert parts_b["feedback"] == 0 and score_b >= 0.5
    assert parts_a["feedback"] >= 0.8 and score_a < 0.5 and score_a < score_b * 0.3
    assert len(rows(db_url, b, "SELECT 1 FROM dd0c.anomalies")) == 2  # B is told again
    assert len(rows(db_url, a, "SELECT 1 FROM dd0c.anomalies")) == 1  # A is not
    (rule,) = rows(db_url, a, "SELECT * FROM dd0c.scoring_feedback")
    assert rule["status"] == "expected" and rule["created_by"] == "U123" and rule["families"] == ["g5"]

    # Changing one's mind withdraws the rule.
    conn = open_connection(db_url)
    with tenant_transaction(conn, a):
        record_feedback(conn, first_a["id"], AnomalyStatus.OPEN, "U123")
    conn.close()
    assert rows(db_url, a, "SELECT count(*) AS n FROM dd0c.scoring_feedback")[0]["n"] == 0


def _cost_event(tenant_id, event_id, when, usd, *, quantity=1.0, action=CostAction.CREATE, itype="m5.large"):
    return CostEvent(
        tenant_id=tenant_id,
        account_id=ACCOUNT,
        region="us-east-1",
        event_id=event_id,
        event_time=when,
        event_source="ec2.amazonaws.com",
        event_name="RunInstances",
        actor=Actor(display_name="alice"),
        service="ec2",
        resource_type="ec2:instance",
        resource_ids=[f"i-{event_id}"],
        action=action,
        quantity=quantity,
        attributes={"instance_type": itype},
        unit_price=PriceQuote(usd_per_hour=0.096, source="test", as_of="2026-01-01"),
        estimated_usd_per_hour=usd,
    )


def test_bad_numbers_are_ignored_with_a_reason_and_never_poison_the_baseline(local_pipeline, operator_conn, db_url):
    acme = tenant(operator_conn)
    conn = open_connection(db_url)
    bad = {
        "nan": ("NaN", 1, "non_finite_price"),
        "inf": ("Infinity", 1, "non_finite_price"),
        "neg-inf": ("-Infinity", 1, "non_finite_price"),
        "negative-create": ("-5.0", 1, "sign_mismatch"),
        "absurd-unit": ("1e12", 1, "absurd_price"),
        "absurd-qty": ("1e6", 1e15, "absurd_quantity"),
    }
    bodies = []
    with tenant_transaction(conn, acme):
        for name, (usd, qty, _) in bad.items():
            event = _cost_event(acme, name, MONDAY, 1.0, quantity=min(qty, 1e6))
            insert_cost_event(conn, event)
            body = json.loads(event.model_dump_json())
            body["quantity"] = "__Q__"
            body["estimated_usd_per_hour"] = "__X__"
            text = (
                json.dumps(body).replace('"__X__"', usd).replace('"__Q__"', repr(float(qty)).replace("inf", "Infinity"))
            )
            bodies.append(text)
        good = _cost_event(acme, "good", MONDAY + timedelta(minutes=1), 0.096)
        insert_cost_event(conn, good)
        bodies.append(good.model_dump_json())
    conn.close()
    for i, body in enumerate(bodies):
        local_pipeline.sqs.send_message(
            QueueUrl=local_pipeline.queues[COST_EVENTS].url,
            MessageBody=body,
            MessageGroupId="g",
            MessageDeduplicationId=f"bad-{i}",
        )
    with Tally() as tally:
        local_pipeline.drain()
    for _, (_, _, code) in bad.items():
        assert tally.count("score", "ignored", code) >= 1, (code, tally.seen)
    assert tally.count("score", "ignored") == len(bad)
    assert tally.count("score", "scored") == 1
    assert local_pipeline.take_dead_letters(COST_EVENTS) == []
    (series,) = rows(db_url, acme, "SELECT * FROM dd0c.spend_baselines")
    assert series["n"] == 1 and abs(series["level_usd_per_hour"] - 0.096) < 1e-9  # only the good event
    assert series["state"]["ig"] == len(bad)
    assert rows(db_url, acme, "SELECT count(*) AS n FROM dd0c.cost_events WHERE scored_at IS NULL")[0]["n"] == 0


def test_a_cost_event_delivered_twice_updates_state_once(local_pipeline, operator_conn, db_url):
    acme = tenant(operator_conn)
    send(local_pipeline, acme, [run_instances(instance_type="p4d.24xlarge", count=8, when=MONDAY)])
    while local_pipeline.pump_once(local_pipeline_function("normalize")):
        pass
    message = local_pipeline.sqs.receive_message(QueueUrl=local_pipeline.queues[COST_EVENTS].url, VisibilityTimeout=0)[
        "Messages"
    ][0]
    # The same body again under another deduplication id (a producer retry after a timeout).
    local_pipeline.sqs.send_message(
        QueueUrl=local_pipeline.queues[COST_EVENTS].url,
        MessageBody=message["Body"],
        MessageGroupId="again",
        MessageDeduplicationId="again-1",
    )
    with Tally() as tally:
        local_pipeline.drain()
    assert tally.count("score", "anomaly") == 1
    assert tally.count("score", "already_scored") == 1
    (series,) = rows(db_url, acme, "SELECT n FROM dd0c.spend_baselines")
    (t,) = rows(db_url, acme, "SELECT n FROM dd0c.tenant_baselines")
    assert series["n"] == 1 and t["n"] == 1
    assert len(rows(db_url, acme, "SELECT 1 FROM dd0c.anomalies")) == 1


def local_pipeline_function(name):
    from dd0c_cost.topology import TOPOLOGY

    return TOPOLOGY.function(name)


def test_tenant_settings_raise_the_bar(local_pipeline, operator_conn, db_url):
    acme = tenant(operator_conn)
    conn = open_connection(db_url)
    with tenant_transaction(conn, acme):
        assert store.set_tenant_settings(conn, acme, by="admin", alert_floor_usd_per_hour=500.0) == {
            "alert_floor_usd_per_hour": 500.0
        }
        with pytest.raises(ValueError):
            store.set_tenant_settings(conn, acme, by="admin", not_a_setting=1.0)
    conn.close()
    record = run_instances(instance_type="p4d.24xlarge", count=8, when=MONDAY)  # ~$262/h: under $500/h
    send(local_pipeline, acme, [record])
    local_pipeline.drain()
    score, _ = score_of(db_url, acme, record["eventID"])
    assert score >= 0.9  # anomalous, but under this tenant's dollar floor
    assert rows(db_url, acme, "SELECT count(*) AS n FROM dd0c.anomalies")[0]["n"] == 0


def test_concurrent_scorers_of_one_tenant_serialise_without_losing_updates(operator_conn, db_url):
    """Two processes score different groups (accounts) of one tenant at once: no deadlock, no lost update."""
    accounts = ["111111111111", "222222222222", "333333333333", "444444444444"]
    acme = tenant(operator_conn, "acme", accounts)
    per_account = 60
    batches = {a: [] for a in accounts}
    conn = open_connection(db_url)
    with tenant_transaction(conn, acme):
        for a in accounts:
            for k in range(per_account):
                e = _cost_event(acme, f"{a}-{k}", MONDAY + timedelta(minutes=k), 0.096).model_copy(
                    update={"account_id": a}
                )
                insert_cost_event(conn, e)
                batches[a].append(e)
    conn.close()
    errors: list[BaseException] = []

    def work(account_list):
        c = open_connection(db_url)
        try:
            for k in range(0, per_account, 10):
                events = [e for a in account_list for e in batches[a][k : k + 10]]
                errors.extend(r.error for r in score_cost_events(c, events) if r.error is not None)
        finally:
            c.close()

    threads = [threading.Thread(target=work, args=(accounts[i::2],)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors
    (t,) = rows(db_url, acme, "SELECT n, level_usd_per_hour FROM dd0c.tenant_baselines")
    assert t["n"] == len(accounts) * per_account
    assert abs(t["level_usd_per_hour"] - 0.096 * len(accounts) * per_account) < 1e-6
    assert rows(db_url, acme, "SELECT count(*) AS n FROM dd0c.cost_events WHERE scored_at IS NULL")[0]["n"] == 0


def test_new_tables_are_tenant_isolated(operator_conn, db_url):
    a = tenant(operator_conn, "tenant-a", ("111111111111",))
    b = tenant(operator_conn, "tenant-b", ("222222222222",))
    conn = open_connection(db_url)
    for t in (a, b):
        with tenant_transaction(conn, t):
            store.set_tenant_settings(conn, t, by="x", score_threshold=0.7)
            conn.execute("INSERT INTO dd0c.tenant_baselines (tenant_id) VALUES (%s)", [t])
    with tenant_transaction(conn, a):
        for table in ("tenant_settings", "tenant_baselines", "scoring_feedback"):
            owners = {r["tenant_id"] for r in conn.execute(f"SELECT tenant_id FROM dd0c.{table}").fetchall()}
            assert owners <= {a}, table
    with conn.transaction():  # no tenant: nothing
        assert conn.execute("SELECT count(*) AS n FROM dd0c.tenant_settings").fetchone()["n"] == 0
    conn.close()
    forced = rows(
        db_url,
        a,
        """SELECT relname FROM pg_class WHERE relnamespace = 'dd0c'::regnamespace
                                AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity""",
    )
    assert {"tenant_baselines", "tenant_settings", "scoring_feedback"} <= {r["relname"] for r in forced}


def _stored(db_url, tenant_id, events):
    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant_id):
        for e in events:
            insert_cost_event(conn, e)
    conn.close()


def test_one_batch_of_several_tenants_is_scored_each_under_its_own_tenant(operator_conn, db_url):
    a = tenant(operator_conn, "tenant-a", ("111111111111",))
    b = tenant(operator_conn, "tenant-b", ("222222222222",))
    gpu = {"usd": 8 * 32.77, "itype": "p4d.24xlarge", "quantity": 8.0}
    ea = [
        _cost_event(a, f"a{k}", MONDAY + timedelta(minutes=k), 0.096).model_copy(update={"account_id": "111111111111"})
        for k in range(3)
    ]
    eb = [
        _cost_event(b, f"b{k}", MONDAY + timedelta(minutes=k), 0.096).model_copy(update={"account_id": "222222222222"})
        for k in range(3)
    ]
    later = MONDAY + timedelta(minutes=30)  # after the small launches' burst
    big_a = _cost_event(a, "a-gpu", later, gpu["usd"], quantity=gpu["quantity"], itype=gpu["itype"]).model_copy(
        update={"account_id": "111111111111"}
    )
    big_b = _cost_event(b, "b-gpu", later, gpu["usd"], quantity=gpu["quantity"], itype=gpu["itype"]).model_copy(
        update={"account_id": "222222222222"}
    )
    _stored(db_url, a, ea + [big_a])
    _stored(db_url, b, eb + [big_b])
    conn = open_connection(db_url)
    results = score_cost_events(conn, [ea[0], eb[0], ea[1], eb[1], ea[2], eb[2], big_b, big_a])
    conn.close()
    assert [r.outcome for r in results] == ["scored"] * 6 + ["anomaly", "anomaly"]
    assert results[6].anomaly.tenant_id == b and results[7].anomaly.tenant_id == a
    for t, mine in ((a, "a-gpu"), (b, "b-gpu")):
        (row,) = rows(db_url, t, "SELECT tenant_id, event_ids FROM dd0c.anomalies")
        assert row["tenant_id"] == t and row["event_ids"] == [mine]
        assert rows(db_url, t, "SELECT n FROM dd0c.tenant_baselines")[0]["n"] == 4


def test_a_failing_tenant_does_not_hold_back_the_others_in_its_batch(operator_conn, db_url, monkeypatch):
    from dd0c_cost.scoring import scorer

    a = tenant(operator_conn, "tenant-a", ("111111111111",))
    b = tenant(operator_conn, "tenant-b", ("222222222222",))
    ea = _cost_event(a, "a1", MONDAY, 0.096).model_copy(update={"account_id": "111111111111"})
    eb = _cost_event(b, "b1", MONDAY, 0.096).model_copy(update={"account_id": "222222222222"})
    _stored(db_url, a, [ea])
    _stored(db_url, b, [eb])
    real_step = scorer.step

    def broken_for_b(obs, series, tenant_state, cfg, rules=None, **kw):
        if obs.account_id == "222222222222":
            raise RuntimeError("boom")
        return real_step(obs, series, tenant_state, cfg, rules, **kw)

    monkeypatch.setattr(scorer, "step", broken_for_b)
    conn = open_connection(db_url)
    ra, rb = score_cost_events(conn, [ea, eb])
    assert conn.info.transaction_status.name == "IDLE"  # rolled back cleanly, usable
    conn.close()
    assert ra.outcome == "scored" and ra.error is None
    assert rb.outcome == "error" and isinstance(rb.error, RuntimeError)
    assert rows(db_url, a, "SELECT count(*) AS n FROM dd0c.cost_events WHERE scored_at IS NOT NULL")[0]["n"] == 1
    assert rows(db_url, b, "SELECT count(*) AS n FROM dd0c.cost_events WHERE scored_at IS NOT NULL")[0]["n"] == 0
    assert rows(db_url, b, "SELECT count(*) AS n FROM dd0c.spend_baselines")[0]["n"] == 0  # nothing half-written
