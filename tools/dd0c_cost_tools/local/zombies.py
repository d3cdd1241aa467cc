"""The zombie hunter, locally: scan a tenant's connected accounts through the real
``zombie_hunter`` handler on the local pipeline (AWS is moto), and the demo's account, seeded
with a handful of idle and busy resources.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.zombies import dal
from dd0c_cost.zombies.models import ZombieFinding, ZombieMessage
from dd0c_cost_tools.local.moto_aws import backdate, cloudwatch_like_aws, days_before, put_daily, session_for

DEMO_ACCOUNT = "111122223333"  # the bundled sample's account
DEMO_REGION = "us-east-1"


def newest_event_time(database_url: str, tenant_id: UUID) -> datetime | None:
    """The tenant's clock: the newest CloudTrail event time seen from its accounts."""
    conn = open_connection(database_url)
    try:
        with tenant_transaction(conn, tenant_id):
            row = conn.execute("SELECT max(last_event_at) AS t FROM dd0c.connected_accounts").fetchone()
    finally:
        conn.close()
    return row["t"] if row else None


def scan_tenant(pipeline, database_url: str, tenant_id: UUID, at: datetime) -> list[ZombieMessage]:
    """Queue one scan per connected account and region of the tenant (what the schedule's fan-out
    does, for one tenant) and drain them through the zombie_hunter handler."""
    from dd0c_cost.zombies import fanout

    conn = open_connection(database_url, fanout.FANOUT_ROLE)  # the fan-out's own role (migration 019)
    try:
        targets = [t for t in fanout.scan_targets(conn) if t["tenant_id"] == tenant_id]
    finally:
        conn.close()
    messages = fanout.messages_for("scan", at, targets)
    for message in messages:
        fanout.send(message)
    pipeline.drain()
    return messages


def tenant_findings(
    database_url: str, tenant_id: UUID, *, statuses: Iterable[str] | None = None, limit: int = 100
) -> list[ZombieFinding]:
    conn = open_connection(database_url)
    try:
        with tenant_transaction(conn, tenant_id):
            return dal.list_findings(conn, statuses=statuses, limit=limit)
    finally:
        conn.close()


def seed_demo_account(at: datetime, account: str = DEMO_ACCOUNT, region: str = DEMO_REGION) -> dict[str, str]:
    """A few idle and busy resources, created relative to the scan time ``at``; returns name -> id."""
    demo = _DemoAccount(session_for(account, region), account, region, at)
    ec2 = demo.client("ec2")
    vid = ec2.create_volume(
        AvailabilityZone=region + "a",
        Size=500,
        VolumeType="gp3",
        Iops=6000,
        Throughput=250,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "old-build-cache"}]}],
    )["VolumeId"]
    demo.backdate("volume", vid, 45)
    demo.ids["unattached gp3 volume"] = vid

    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
    _seed_instances(demo, subnet)
    _seed_nat_gateways(demo, subnet)
    demo.ids["unassociated Elastic IP"] = ec2.allocate_address(Domain="vpc")["AllocationId"]

    gone = ec2.create_volume(AvailabilityZone=region + "a", Size=200, VolumeType="gp2")["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=gone, Description="before-migration")["SnapshotId"]
    ec2.delete_volume(VolumeId=gone)
    demo.backdate("snapshot", snap, 120)
    demo.ids["orphaned snapshot"] = snap

    _seed_rds(demo)
    _seed_load_balancer(demo, subnet)
    _seed_sagemaker_endpoint(demo)
    return demo.ids


class _DemoAccount:
    """The demo account being seeded: its clients, the scan time, the 14 days of metrics before it,
    and the ids made so far by name."""

    def __init__(self, session, account: str, region: str, at: datetime) -> None:
        self.session, self.account, self.region, self.at = session, account, region, at
        self.clients: dict[str, Any] = {}
        self.cw = self.client("cloudwatch")
        self.days = days_before(at, 14)
        self.ids: dict[str, str] = {}

    def client(self, name: str) -> Any:
        if name not in self.clients:
            self.clients[name] = self.session.client(name, region_name=self.region)
        return self.clients[name]

    def backdate(self, kind: str, resource_id: str, days_ago: float) -> None:
        backdate(kind, resource_id, self.at - timedelta(days=days_ago), account=self.account, region=self.region)

    def daily(self, namespace: str, metric: str, dimensions: dict, value: float, **extra) -> None:
        put_daily(self.cw, namespace, metric, dimensions, dict.fromkeys(self.days, value), **extra)


def _seed_instances(demo: _DemoAccount, subnet: str) -> None:
    ec2 = demo.client("ec2")
    for name, itype, cpu in (("idle m5.2xlarge", "m5.2xlarge", 1.0), ("busy m5.large", "m5.large", 40.0)):
        iid = ec2.run_instances(ImageId="ami-00000001", MinCount=1, MaxCount=1, InstanceType=itype, SubnetId=subnet)[
            "Instances"
        ][0]["InstanceId"]
        demo.backdate("instance", iid, 60)
        demo.daily("AWS/EC2", "CPUUtilization", {"InstanceId": iid}, cpu, maximum=dict.fromkeys(demo.days, cpu * 2))
        demo.daily("AWS/EC2", "NetworkIn", {"InstanceId": iid}, 1000000.0 if cpu < 5 else 5000000000.0)
        demo.ids[name] = iid
        for root in ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]:
            vol = root["Ebs"]["VolumeId"]
            demo.backdate("volume", vol, 60)
            demo.backdate("attachment", vol, 60)
            demo.daily("AWS/EBS", "VolumeWriteOps", {"VolumeId": vol}, 100.0)


