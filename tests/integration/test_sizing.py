"""Scenario: resources sized before the history began are sized from the customer's account, end
to end through the real handlers: a StopInstances / TerminateInstances / DeleteVolume of
resources no earlier event sized is normalised unpriced and recorded as sizing requests; the
sizing function assumes the account's dd0c-reader role (moto STS) and describes them in one
batched call per account, region and type (moto EC2, the resources created in the customer's
account); the answers are cached per tenant under RLS, the waiting events re-priced as
'<eventID>:sized' and scored once. Denied and throttled answers are recorded; a throttle that
persists ends in the DLQ; redelivery adds nothing."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from dd0c_cost.db import operator
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.pricing import get_price_book
from dd0c_cost.sizing import describe
from dd0c_cost.sizing.describers import DESCRIBERS, SIZED_BY_KEY, SIZING_ACTIONS
from dd0c_cost.topology import SIZING, TOPOLOGY
from tests.integration.test_pipeline import _rows
from tests.outcome_tally import Tally
from tests.records import run_instances

ACCOUNT = "210987654322"
REGION = "us-east-1"
WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def customer(service: str):
    """A client in the customer's account (moto keeps one backend per account)."""
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/dd0c-reader", RoleSessionName="seed", ExternalId="seed"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def launch(instance_type: str, count: int = 1) -> list[str]:
    ec2 = customer("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    out = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count, InstanceType=instance_type)
    return [i["InstanceId"] for i in out["Instances"]]


def call(name: str, request: dict, minutes: int = 0, source: str = "ec2.amazonaws.com") -> dict:
    record = copy.deepcopy(run_instances(ACCOUNT, when=WHEN + timedelta(minutes=minutes)))
    record.update(eventName=name, eventSource=source, requestParameters=request, responseElements=None)
    record["eventID"] = str(uuid.uuid4())
    return record


def instances_call(name: str, ids: list[str], minutes: int = 0) -> dict:
    return call(name, {"instancesSet": {"items": [{"instanceId": i} for i in ids]}}, minutes)


def send(pipeline, tenant_id, records) -> None:
    pipeline.send_ingest(
        (
            ACCOUNT,
            IngestMessage(tenant_id=tenant_id, origin=Origin(source="replay", line=i), record=r).model_dump_json(),
        )
        for i, r in enumerate(records)
    )


class Counting(describe.ReaderRoleClients):
    """The real reader-role clients, counting the describe calls made (botocore's event hooks)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def client(self, account_id, external_id, service, region):
        client = super().client(account_id, external_id, service, region)
        client.meta.events.register("before-call", lambda model, **_: self.calls.append(model.name))
        return client


@pytest.fixture
def world(local_pipeline, operator_conn):
    tenant_id = operator.ensure_tenant(operator_conn, "acme")
    operator.connect_account(operator_conn, tenant_id, ACCOUNT, [REGION])
    counting = Counting()
    describe.set_clients(counting)
    yield tenant_id, counting
    describe.set_clients(None)


def test_stops_of_instances_launched_before_the_history_are_priced_from_the_account(world, local_pipeline, db_url):
    tenant_id, counting = world
    gpu = launch("p4d.24xlarge", 2)
    small = launch("m5.large")
    stop_gpu = instances_call("StopInstances", gpu)
    stop_small = instances_call("StopInstances", small, minutes=1)
    gone = instances_call("TerminateInstances", ["i-0000000000000dead"], minutes=2)  # no longer in the account
    with Tally() as tally:
        send(local_pipeline, tenant_id, [stop_gpu, stop_small, gone])
        local_pipeline.drain()

    # one DescribeInstances answered all three events' requests (one account, region and type)
    assert counting.calls == ["DescribeInstances"]
    assert tally.count("sizing", "answered") == 1 and tally.count("sizing", "already_answered") == 2
    sizes = _rows(
        db_url,
        tenant_id,
        "SELECT resource_id, status, attributes, api, attempts FROM dd0c.resource_sizes ORDER BY resource_id",
    )
    by_id = {r["resource_id"]: r for r in sizes}
    assert {i: by_id[i]["status"] for i in by_id} == {
        **dict.fromkeys(gpu + small, "sized"),
        "i-0000000000000dead": "not_found",
    }
    assert by_id[gpu[0]]["attributes"]["instance_type"] == "p4d.24xlarge"
    assert by_id[gpu[0]]["attributes"][SIZED_BY_KEY] == "ec2:DescribeInstances"
    assert all(r["attempts"] == 1 and r["api"] == "ec2:DescribeInstances" for r in sizes)

    events = {
        r["event_id"]: r
        for r in _rows(
            db_url,
            tenant_id,
            "SELECT event_id, estimated_usd_per_hour, price_unknown, scored_at, quantity FROM dd0c.cost_events",
        )
    }
    # the originals stay as they were scored (unpriced); the re-priced events are their own, scored once
    assert all(events[r["eventID"]]["price_unknown"] for r in (stop_gpu, stop_small, gone))
    p4d = get_price_book().ec2_instance(REGION, "p4d.24xlarge").usd_per_hour
    m5 = get_price_book().ec2_instance(REGION, "m5.large").usd_per_hour
    sized_gpu = events[stop_gpu["eventID"] + ":sized"]
    assert sized_gpu["estimated_usd_per_hour"] == pytest.approx(-2 * p4d, rel=1e-6) and not sized_gpu["price_unknown"]
    assert events[stop_small["eventID"] + ":sized"]["estimated_usd_per_hour"] == pytest.approx(-m5, rel=1e-6)
    assert gone["eventID"] + ":sized" not in events  # the account no longer has it: stays on its shape
    assert all(e["scored_at"] is not None for e in events.values())
    waits = _rows(db_url, tenant_id, "SELECT event_id, status, sized_event_id FROM dd0c.sizing_waits")
    assert {w["event_id"]: w["status"] for w in waits} == {
        stop_gpu["eventID"]: "repriced",
        stop_small["eventID"]: "repriced",
        gone["eventID"]: "unsized",
    }

    # a later start of the same instance is priced by the normaliser from the cached answer: no new request
    start = instances_call("StartInstances", gpu, minutes=60)
    send(local_pipeline, tenant_id, [start])
    local_pipeline.drain()
    (row,) = _rows(
        db_url,
        tenant_id,
        "SELECT estimated_usd_per_hour, attributes FROM dd0c.cost_events WHERE event_id = %s",
        [start["eventID"]],
    )
    assert row["estimated_usd_per_hour"] == pytest.approx(2 * p4d, rel=1e-6)
    assert row["attributes"][SIZED_BY_KEY] == "ec2:DescribeInstances"
    assert counting.calls == ["DescribeInstances"]

    # redelivery: the same ingest messages and the same sizing request again add nothing
    before = _rows(db_url, tenant_id, "SELECT count(*) AS n FROM dd0c.cost_events")[0]["n"]
    send(local_pipeline, tenant_id, [stop_gpu])
    local_pipeline.drain()
    message = describe.SizingMessage(
        tenant_id=tenant_id, account_id=ACCOUNT, region=REGION, resource_type="ec2:instance", resource_ids=gpu
    )
    again = describe.describe_body(message.model_dump_json())
    assert again.status == "already_answered" and again.repriced == [] and again.sent == []
    local_pipeline.drain()
    assert _rows(db_url, tenant_id, "SELECT count(*) AS n FROM dd0c.cost_events")[0]["n"] == before
    assert counting.calls == ["DescribeInstances"]


def test_a_volume_deleted_after_sizing_is_priced_and_the_start_of_a_big_instance_alerts(world, local_pipeline, db_url):
    tenant_id, counting = world
    volume = customer("ec2").create_volume(AvailabilityZone="us-east-1a", Size=2000, VolumeType="io2", Iops=20000)
    delete = call("DeleteVolume", {"volumeId": volume["VolumeId"]})
    send(local_pipeline, tenant_id, [delete])
    local_pipeline.drain()
    assert counting.calls == ["DescribeVolumes"]
    (sized,) = _rows(
        db_url,
        tenant_id,
        "SELECT estimated_usd_per_hour, attributes FROM dd0c.cost_events WHERE event_id = %s",
        [delete["eventID"] + ":sized"],
    )
    assert sized["attributes"]["volume_type"] == "io2" and sized["attributes"]["size_gb"] == 2000
    assert sized["estimated_usd_per_hour"] < -1.0  # 2 TB of io2 + 20,000 IOPS


def test_denied_is_recorded_and_consumed(world, local_pipeline, db_url):
    tenant_id, _ = world

    class Denied(describe.ReaderRoleClients):
        def client(self, account_id, external_id, service, region):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    describe.set_clients(Denied())
    stop = instances_call("StopInstances", ["i-00000000000000abc"])
    with Tally() as tally:
        send(local_pipeline, tenant_id, [stop])
        local_pipeline.drain()
    assert tally.count("sizing", "denied") == 1
    (size,) = _rows(db_url, tenant_id, "SELECT status, last_error, attempts FROM dd0c.resource_sizes")
    assert size["status"] == "denied" and "AccessDenied" in size["last_error"] and size["attempts"] == 1
    (wait,) = _rows(db_url, tenant_id, "SELECT status FROM dd0c.sizing_waits")
    assert wait["status"] == "unsized"
    assert local_pipeline.take_dead_letters(SIZING) == []

    # the role fixed: a later event of the same resource asks again
    describe.set_clients(world[1])
    launched = launch("m5.large")
    send(local_pipeline, tenant_id, [instances_call("StopInstances", launched + ["i-00000000000000abc"], minutes=5)])
    local_pipeline.drain()
    statuses = {r["resource_id"]: r["status"] for r in _rows(db_url, tenant_id, "SELECT * FROM dd0c.resource_sizes")}
    assert statuses == {"i-00000000000000abc": "not_found", launched[0]: "sized"}


def test_a_region_aws_does_not_have_is_answered_without_a_call(world, local_pipeline, db_url):
    tenant_id, counting = world
    stop = instances_call("StopInstances", ["i-00000000000000bad"])
    stop["awsRegion"] = "ca-northsouth-2r"  # the corpus's placeholder regions look like this
    with Tally() as tally:
        send(local_pipeline, tenant_id, [stop])
        local_pipeline.drain()
    assert tally.count("sizing", "unknown_region") == 1 and counting.calls == []
    (size,) = _rows(db_url, tenant_id, "SELECT status, region FROM dd0c.resource_sizes")
    assert (size["status"], size["region"]) == ("unknown_region", "ca-northsouth-2r")
    assert local_pipeline.take_dead_letters(SIZING) == []


def test_a_throttle_that_persists_is_recorded_and_ends_in_the_dlq(world, local_pipeline, db_url):
    tenant_id, _ = world

    class Throttling(describe.ReaderRoleClients):
        def client(self, account_id, external_id, service, region):
            raise ClientError({"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}}, "DescribeInstances")

    describe.set_clients(Throttling())
    stop = instances_call("StopInstances", ["i-00000000000000def"])
    send(local_pipeline, tenant_id, [stop])
    local_pipeline.drain()
    (dead,) = local_pipeline.take_dead_letters(SIZING)
    assert describe.SizingMessage.model_validate_json(dead["Body"]).resource_ids == ["i-00000000000000def"]
    (size,) = _rows(db_url, tenant_id, "SELECT status, last_error, attempts, next_try_at FROM dd0c.resource_sizes")
    max_receives = TOPOLOGY.queue(SIZING).max_receive_count
    assert size["status"] == "pending" and size["attempts"] == max_receives
    assert "RequestLimitExceeded" in size["last_error"] and size["next_try_at"] is not None


def test_the_sizing_calls_are_the_reader_roles():
    from dd0c_cost import onboarding

    assert set(SIZING_ACTIONS) == set(onboarding.SIZING_ACTIONS) <= set(onboarding.READER_ACTIONS)
    assert {d.api for d in DESCRIBERS.values()} == set(SIZING_ACTIONS)
    spec = TOPOLOGY.function(SIZING)
    assert spec.assumes_reader_role and spec.source_queue == SIZING
    assert TOPOLOGY.queue(SIZING).visibility_timeout_s >= 6 * spec.timeout_s
