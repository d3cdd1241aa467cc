"""Pure pieces of the zombie hunter: criteria edge cases, prices, the message, the digest, the
remediation rules. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from dd0c_cost.pricing import get_price_book
from dd0c_cost.zombies import actions, criteria, digest
from dd0c_cost.zombies.criteria import Context
from dd0c_cost.zombies.models import (
    FindingStatus,
    MetricQuery,
    Resource,
    ResourceType,
    Verdict,
    Window,
    ZombieFinding,
    ZombieMessage,
)
from dd0c_cost.zombies.waste import waste_of

SCAN = datetime(2026, 11, 20, 5, tzinfo=UTC)
DAYS = Window(SCAN).day_list()


def test_the_window_is_the_14_whole_utc_days_before_the_scans_day() -> None:
    w = Window(SCAN)
    assert (w.start, w.end) == (datetime(2026, 11, 6, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    assert DAYS[0] == date(2026, 11, 6) and DAYS[-1] == date(2026, 11, 19) and len(DAYS) == 14


@pytest.mark.parametrize(
    "reason, expected",
    [
        ("User initiated (2026-10-01 09:30:00 GMT)", datetime(2026, 10, 1, 9, 30, tzinfo=UTC)),
        ("User initiated (2026-10-01 09:30:00 UTC)", datetime(2026, 10, 1, 9, 30, tzinfo=UTC)),
        ("Server.InternalError", None),
        ("", None),
    ],
)
def test_stop_time_comes_from_the_state_transition_reason(reason, expected) -> None:
    assert criteria.stopped_at(reason) == expected


def test_owner_precedence_and_ignore_values() -> None:
    r = lambda tags: Resource(ResourceType.EBS_VOLUME, "vol-1", "111122223333", "us-east-1", None, tags=tags)  # noqa: E731
    assert criteria.owner_of(r({"aws:cloudformation:stack-name": "s", "aws:autoscaling:groupName": "g"})) == (
        "autoscaling",
        "g",
    )
    assert criteria.owner_of(
        r({"kubernetes.io/created-for/pvc/name": "data", "kubernetes.io/created-for/pvc/namespace": "db"})
    ) == ("kubernetes", "db/data")
    assert criteria.owner_of(r({"Name": "x"})) is None
    assert criteria.ignored(r({"dd0c:ignore": ""})) and criteria.ignored(r({"dd0c:ignore": "yes"}))
    assert not criteria.ignored(r({"dd0c:ignore": "false"})) and not criteria.ignored(r({}))


def _cache(nodes):
    return Resource(
        ResourceType.ELASTICACHE_CLUSTER,
        "rg-1",
        "111122223333",
        "us-east-1",
        SCAN - timedelta(days=30),
        "available",
        attributes={"engine": "redis", "node_type": "cache.m5.large", "nodes": nodes},
    )


def test_a_replication_group_is_idle_only_if_every_member_node_is() -> None:
    nodes = [{"cluster_id": "rg-1-001", "node_id": "0001"}, {"cluster_id": "rg-1-002", "node_id": "0001"}]
    resource = _cache(nodes)
    queries = criteria.metric_queries(resource)
    assert [dict(q.dimensions) for q in queries] == [
        {"CacheClusterId": "rg-1-001", "CacheNodeId": "0001"},
        {"CacheClusterId": "rg-1-002", "CacheNodeId": "0001"},
    ]
    zeros = dict.fromkeys(DAYS, 0.0)
    idle = criteria.evaluate(resource, {queries[0]: zeros, queries[1]: zeros}, Context(SCAN))
    assert idle.verdict is Verdict.ZOMBIE
    busy_replica = criteria.evaluate(resource, {queries[0]: zeros, queries[1]: {**zeros, DAYS[3]: 1.0}}, Context(SCAN))
    assert busy_replica is None
    # one node answered nothing: never taken for zero
    half = criteria.evaluate(resource, {queries[0]: zeros, queries[1]: {}}, Context(SCAN))
    assert half.verdict is Verdict.INSUFFICIENT_DATA
    assert waste_of(get_price_book(), resource).components[0].quantity == 2


def test_io2_above_32000_iops_is_partly_unpriced_and_rds_gp3_storage_is_unpriced() -> None:
    book = get_price_book()
    vol = Resource(
        ResourceType.EBS_VOLUME,
        "vol-1",
        "111122223333",
        "us-east-1",
        None,
        "available",
        attributes={"volume_type": "io2", "size_gb": 100, "iops": 40_000},
    )
    w = waste_of(book, vol)
    assert w.monthly_usd == pytest.approx(100 * 0.125 + 32_000 * 0.065)
    assert "io2 IOPS above 32,000" in w.unpriced_reason
    db = Resource(
        ResourceType.RDS_INSTANCE,
        "db",
        "111122223333",
        "us-east-1",
        None,
        "available",
        attributes={
            "engine": "mysql",
            "instance_class": "db.m5.large",
            "storage_type": "gp3",
            "allocated_storage_gb": 50,
        },
    )
    assert "RDS gp3 storage is not in the snapshot" in waste_of(book, db).unpriced_reason


def test_waste_so_far_counts_hours_from_first_seen_idle() -> None:
    vol = Resource(
        ResourceType.EBS_VOLUME,
        "v",
        "111122223333",
        "us-east-1",
        None,
        "available",
        attributes={"volume_type": "gp2", "size_gb": 73},
    )
    w = waste_of(get_price_book(), vol)
    assert w.monthly_usd == pytest.approx(7.3)
    assert w.so_far_usd(SCAN - timedelta(hours=100), SCAN) == pytest.approx(7.3 / 730 * 100)


def test_a_scan_message_needs_an_account_and_a_region_and_is_keyed_by_event_time() -> None:
    tenant = uuid4()
    with pytest.raises(ValidationError):
        ZombieMessage(kind="scan", tenant_id=tenant, scan_time=SCAN)
    m = ZombieMessage(
        kind="scan",
        tenant_id=tenant,
        scan_time=SCAN.replace(tzinfo=None),
        account_id="111122223333",
        region="eu-west-1",
    )
    assert m.scan_time == SCAN and m.group == "111122223333:eu-west-1"
    assert m.natural_key == ("scan", str(tenant), "111122223333", "eu-west-1", SCAN.isoformat())


def _finding(**kw) -> ZombieFinding:
    base = {
        "id": uuid4(),
        "tenant_id": uuid4(),
        "account_id": "111122223333",
        "region": "us-east-1",
        "resource_type": "rds_instance",
        "resource_id": "db-1",
        "criterion": "rds_no_connections",
        "verdict": Verdict.ZOMBIE,
        "first_seen_idle": SCAN - timedelta(days=14),
        "last_scanned_at": SCAN,
        "monthly_waste_usd": 282.88,
        "waste_so_far_usd": 130.2,
        "status": FindingStatus.OPEN,
    }
    return ZombieFinding(**{**base, **kw})


def test_remediation_rules() -> None:
    plan = actions.remediation_plan(_finding())
    assert plan.action == "stop" and "7 days" in plan.warning
    assert actions.remediation_plan(_finding(resource_type="ebs_volume")).steps[0] == "create a final snapshot"
    owned = actions.remediation_plan(_finding(owner_kind="cloudformation", owner_name="legacy"))
    assert owned.action is None and "fix it there" in owned.reason_not_offered
    assert actions.remediation_plan(_finding(verdict=Verdict.IDLE_SUSPECT)).action is None


def test_digest_lists_largest_waste_first_within_slack_limits_with_subject_values() -> None:
    import json

    findings = [_finding(resource_id=f"db-{i}", monthly_waste_usd=float(100 - i)) for i in range(20)]
    findings.append(
        _finding(
            resource_id="gpu",
            resource_type="sagemaker_endpoint",
            criterion="sagemaker_no_invocations",
            monthly_waste_usd=None,
            waste_so_far_usd=None,
            unpriced_reason="instance_hours: SageMaker hosting is not in the price snapshot",
        )
    )
    message = digest.build_digest_message(findings, week=date(2026, 11, 16))
    assert len(message["blocks"]) <= 50
    assert message["text"] == f"🧟 21 zombie resources: ${sum(100 - i for i in range(20)):,.2f}/month"
    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) == digest.MAX_FINDINGS_SHOWN and "db-0" in sections[0]["text"]["text"]
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {e["action_id"] for e in buttons} == {
        actions.ACTION_ACKNOWLEDGE,
        actions.ACTION_SNOOZE,
        actions.ACTION_IGNORE,
    }
    value = json.loads(buttons[0]["value"])
    assert set(value) == {"tenant_id", "zombie_id"}
    assert digest.week_start(datetime(2026, 11, 22, 23, tzinfo=UTC)) == date(2026, 11, 16)


def test_metric_query_is_the_full_dimension_set() -> None:
    q = MetricQuery("AWS/NATGateway", "BytesOutToDestination", (("NatGatewayId", "nat-1"),), "Sum")
    assert q.as_metric_stat(86400) == {
        "Metric": {
            "Namespace": "AWS/NATGateway",
            "MetricName": "BytesOutToDestination",
            "Dimensions": [{"Name": "NatGatewayId", "Value": "nat-1"}],
        },
        "Period": 86400,
        "Stat": "Sum",
    }


def test_the_reader_role_is_assumed_in_the_hunters_own_partition() -> None:
    from dd0c_cost.zombies.access import partition_of, reader_role_arn

    assert [partition_of(r) for r in ("us-east-1", "cn-north-1", "us-gov-west-1", None)] == [
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws",
    ]
    assert reader_role_arn("111122223333", "aws-us-gov") == "arn:aws-us-gov:iam::111122223333:role/dd0c-reader"


def test_the_hunter_assumes_the_role_onboarding_creates():
    from dd0c_cost import onboarding
    from dd0c_cost.zombies import access

    assert access.READER_ROLE_NAME == onboarding.READER_ROLE_NAME == "dd0c-reader"