def _seed_nat_gateways(demo: _DemoAccount, subnet: str) -> None:
    ec2 = demo.client("ec2")
    for name, traffic in (("idle NAT gateway", 0.0), ("busy NAT gateway", 8e9)):
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
        demo.backdate("nat", nat, 90)
        if traffic:
            demo.daily("AWS/NATGateway", "BytesOutToDestination", {"NatGatewayId": nat}, traffic)
        demo.ids[name] = nat


def _seed_rds(demo: _DemoAccount) -> None:
    demo.client("rds").create_db_instance(
        DBInstanceIdentifier="staging-db",
        DBInstanceClass="db.r5.large",
        Engine="postgres",
        MultiAZ=True,
        AllocatedStorage=200,
        StorageType="gp2",
        MasterUsername="app",
        MasterUserPassword="not-a-secret-1",
    )
    demo.backdate("rds", "staging-db", 100)
    demo.daily("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": "staging-db"}, 0.0)
    demo.ids["idle Multi-AZ RDS"] = "staging-db"


def _seed_load_balancer(demo: _DemoAccount, subnet: str) -> None:
    elb = demo.client("elbv2")
    lb = elb.create_load_balancer(Name="legacy-nlb", Subnets=[subnet], Type="network")["LoadBalancers"][0]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="TCP",
        Port=443,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}],
    )
    demo.backdate("elbv2", "legacy-nlb", 200)
    demo.ids["NLB without target group"] = "legacy-nlb"


def _seed_sagemaker_endpoint(demo: _DemoAccount) -> None:
    sm = demo.client("sagemaker")
    sm.create_model(
        ModelName="churn-v1",
        ExecutionRoleArn=f"arn:aws:iam::{demo.account}:role/sagemaker",
        PrimaryContainer={"Image": "churn:1"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="churn-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "churn-v1",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.p3.2xlarge",
            }
        ],
    )
    sm.create_endpoint(EndpointName="churn-v1", EndpointConfigName="churn-v1")
    demo.backdate("sagemaker", "churn-v1", 40)
    demo.ids["idle GPU endpoint"] = "churn-v1"


def run_demo_hunt(pipeline, database_url: str, tenant_name: str, at: datetime) -> list[ZombieFinding]:
    """Connect the demo account's region to the tenant, seed it, scan it the day before ``at``
    and at ``at`` (the first scan starts the Elastic IP's clock), and return the open findings."""
    conn = operator.open_operator_connection(database_url)
    try:
        tenant_id = operator.ensure_tenant(conn, tenant_name)
        operator.connect_account(conn, tenant_id, DEMO_ACCOUNT, [DEMO_REGION])
    finally:
        conn.close()
    with cloudwatch_like_aws():
        seed_demo_account(at)
        scan_tenant(pipeline, database_url, tenant_id, at - timedelta(days=1))
        scan_tenant(pipeline, database_url, tenant_id, at)
    return tenant_findings(database_url, tenant_id, statuses=["open"])


def demo_scan_time(newest_event: datetime | None) -> datetime:
    """The demo scans the morning after the tenant's newest event (event time, not wall time)."""
    base = newest_event or datetime(2026, 11, 20, tzinfo=UTC)
    return datetime(base.year, base.month, base.day, 5, tzinfo=UTC) + timedelta(days=1)
