"""Remediation from Slack, end to end on moto: the Remediate… select, the confirmation dialog, the
gates (allowed users and user groups, governance mode, panic, foreign workspace), the queue and
its worker assuming the customer's dd0c-remediator role with the ExternalId, the result or AWS's
error in the thread, and an audit row for every request, confirmation, refusal, step and outcome."""

from __future__ import annotations

import json
from uuid import UUID

import boto3
import pytest

from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.models import IngestMessage, Origin
from dd0c_cost.remediation.actions import IAM_ACTIONS
from tests.records import run_instances

ACCOUNT = "111111111111"


def customer(account: str = ACCOUNT, region: str = "us-east-1"):
    """A boto3 session in the customer account (moto keeps accounts apart by the assumed role)."""
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/test-setup", RoleSessionName="test-setup", ExternalId="test-setup"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def launch(count: int = 2, tags: dict | None = None) -> list[str]:
    ec2 = customer().client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    kwargs = {}
    if tags:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    answer = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count, InstanceType="p4d.24xlarge", **kwargs)
    return [i["InstanceId"] for i in answer["Instances"]]


def states(ids: list[str]) -> set[str]:
    reservations = customer().client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {i["State"]["Name"] for r in reservations for i in r["Instances"]}


def anomaly_for(world, tenant, instance_ids: list[str], *, user: str = "intern") -> dict:
    """Feed the RunInstances record that launched these instances; the anomaly it raises."""
    record = run_instances(tenant.account, instance_type="p4d.24xlarge", count=len(instance_ids), user=user)
    record["responseElements"]["instancesSet"]["items"] = [
        {"instanceId": i, "instanceType": "p4d.24xlarge"} for i in instance_ids
    ]
    body = IngestMessage(tenant_id=tenant.id, origin=Origin(source="replay"), record=record).model_dump_json()
    world.pipeline.send_ingest([(tenant.account, body)])
    world.pipeline.drain()
    _status, listing = world.api("GET", "/v1/anomalies", tenant)
    found = next(a for a in listing["anomalies"] if record["eventID"] in a["event_ids"])
    return world.anomaly(tenant, found["id"])


def audit(world, tenant) -> list[tuple[str, str | None]]:
    conn = open_connection(world.db_url)
    try:
        with tenant_transaction(conn, tenant.id):
            rows = conn.execute(
                "SELECT action, state FROM dd0c.audit_log WHERE action LIKE 'remediation.%%' ORDER BY id"
            ).fetchall()
    finally:
        conn.close()
    return [(r["action"], r["state"]) for r in rows]


@pytest.fixture
def acme(world):
    tenant = world.tenant("acme", ACCOUNT)
    world.install(tenant, "T0ACME")
    assert world.api("POST", "/v1/governance/mode", tenant, json_body={"mode": "enforce", "reason": "test"})[0] == 200
    status, view = world.api(
        "PUT", "/v1/remediation", tenant, json_body={"allowed_users": ["U0ALICE"], "allowed_groups": ["S0SRE"]}
    )
    assert status == 200 and view["enabled"], view
    return tenant


def choose(world, tenant, anomaly, action: str, **kwargs):
    return world.click(tenant, "remediation_request", anomaly["id"], value={"action": action}, **kwargs)


def confirm(world, tenant, values: dict | None = None, **kwargs):
    view = world.slack.calls_to("views.open")[-1].params["view"]
    return view, world.submit(tenant, view, values or {}, **kwargs)


def thread(world, team="T0ACME") -> list[str]:
    return [c.params["text"] for c in world.posts_in(team) if c.params.get("thread_ts")]


