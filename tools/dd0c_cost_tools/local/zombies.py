"""The zombie hunter, locally: scan a tenant's connected accounts through the real
``zombie_hunter`` handler on the local pipeline (AWS is moto), and the demo's account, seeded
with a handful of idle and busy resources.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
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
    session = session_for(account, region)
    ec2, cw = session.client("ec2", region_name=region), session.client("cloudwatch", region_name=region)
    days = days_before(at, 14)
    ids: dict[str, str] = {}

    def ago(d: float) -> datetime:
        return at - timedelta(days=d)

    vid = ec2.create_volume(
        AvailabilityZone=region + "a",
        Size=500,
        VolumeType="gp3",
        Iops=6000,
        Throughput=250,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "old-build-cache"}]}],
    )["VolumeId"]
    backdate("volume", vid, ago(45), account=account, region=region)
    ids["unattached gp3 volume"] = vid

    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
    for name, itype, cpu in (("idle m5.2xlarge", "m5.2xlarge", 1.0), ("busy m5.large", "m5.large", 40.0)):
        iid = ec2.run_instances(ImageId="ami-00000001", MinCount=1, MaxCount=1, InstanceType=itype, SubnetId=subnet)[
            "Instances"
        ][0]["InstanceId"]
        backdate("instance", iid, ago(60), account=account, region=region)
        put_daily(
            cw,
            "AWS/EC2",
            "CPUUtilization",
            {"InstanceId": iid},
            dict.fromkeys(days, cpu),
            maximum=dict.fromkeys(days, cpu * 2),
        )
        put_daily(
            cw, "AWS/EC2", "NetworkIn", {"InstanceId": iid}, dict.fromkeys(days, 1000000.0 if cpu < 5 else 5000000000.0)
        )
        ids[name] = iid
        for root in ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]:
            vol = root["Ebs"]["VolumeId"]
            backdate("volume", vol, ago(60), account=account, region=region)
            backdate("attachment", vol, ago(60), account=account, region=region)
            put_daily(cw, "AWS/EBS", "VolumeWriteOps", {"VolumeId": vol}, dict.fromkeys(days, 100.0))

    for name, traffic in (("idle NAT gateway", 0.0), ("busy NAT gateway", 8e9)):
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
        backdate("nat", nat, ago(90), account=account, region=region)
        if traffic:
            put_daily(
                cw, "AWS/NATGateway", "BytesOutToDestination", {"NatGatewayId": nat}, dict.fromkeys(days, traffic)
            )
        ids[name] = nat

    ids["unassociated Elastic IP"] = ec2.allocate_address(Domain="vpc")["AllocationId"]

    gone = ec2.create_volume(AvailabilityZone=region + "a", Size=200, VolumeType="gp2")["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=gone, Description="before-migration")["SnapshotId"]
    ec2.delete_volume(VolumeId=gone)
    backdate("snapshot", snap, ago(120), account=account, region=region)
    ids["orphaned snapshot"] = snap

    rds = session.client("rds", region_name=region)
    rds.create_db_instance(
        DBInstanceIdentifier="staging-db",
        DBInstanceClass="db.r5.large",
        Engine="postgres",
        MultiAZ=True,
        AllocatedStorage=200,
        StorageType="gp2",
        MasterUsername="app",
        MasterUserPassword="not-a-secret-1",
    )
    backdate("rds", "staging-db", ago(100), account=account, region=region)
    put_daily(cw, "AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": "staging-db"}, dict.fromkeys(days, 0.0))
    ids["idle Multi-AZ RDS"] = "staging-db"

    elb = session.client("elbv2", region_name=region)
    lb = elb.create_load_balancer(Name="legacy-nlb", Subnets=[subnet], Type="network")["LoadBalancers"][0]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="TCP",
        Port=443,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}],
    )
    backdate("elbv2", "legacy-nlb", ago(200), account=account, region=region)
    ids["NLB without target group"] = "legacy-nlb"

    sm = session.client("sagemaker", region_name=region)
    sm.create_model(
        ModelName="churn-v1",
        ExecutionRoleArn=f"arn:aws:iam::{account}:role/sagemaker",
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
    backdate("sagemaker", "churn-v1", ago(40), account=account, region=region)
    ids["idle GPU endpoint"] = "churn-v1"
    return ids


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