def test_stop_instances_confirmed_in_slack_runs_in_the_customer_account(world, acme, monkeypatch):
    ids = launch(2)
    anomaly = anomaly_for(world, acme, ids)
    [post] = world.posts_in("T0ACME")
    assert "remediation_request" in json.dumps(post.params["blocks"])

    calls: list[str] = []
    real = __import__("botocore.client", fromlist=["BaseClient"]).BaseClient._make_api_call

    def recording(self, operation, params):
        calls.append(f"{self.meta.service_model.signing_name}:{operation}")
        return real(self, operation, params)

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", recording)

    assert choose(world, acme, anomaly, "ec2_stop") == (200, {"ok": True})
    view = world.slack.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == "remediation_confirm" and all(i in json.dumps(view) for i in ids)
    assert states(ids) == {"running"}  # nothing happens before the confirmation
    _, reply = confirm(world, acme)
    assert reply == (200, {})
    calls.clear()
    world.pipeline.drain()

    assert states(ids) == {"stopped"}
    remediation = world.anomaly(acme, anomaly["id"])["remediations"][0]
    assert (remediation["status"], remediation["confirmed_by"]) == ("succeeded", "U0ALICE")
    assert any("Stopped 2 instances" in t and "<@U0ALICE>" in t for t in thread(world))
    assert "Stopped 2 instances" in json.dumps(world.slack.calls_to("chat.update")[-1].params["blocks"])
    assert audit(world, acme) == [
        ("remediation.access", None),
        ("remediation.requested", "requested"),
        ("remediation.confirmed", "confirmed"),
        ("remediation.step", "done"),
        ("remediation.succeeded", "succeeded"),
    ]
    # every AWS call the worker made is one the customer template's role allows
    made = {c for c in calls if not c.startswith(("sts:", "sqs:"))}
    assert made and made <= set(IAM_ACTIONS), made - set(IAM_ACTIONS)
    assert "sts:AssumeRole" in calls


def test_refusals_change_nothing_and_are_audited(world, acme):
    ids = launch(1)
    anomaly = anomaly_for(world, acme, ids)
    # a person who is neither allowed nor in an allowed group
    world.slack.set_usergroup("S0SRE", ["U0CAROL"])
    _status, reply = choose(world, acme, anomaly, "ec2_terminate", user="U0BOB")
    assert (reply["ok"], reply["error"]) == (False, "not_allowed")
    # a member of the allowed user group may
    assert choose(world, acme, anomaly, "ec2_terminate", user="U0CAROL")[1] == {"ok": True}
    # governance mode audit: dd0c alerts but does not act
    world.api("POST", "/v1/governance/mode", acme, json_body={"mode": "audit", "reason": "test"})
    assert choose(world, acme, anomaly, "ec2_stop")[1]["error"] == "governance_mode"
    # the dialog was opened in enforce mode; confirming it now is refused too
    _, (_, reply) = confirm(world, acme, user="U0CAROL")
    assert reply["response_action"] == "errors" and "audit mode" in json.dumps(reply)
    world.api("POST", "/v1/governance/mode", acme, json_body={"mode": "enforce", "reason": "test"})
    # panic
    world.api("POST", "/v1/governance/panic", acme, json_body={"on": True, "reason": "test"})
    assert choose(world, acme, anomaly, "ec2_stop")[1]["error"] == "panic"
    world.api("POST", "/v1/governance/panic", acme, json_body={"on": False, "reason": "test"})
    # another workspace
    assert choose(world, acme, anomaly, "ec2_stop", team_id="T_EVIL")[1]["error"] == "foreign_workspace"
    world.pipeline.drain()
    assert states(ids) == {"running"}
    refused = [state for action, state in audit(world, acme) if action == "remediation.refused"]
    assert refused == ["not_allowed", "governance_mode", "governance_mode", "panic", "foreign_workspace"]
    assert [r["status"] for r in world.anomaly(acme, anomaly["id"])["remediations"]] == ["requested"]


def test_panic_after_confirmation_withholds_the_queued_action(world, acme):
    ids = launch(1)
    anomaly = anomaly_for(world, acme, ids)
    choose(world, acme, anomaly, "ec2_stop")
    confirm(world, acme)
    world.api("POST", "/v1/governance/panic", acme, json_body={"on": True, "reason": "stop everything"})
    world.pipeline.drain()
    assert states(ids) == {"running"}
    assert world.anomaly(acme, anomaly["id"])["remediations"][0]["status"] == "refused"
    assert ("remediation.withheld", "panic") in audit(world, acme)
    assert any("governance refused at execution" in t for t in thread(world))


def test_double_clicks_share_one_request_and_a_double_confirmation_runs_once(world, acme):
    ids = launch(1)
    anomaly = anomaly_for(world, acme, ids)
    choose(world, acme, anomaly, "ec2_stop")
    choose(world, acme, anomaly, "ec2_stop")  # a double click: the same open request
    views = [c.params["view"] for c in world.slack.calls_to("views.open")]
    assert len({json.loads(v["private_metadata"])["remediation_id"] for v in views}) == 1
    view, first = confirm(world, acme)
    second = world.submit(acme, view, {})  # Slack retried the submission
    assert first == second == (200, {})
    world.pipeline.drain()
    assert [r["status"] for r in world.anomaly(acme, anomaly["id"])["remediations"]] == ["succeeded"]
    assert [a for a, _ in audit(world, acme)].count("remediation.confirmed") == 1


def test_an_expired_dialog_changes_nothing(world, acme):
    ids = launch(1)
    anomaly = anomaly_for(world, acme, ids)
    choose(world, acme, anomaly, "ec2_stop")
    conn = open_connection(world.db_url)
    conn.execute("RESET ROLE")
    conn.execute("UPDATE dd0c.remediations SET requested_at = requested_at - interval '1 hour'")
    conn.commit()
    conn.close()
    _, (_, reply) = confirm(world, acme)
    assert reply["response_action"] == "errors" and "expired" in json.dumps(reply)
    world.pipeline.drain()
    assert states(ids) == {"running"}
    assert world.anomaly(acme, anomaly["id"])["remediations"][0]["status"] == "expired"
    assert ("remediation.expired", "expired") in audit(world, acme)


def test_a_protected_resource_is_never_touched(world, acme):
    ids = launch(1, tags={"dd0c:protect": "true"})
    anomaly = anomaly_for(world, acme, ids)
    choose(world, acme, anomaly, "ec2_terminate")
    confirm(world, acme)
    world.pipeline.drain()
    assert states(ids) == {"running"}
    assert world.anomaly(acme, anomaly["id"])["remediations"][0]["status"] == "refused"
    assert any("dd0c:protect" in t for t in thread(world))
    assert ("remediation.refused", "protected") in audit(world, acme)


def test_awss_own_error_is_shown_in_the_thread(world, acme):
    anomaly = anomaly_for(world, acme, ["i-0123456789abcdef0"])  # an instance that does not exist
    choose(world, acme, anomaly, "ec2_stop")
    confirm(world, acme)
    world.pipeline.drain()
    remediation = world.anomaly(acme, anomaly["id"])["remediations"][0]
    assert remediation["status"] == "failed" and "InvalidInstanceID" in remediation["error"]
    assert any("InvalidInstanceID" in t and "failed" in t for t in thread(world))
    assert ("remediation.failed", "failed") in audit(world, acme)


def test_remediation_needs_the_tenant_to_enable_it(world):
    globex = world.tenant("globex", "222222222222")
    world.install(globex, "T0GLOBEX")
    record_ids = ["i-0aaaaaaaaaaaaaaa1"]
    anomaly = anomaly_for(world, globex, record_ids)
    assert "remediation_request" not in json.dumps(world.posts_in("T0GLOBEX")[-1].params["blocks"])
    _status, reply = choose(world, globex, anomaly, "ec2_stop")
    assert reply["error"] == "remediation_disabled"


def test_volume_is_snapshotted_before_it_is_deleted(world, acme):
    from dd0c_cost.remediation.actions import BY_ID

    ec2 = customer().client("ec2")
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=16384, VolumeType="io2", Iops=64000)["VolumeId"]
    definition = BY_ID["ebs_snapshot_delete"]
    session = customer()
    params: dict = {"remediation_id": str(UUID(int=1))}
    step, outcomes = definition.first_step, []
    for _ in range(5):
        outcome = definition.steps[step](session, params, [volume])
        outcomes.append(type(outcome).__name__)
        params.update(getattr(outcome, "params", {}))
        if type(outcome).__name__ == "Done":
            break
        step = outcome.step
    assert outcomes == ["Next", "Next", "Done"]
    snapshot = params["snapshots"][volume]
    assert ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]["VolumeId"] == volume
    assert ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [volume]}])["Volumes"] == []


def _run_steps(name: str, session, ids: list[str], params: dict | None = None) -> tuple[list[str], object]:
    from dd0c_cost.remediation.actions import BY_ID, Done

    definition = BY_ID[name]
    params = dict(params or {})
    step, seen = definition.first_step, []
    for _ in range(6):
        outcome = definition.steps[step](session, params, ids)
        seen.append(f"{step}:{type(outcome).__name__}")
        if isinstance(outcome, Done):
            return seen, outcome
        params.update(outcome.params)
        step = outcome.step
    raise AssertionError(seen)


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield customer()


def test_rds_stop_on_moto(aws):
    rds = aws.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.r6g.8xlarge",
        Engine="postgres",
        MasterUsername="x",
        MasterUserPassword="password123",
        AllocatedStorage=100,
    )
    seen, done = _run_steps("rds_stop", aws, ["orders"])
    assert seen == ["run:Done"] and "7 days" in done.summary
    assert rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]["DBInstanceStatus"] == "stopped"


def test_nat_gateway_delete_and_release_its_eip_on_moto(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    seen, done = _run_steps("nat_delete", aws, [nat], {"release_eip": True})
    assert seen == ["run:Next", "release_nat_eips:Done"] and allocation in done.summary
    assert ec2.describe_addresses()["Addresses"] == []
    # without the option, the address is kept and said so
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    seen, done = _run_steps("nat_delete", aws, [nat], {"release_eip": False})
    assert seen == ["run:Done"] and f"kept its Elastic IP {allocation}" in done.summary


def test_elastic_ip_release_on_moto(aws):
    ec2 = aws.client("ec2")
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    seen, _ = _run_steps("eip_release", aws, [allocation])
    assert seen == ["run:Done"] and ec2.describe_addresses()["Addresses"] == []


def test_auto_scaling_group_scales_back_on_moto(aws):
    ec2, autoscaling = aws.client("ec2"), aws.client("autoscaling")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    autoscaling.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image, InstanceType="c7i.4xlarge")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchConfigurationName="lc",
        MinSize=2,
        MaxSize=40,
        DesiredCapacity=2,
        AvailabilityZones=["us-east-1a"],
    )
    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=10)
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    new = [i["InstanceId"] for i in group["Instances"]][:8]  # the burst the anomaly names
    seen, done = _run_steps("asg_restore", aws, new)
    assert seen == ["run:Done"] and done.result == {"group": "web", "from": 10, "to": 2}
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 2


def test_eks_node_group_scales_back_on_moto(aws):
    eks = aws.client("eks")
    eks.create_cluster(
        name="prod", roleArn="arn:aws:iam::111111111111:role/eks", resourcesVpcConfig={"subnetIds": ["subnet-1"]}
    )
    eks.create_nodegroup(
        clusterName="prod",
        nodegroupName="gpu",
        nodeRole="arn:aws:iam::111111111111:role/node",
        subnets=["subnet-1"],
        scalingConfig={"minSize": 1, "maxSize": 30, "desiredSize": 24},
    )
    seen, done = _run_steps("eks_nodegroup_restore", aws, ["prod/gpu"], {"size": 3})
    assert seen == ["run:Done"] and "from 24 back to 3" in done.summary
    assert (
        eks.describe_nodegroup(clusterName="prod", nodegroupName="gpu")["nodegroup"]["scalingConfig"]["desiredSize"]
        == 3
    )
