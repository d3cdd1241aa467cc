"""Every zombie criterion on moto, with seeded CloudWatch datapoints, through ``scan.scan_region``
exactly as the hunter runs it (inventory -> batched GetMetricData -> criteria -> prices). The
competitor bugs the issue names each have a test.

One moto account is seeded once per module with every scenario (each under its own names) and
scanned once at a fixed scan time (event time); the tests read that scan. Creation, launch and
stop times are set relative to the scan time (tests/zombie_aws.py). Scenarios that need a second
scan at another time run it on the same account.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from dd0c_cost.pricing import get_price_book
from dd0c_cost.zombies import criteria, metrics, scan
from dd0c_cost.zombies.access import new_session
from dd0c_cost.zombies.models import MetricQuery, Verdict, Window
from dd0c_cost_tools.local.moto_aws import REGION, backdate, cloudwatch_like_aws, days_before, put_daily

ACCOUNT = "123456789012"  # moto's default account
SCAN = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
DAYS = days_before(SCAN, 14)
AMI = "ami-00000001"  # moto launches from any image id (its default AMIs are not loaded: faster)


def ago(days: float) -> datetime:
    return SCAN - timedelta(days=days)


def day_start(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class World:
    """The seeded account: clients, the subnet, and the ids each scenario created."""

    def __init__(self) -> None:
        self.ec2 = boto3.client("ec2", region_name=REGION)
        self.cw = boto3.client("cloudwatch", region_name=REGION)
        self.elb = boto3.client("elbv2", region_name=REGION)
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.vpc = vpc
        self.subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=REGION + "a")[
            "Subnet"
        ]["SubnetId"]
        self.ids: dict[str, str] = {}
        self.result: scan.RegionScan | None = None

    # --- helpers for seeding ---
    def volume(self, name: str, *, days: float, size=10, vtype="gp2", tags=None, **kwargs) -> str:
        spec = (
            [{"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}]
            if tags
            else []
        )
        vid = self.ec2.create_volume(
            AvailabilityZone=REGION + "a", Size=size, VolumeType=vtype, TagSpecifications=spec, **kwargs
        )["VolumeId"]
        backdate("volume", vid, ago(days), account=ACCOUNT)
        self.ids[name] = vid
        return vid

    def instance(self, name: str, *, days: float, itype="m5.large", tags=None, **kwargs) -> str:
        if tags:
            kwargs["TagSpecifications"] = [
                {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            ]
        iid = self.ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, InstanceType=itype, SubnetId=self.subnet, **kwargs
        )["Instances"][0]["InstanceId"]
        backdate("instance", iid, ago(days), account=ACCOUNT)
        self.ids[name] = iid
        return iid

    def cpu(self, iid: str, *, avg=1.0, peak=4.0, network=100_000.0, days=DAYS) -> None:
        dims = {"InstanceId": iid}
        put_daily(
            self.cw, "AWS/EC2", "CPUUtilization", dims, dict.fromkeys(days, avg), maximum=dict.fromkeys(days, peak)
        )
        put_daily(self.cw, "AWS/EC2", "NetworkIn", dims, dict.fromkeys(days, network / 2))
        put_daily(self.cw, "AWS/EC2", "NetworkOut", dims, dict.fromkeys(days, network / 2))

    def rds(self, name: str, *, days=30, multi_az=False, storage="gp2", size=100, iops=None) -> str:
        kwargs = {"Iops": iops} if iops else {}
        boto3.client("rds", region_name=REGION).create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.m5.large",
            Engine="postgres",
            MultiAZ=multi_az,
            AllocatedStorage=size,
            StorageType=storage,
            MasterUsername="u",
            MasterUserPassword="password1",
            **kwargs,
        )
        backdate("rds", name, ago(days), account=ACCOUNT)
        self.ids[name] = name
        return name

    def nat(self, name: str, *, days=30) -> str:
        alloc = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = self.ec2.create_nat_gateway(SubnetId=self.subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
        backdate("nat", nat, ago(days), account=ACCOUNT)
        self.ids[name] = nat
        return nat

    def lb(self, name: str, kind: str, *, days=30) -> dict:
        lb = self.elb.create_load_balancer(Name=name, Subnets=[self.subnet], Type=kind)["LoadBalancers"][0]
        backdate("elbv2", name, ago(days), account=ACCOUNT)
        self.ids[name] = name
        return lb

    def target_group(self, name: str) -> str:
        return self.elb.create_target_group(Name=name, Protocol="TCP", Port=80, VpcId=self.vpc, TargetType="instance")[
            "TargetGroups"
        ][0]["TargetGroupArn"]

    def listener(self, lb: dict, tg: str | None) -> None:
        action = (
            {"Type": "forward", "TargetGroupArn": tg}
            if tg
            else {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}
        )
        self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=80, DefaultActions=[action]
        )

    def endpoint(self, name: str, *, days: float) -> str:
        sm = boto3.client("sagemaker", region_name=REGION)
        sm.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm",
            PrimaryContainer={"Image": "img"},
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"{name}-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{name}-model",
                    "InitialInstanceCount": 2,
                    "InstanceType": "ml.p3.2xlarge",
                }
            ],
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
        backdate("sagemaker", name, ago(days), account=ACCOUNT)
        self.ids[name] = name
        return name

    def cache(self, name: str, *, nodes=1, days=30, engine="redis") -> str:
        boto3.client("elasticache", region_name=REGION).create_cache_cluster(
            CacheClusterId=name, Engine=engine, CacheNodeType="cache.m5.large", NumCacheNodes=nodes
        )
        backdate("elasticache", name, ago(days), account=ACCOUNT)
        self.ids[name] = name
        return name

    def redshift(self, name: str, node_type: str, *, nodes=2, days=30) -> str:
        boto3.client("redshift", region_name=REGION).create_cluster(
            ClusterIdentifier=name,
            NodeType=node_type,
            MasterUsername="admin",
            MasterUserPassword="Password1",
            NumberOfNodes=nodes,
        )
        backdate("redshift", name, ago(days), account=ACCOUNT)
        self.ids[name] = name
        return name

    # --- reading the scan ---
    def found(self, name: str) -> scan.Finding | None:
        rid = self.ids[name]
        return next((f for f in self.result.findings if f.resource.resource_id == rid), None)

    def finding(self, name: str) -> scan.Finding:
        f = self.found(name)
        assert f is not None, f"{name} ({self.ids[name]}) has no finding"
        return f

    def excluded(self, name: str) -> list[str]:
        return [e.reason for r, e in self.result.exclusions if r.resource_id == self.ids[name]]

    def scan(self, at: datetime, **kwargs) -> scan.RegionScan:
        return scan.scan_region(new_session(), ACCOUNT, REGION, at, book=get_price_book(), **kwargs)


def seed(w: World) -> None:
    # EBS ---------------------------------------------------------------------------------------
    w.volume("vol-7d", days=7, size=500)
    w.volume("vol-6.9d", days=6.9, size=500)
    detached = w.volume("vol-detached-3d", days=60, vtype="gp3")
    put_daily(w.cw, "AWS/EBS", "VolumeReadOps", {"VolumeId": detached}, dict.fromkeys(DAYS[:-3], 5.0))
    w.volume("vol-io2", days=30, size=100, vtype="io2", Iops=5000)
    w.volume("vol-gp3", days=30, size=100, vtype="gp3", Iops=6000, Throughput=250)
    w.volume("vol-ignored", days=30, tags={"dd0c:ignore": "true"})
    w.volume("vol-cfn", days=30, tags={"aws:cloudformation:stack-name": "legacy"})
    host = w.instance("host", days=40)
    w.cpu(host, avg=50, peak=90)
    for name, dev in (("vol-quiet", "/dev/sdf"), ("vol-busy", "/dev/sdg")):
        vid = w.volume(name, days=40, size=50, vtype="gp3")
        w.ec2.attach_volume(VolumeId=vid, InstanceId=host, Device=dev)
        backdate("attachment", vid, ago(40), account=ACCOUNT)
    put_daily(w.cw, "AWS/EBS", "VolumeWriteOps", {"VolumeId": w.ids["vol-busy"]}, {DAYS[5]: 12.0})

    # EC2 ---------------------------------------------------------------------------------------
    w.cpu(w.instance("ec2-idle", days=20), avg=2.0, peak=15.0, network=4_000_000)
    w.cpu(w.instance("ec2-at-thresholds", days=20), avg=5.0, peak=20.0, network=5_000_000.0)
    for name, (avg, peak, network) in {
        "ec2-busy-avg": (5.5, 10.0, 1_000.0),
        "ec2-busy-max": (3.0, 21.0, 1_000.0),
        "ec2-busy-net": (3.0, 10.0, 5_000_001.0),
    }.items():
        iid = w.instance(name, days=20)
        w.cpu(iid, avg=1.0, peak=2.0, network=1_000.0, days=DAYS[:-1])
        w.cpu(iid, avg=avg, peak=peak, network=network, days=DAYS[-1:])
    w.cpu(w.instance("ec2-13.9d", days=13.9), avg=0.1, peak=0.2, network=0)
    w.cpu(w.instance("ec2-12-days", days=20), avg=1.0, peak=2.0, network=0, days=DAYS[2:])
    w.cpu(w.instance("ec2-11-days", days=20), avg=1.0, peak=2.0, network=0, days=DAYS[3:])
    for name, stopped in (("ec2-stopped-31d", 31), ("ec2-stopped-29d", 29)):
        iid = w.instance(name, days=90)
        w.ec2.stop_instances(InstanceIds=[iid])
        backdate("stopped", iid, ago(stopped), account=ACCOUNT)
    w.cpu(w.instance("ec2-spot", days=20, InstanceMarketOptions={"MarketType": "spot"}), avg=0.5, peak=1.0, network=0)
    w.cpu(w.instance("ec2-asg", days=20, tags={"aws:autoscaling:groupName": "web"}), avg=0.5, peak=1.0, network=0)
    w.cpu(w.instance("ec2-eks", days=20, tags={"kubernetes.io/cluster/prod": "owned"}), avg=0.5, peak=1.0, network=0)

    # RDS ---------------------------------------------------------------------------------------
    put_daily(
        w.cw,
        "AWS/RDS",
        "DatabaseConnections",
        {"DBInstanceIdentifier": w.rds("rds-idle", multi_az=True)},
        dict.fromkeys(DAYS, 0.0),
    )
    daily_max = dict.fromkeys(DAYS, 0.0)
    daily_max[DAYS[6]] = 1.0  # one connection on one day; that day's average rounds to 0
    put_daily(
        w.cw,
        "AWS/RDS",
        "DatabaseConnections",
        {"DBInstanceIdentifier": w.rds("rds-one-busy-day")},
        dict.fromkeys(DAYS, 0.0),
        maximum=daily_max,
    )
    w.rds("rds-silent")
    put_daily(
        w.cw,
        "AWS/RDS",
        "DatabaseConnections",
        {"DBInstanceIdentifier": w.rds("rds-13d", days=13)},
        dict.fromkeys(DAYS, 0.0),
    )
    put_daily(
        w.cw,
        "AWS/RDS",
        "DatabaseConnections",
        {"DBInstanceIdentifier": w.rds("rds-io1", storage="io1", size=200, iops=2000)},
        dict.fromkeys(DAYS, 0.0),
    )

    # Elastic IPs -------------------------------------------------------------------------------
    w.ids["eip-free"] = w.ec2.allocate_address(Domain="vpc")["AllocationId"]
    for name, stopped in (("eip-stopped-2d", 2), ("eip-stopped-12h", 0.5)):
        iid = w.instance(f"{name}-host", days=60)
        w.ids[name] = w.ec2.allocate_address(Domain="vpc")["AllocationId"]
        w.ec2.associate_address(AllocationId=w.ids[name], InstanceId=iid)
        w.ec2.stop_instances(InstanceIds=[iid])
        backdate("stopped", iid, ago(stopped), account=ACCOUNT)

    # NAT gateways ------------------------------------------------------------------------------
    w.nat("nat-no-datapoints")
    put_daily(w.cw, "AWS/NATGateway", "BytesOutToDestination", {"NatGatewayId": w.nat("nat-busy")}, {DAYS[3]: 1e6})
    put_daily(
        w.cw,
        "AWS/NATGateway",
        "ActiveConnectionCount",
        {"NatGatewayId": w.nat("nat-connections-only")},
        {DAYS[9]: 0.0},
        maximum={DAYS[9]: 2.0},
    )
    routed = w.nat("nat-routed")
    table = w.ec2.create_route_table(VpcId=w.vpc)["RouteTable"]["RouteTableId"]
    w.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=routed)
    w.ids["nat-routed-table"] = table
    w.nat("nat-13d", days=13)

    # Load balancers ----------------------------------------------------------------------------
    w.listener(w.lb("nlb-no-tg", "network"), None)
    w.lb("alb-no-listeners", "application")
    nlb = w.lb("nlb-no-targets", "network")
    w.listener(nlb, w.target_group("tg-empty"))
    target = w.instance("lb-target", days=60)
    for name, tg_name in (("nlb-quiet", "tg-quiet"), ("nlb-busy", "tg-busy")):
        lb = w.lb(name, "network")
        tg = w.target_group(tg_name)
        w.listener(lb, tg)
        w.elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": target}])
        if name == "nlb-busy":
            dim = "net/nlb-busy/" + lb["LoadBalancerArn"].rsplit("/", 1)[-1]
            put_daily(w.cw, "AWS/NetworkELB", "NewFlowCount", {"LoadBalancer": dim}, {DAYS[12]: 3.0})
    w.lb("alb-10d", "application", days=10)

    # Snapshots ---------------------------------------------------------------------------------
    gone = w.ec2.create_volume(AvailabilityZone=REGION + "a", Size=200, VolumeType="gp2")["VolumeId"]
    w.ids["snap-orphan"] = w.ec2.create_snapshot(VolumeId=gone)["SnapshotId"]
    w.ids["snap-89d"] = w.ec2.create_snapshot(VolumeId=gone)["SnapshotId"]
    w.ec2.delete_volume(VolumeId=gone)
    kept = w.volume("vol-kept", days=1, size=20)
    w.ids["snap-live-volume"] = w.ec2.create_snapshot(VolumeId=kept)["SnapshotId"]
    ami = w.ec2.create_image(InstanceId=w.instance("ami-source", days=200), Name="golden")["ImageId"]
    w.ids["snap-of-ami"] = w.ec2.describe_images(ImageIds=[ami])["Images"][0]["BlockDeviceMappings"][0]["Ebs"][
        "SnapshotId"
    ]
    for name in ("snap-orphan", "snap-live-volume", "snap-of-ami"):
        backdate("snapshot", w.ids[name], ago(91), account=ACCOUNT)
    backdate("snapshot", w.ids["snap-89d"], ago(89), account=ACCOUNT)

    # SageMaker ---------------------------------------------------------------------------------
    inv = lambda n: {"EndpointName": n, "VariantName": "AllTraffic"}  # noqa: E731
    put_daily(w.cw, "AWS/SageMaker", "Invocations", inv(w.endpoint("sm-idle", days=30)), {DAYS[5]: 40.0})
    w.endpoint("sm-6.5d", days=6.5)
    put_daily(w.cw, "AWS/SageMaker", "Invocations", inv(w.endpoint("sm-used", days=30)), {DAYS[-2]: 1.0})

    # ElastiCache -------------------------------------------------------------------------------
    node = lambda c, n="0001": {"CacheClusterId": c, "CacheNodeId": n}  # noqa: E731
    put_daily(w.cw, "AWS/ElastiCache", "CurrConnections", node(w.cache("redis-busy")), dict.fromkeys(DAYS, 12.0))
    put_daily(w.cw, "AWS/ElastiCache", "CurrConnections", node(w.cache("redis-idle")), dict.fromkeys(DAYS, 0.0))
    w.cache("redis-silent")
    memc = w.cache("memc-one-busy-node", nodes=3, engine="memcached")
    for n in ("0001", "0002", "0003"):
        put_daily(
            w.cw,
            "AWS/ElastiCache",
            "CurrConnections",
            node(memc, n),
            {d: (4.0 if n == "0003" and d == DAYS[7] else 0.0) for d in DAYS},
        )

    # Redshift ----------------------------------------------------------------------------------
    for name, node_type in (("dw-idle", "ra3.4xlarge"), ("dw-paused", "ra3.4xlarge"), ("dw-unpriced", "ra3.xlplus")):
        put_daily(
            w.cw,
            "AWS/Redshift",
            "DatabaseConnections",
            {"ClusterIdentifier": w.redshift(name, node_type)},
            dict.fromkeys(DAYS, 0.0),
        )
    boto3.client("redshift", region_name=REGION).pause_cluster(ClusterIdentifier="dw-paused")

    # OpenSearch --------------------------------------------------------------------------------
    search = boto3.client("opensearch", region_name=REGION)
    es = lambda n: {"ClientId": ACCOUNT, "DomainName": n}  # noqa: E731
    for name in ("os-idle", "os-busy", "os-new"):
        search.create_domain(
            DomainName=name,
            ClusterConfig={"InstanceType": "m5.large.search", "InstanceCount": 2},
            EBSOptions={"EBSEnabled": True, "VolumeSize": 100, "VolumeType": "gp2"},
        )
        w.ids[name] = name
        put_daily(
            w.cw, "AWS/ES", "CPUUtilization", es(name), dict.fromkeys(DAYS[-5:] if name == "os-new" else DAYS, 3.0)
        )
    put_daily(w.cw, "AWS/ES", "IndexingRate", es("os-busy"), {DAYS[10]: 0.5})


@pytest.fixture(scope="module")
def world():
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as mp:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }.items():
            mp.setenv(key, value)
        with mock_aws(), cloudwatch_like_aws():
            w = World()
            seed(w)
            w.result = w.scan(SCAN)
            yield w


def verdict(w: World, name: str) -> tuple[str, Verdict]:
    f = w.finding(name)
    return (f.evaluation.criterion, f.evaluation.verdict)


def test_the_scan_is_complete(world: World) -> None:
    assert world.result.status == scan.COMPLETE, world.result.errors


# --- EBS ----------------------------------------------------------------------------------------


def test_unattached_volume_7_days_is_a_zombie_and_6_9_days_is_not(world: World) -> None:
    assert verdict(world, "vol-7d") == ("ebs_unattached", Verdict.ZOMBIE)
    assert world.found("vol-6.9d") is None


def test_ebs_cost_is_multiplied_by_the_volume_size(world: World) -> None:
    """Competitor bug: EBS waste not multiplied by the size. 500 GB gp2 at $0.10 per GB-month."""
    assert world.finding("vol-7d").waste.monthly_usd == pytest.approx(50.0)


def test_a_volume_detached_3_days_ago_is_a_zombie_only_7_days_after_its_last_datapoint(world: World) -> None:
    # EBS publishes metrics only while a volume is attached: datapoints until 3 days ago.
    assert world.found("vol-detached-3d") is None
    later = world.scan(SCAN + timedelta(days=4))
    f = next(f for f in later.findings if f.resource.resource_id == world.ids["vol-detached-3d"])
    assert f.evaluation.criterion == "ebs_unattached"
    assert f.evaluation.idle_since == day_start(DAYS[-3])


def test_ebs_price_includes_iops_and_throughput(world: World) -> None:
    # io2: 100 GB x $0.125 + 5,000 IOPS x $0.065
    assert world.finding("vol-io2").waste.monthly_usd == pytest.approx(12.5 + 325.0)
    # gp3: 100 GB x $0.08 + (6,000 - 3,000) IOPS x $0.005 + (250 - 125) MiB/s x $0.04
    gp3 = world.finding("vol-gp3").waste
    assert gp3.monthly_usd == pytest.approx(8.0 + 15.0 + 5.0)
    assert {c.component for c in gp3.components} == {"storage", "provisioned_iops", "throughput"}


def test_attached_volume_without_io_for_14_days_is_a_suspect(world: World) -> None:
    assert verdict(world, "vol-quiet") == ("ebs_no_io", Verdict.IDLE_SUSPECT)
    assert world.found("vol-busy") is None and world.found("host") is None


def test_opt_out_tag_is_honoured(world: World) -> None:
    assert world.found("vol-ignored") is None
    assert world.excluded("vol-ignored") == ["tag dd0c:ignore"]


def test_cloudformation_resources_are_fix_in_owner(world: World) -> None:
    ev = world.finding("vol-cfn").evaluation
    assert (ev.owner_kind, ev.owner_name) == ("cloudformation", "legacy")


# --- EC2 ----------------------------------------------------------------------------------------


def test_idle_instance_for_14_days_is_a_zombie_priced_by_the_hour(world: World) -> None:
    f = world.finding("ec2-idle")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("ec2_idle", Verdict.ZOMBIE)
    assert f.evaluation.evidence["days_with_data"] == 14
    hourly = get_price_book().ec2_instance(REGION, "m5.large").usd_per_hour
    assert f.waste.components[0].usd_per_month == pytest.approx(hourly * 730)


@pytest.mark.parametrize("name", ["ec2-busy-avg", "ec2-busy-max", "ec2-busy-net"])
def test_one_busy_day_makes_an_instance_not_idle(world: World, name: str) -> None:
    assert world.found(name) is None


def test_instance_thresholds_are_inclusive(world: World) -> None:
    assert verdict(world, "ec2-at-thresholds") == ("ec2_idle", Verdict.ZOMBIE)


def test_instance_younger_than_14_days_is_never_a_zombie(world: World) -> None:
    assert world.found("ec2-13.9d") is None


def test_instance_needs_data_on_12_of_14_days(world: World) -> None:
    assert verdict(world, "ec2-12-days") == ("ec2_idle", Verdict.ZOMBIE)
    assert verdict(world, "ec2-11-days") == ("ec2_idle", Verdict.INSUFFICIENT_DATA)


def test_instance_stopped_30_days_is_a_zombie_priced_by_its_volumes(world: World) -> None:
    assert world.found("ec2-stopped-29d") is None
    f = world.finding("ec2-stopped-31d")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("ec2_stopped", Verdict.ZOMBIE)
    root = f.resource.attributes["volumes"][0]
    assert f.waste.monthly_usd == pytest.approx(root["size_gb"] * 0.10)  # moto's root volume: gp2
    assert all("instance_hours" not in c.component for c in f.waste.components)


def test_spot_instances_are_skipped_and_managed_ones_are_fix_in_owner(world: World) -> None:
    assert world.found("ec2-spot") is None
    assert world.excluded("ec2-spot") == ["spot instance: its spot request owns its lifecycle"]
    asg, eks = world.finding("ec2-asg").evaluation, world.finding("ec2-eks").evaluation
    assert (asg.owner_kind, asg.owner_name) == ("autoscaling", "web")
    assert (eks.owner_kind, eks.owner_name) == ("kubernetes", "prod")


# --- RDS ----------------------------------------------------------------------------------------


def test_rds_with_zero_connections_on_every_datapoint_is_a_zombie_with_multi_az_priced(world: World) -> None:
    f = world.finding("rds-idle")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("rds_no_connections", Verdict.ZOMBIE)
    single = get_price_book().rds_instance(REGION, "db.m5.large", "postgres").usd_per_hour * 730
    parts = {c.component: c.usd_per_month for c in f.waste.components}
    assert parts["instance_hours"] == pytest.approx(single)
    assert parts["multi_az"] == pytest.approx(single)
    assert parts["storage"] == pytest.approx(100 * 0.23)  # gp2 Multi-AZ, $0.23 per GB-month


def test_rds_one_busy_day_is_not_rounded_away(world: World) -> None:
    """Competitor bug (Steampipe AWS Thrifty): connections averaged and rounded, so one busy day
    in two weeks reads as "never connected". Every daily Maximum must be exactly zero."""
    assert world.found("rds-one-busy-day") is None


def test_rds_without_datapoints_is_insufficient_data_and_young_rds_is_never_a_zombie(world: World) -> None:
    assert verdict(world, "rds-silent") == ("rds_no_connections", Verdict.INSUFFICIENT_DATA)
    assert world.found("rds-13d") is None


def test_rds_io1_storage_and_iops_are_priced(world: World) -> None:
    parts = {c.component: c.usd_per_month for c in world.finding("rds-io1").waste.components}
    assert parts["storage"] == pytest.approx(200 * 0.125)
    assert parts["provisioned_iops"] == pytest.approx(2000 * 0.10)


# --- Elastic IPs ----------------------------------------------------------------------------------


def test_unassociated_eip_becomes_a_zombie_after_24_hours_of_observation(world: World) -> None:
    first = world.finding("eip-free")
    assert (first.evaluation.criterion, first.evaluation.verdict) == ("eip_unassociated", Verdict.INSUFFICIENT_DATA)
    later = world.scan(SCAN + timedelta(hours=24), prior_idle_since={first.resource.key: SCAN})
    f = next(f for f in later.findings if f.resource.resource_id == world.ids["eip-free"])
    assert f.evaluation.verdict is Verdict.ZOMBIE
    assert f.waste.monthly_usd == pytest.approx(0.005 * 730)


def test_eip_on_an_instance_stopped_for_24_hours_is_a_zombie(world: World) -> None:
    assert verdict(world, "eip-stopped-2d") == ("eip_on_stopped_instance", Verdict.ZOMBIE)
    assert world.found("eip-stopped-12h") is None


# --- NAT gateways -------------------------------------------------------------------------------


def test_nat_gateway_without_any_datapoints_is_a_zombie(world: World) -> None:
    """Competitor bug (Steampipe AWS Thrifty): a NAT gateway with no datapoints passes as healthy."""
    f = world.finding("nat-no-datapoints")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("nat_no_traffic", Verdict.ZOMBIE)
    assert f.waste.monthly_usd == pytest.approx(0.045 * 730)


def test_busy_nat_gateway_is_read_from_the_correctly_cased_namespace(world: World) -> None:
    """Competitor bug: metrics read from ``AWS/NatGateway``, where nothing is published, so every
    gateway looks idle. Namespaces are case-sensitive; ours is ``AWS/NATGateway``."""
    assert criteria.NAT_NAMESPACE == "AWS/NATGateway"
    assert world.found("nat-busy") is None
    wrong = world.cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/NatGateway",
                        "MetricName": "BytesOutToDestination",
                        "Dimensions": [{"Name": "NatGatewayId", "Value": world.ids["nat-busy"]}],
                    },
                    "Period": 86400,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=SCAN - timedelta(days=14),
        EndTime=SCAN,
    )
    assert wrong["MetricDataResults"][0]["Values"] == []  # as on AWS: nothing there


def test_nat_gateway_with_active_connections_only_is_not_idle(world: World) -> None:
    assert world.found("nat-connections-only") is None


def test_idle_nat_gateway_still_routed_to_is_a_suspect_and_young_ones_are_not_zombies(world: World) -> None:
    f = world.finding("nat-routed")
    assert f.evaluation.verdict is Verdict.IDLE_SUSPECT
    assert f.evaluation.evidence["route_tables"] == [world.ids["nat-routed-table"]]
    assert world.found("nat-13d") is None


# --- load balancers -----------------------------------------------------------------------------


def test_nlb_with_no_target_group_is_a_zombie(world: World) -> None:
    """Competitor bug (Steampipe AWS Thrifty): an NLB with no target group passes."""
    f = world.finding("nlb-no-tg")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("lb_no_target_groups", Verdict.ZOMBIE)
    assert f.waste.monthly_usd == pytest.approx(0.0225 * 730)


def test_load_balancer_with_no_listeners_or_no_targets_is_a_zombie(world: World) -> None:
    assert verdict(world, "alb-no-listeners") == ("lb_no_listeners", Verdict.ZOMBIE)
    assert verdict(world, "nlb-no-targets") == ("lb_no_targets", Verdict.ZOMBIE)


def test_load_balancer_with_targets_but_no_flows_for_14_days_is_a_zombie(world: World) -> None:
    assert verdict(world, "nlb-quiet") == ("lb_no_traffic", Verdict.ZOMBIE)
    assert world.found("nlb-busy") is None


def test_load_balancer_younger_than_14_days_is_never_a_zombie(world: World) -> None:
    assert world.found("alb-10d") is None


# --- snapshots ----------------------------------------------------------------------------------


def test_old_snapshot_of_a_deleted_volume_unused_by_any_ami_is_a_zombie(world: World) -> None:
    f = world.finding("snap-orphan")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("snapshot_orphaned", Verdict.ZOMBIE)
    assert f.waste.monthly_usd == pytest.approx(200 * 0.05)  # upper bound: the volume's size
    for name in ("snap-89d", "snap-live-volume", "snap-of-ami"):
        assert world.found(name) is None, name


# --- SageMaker ----------------------------------------------------------------------------------


def test_sagemaker_endpoint_without_invocations_for_7_days_is_a_zombie_reported_unpriced(world: World) -> None:
    f = world.finding("sm-idle")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("sagemaker_no_invocations", Verdict.ZOMBIE)
    assert f.evaluation.idle_since == day_start(DAYS[6])  # the day after its last invocations
    assert f.waste.monthly_usd is None
    assert "SageMaker hosting is not in the price snapshot" in f.waste.unpriced_reason
    assert world.found("sm-6.5d") is None and world.found("sm-used") is None


# --- ElastiCache --------------------------------------------------------------------------------


def test_busy_cache_cluster_is_read_per_node_and_not_flagged(world: World) -> None:
    """Competitor bug: CurrConnections queried by CacheClusterId alone, a dimension set under which
    ElastiCache publishes nothing, so every cluster reads as idle. Nodes are CacheClusterId +
    CacheNodeId; and an empty answer is never taken for zero connections."""
    assert world.found("redis-busy") is None
    wrong = world.cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ElastiCache",
                        "MetricName": "CurrConnections",
                        "Dimensions": [{"Name": "CacheClusterId", "Value": "redis-busy"}],
                    },
                    "Period": 86400,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=SCAN - timedelta(days=14),
        EndTime=SCAN,
    )
    assert wrong["MetricDataResults"][0]["Values"] == []  # as on AWS
    assert verdict(world, "redis-silent") == ("elasticache_no_connections", Verdict.INSUFFICIENT_DATA)


def test_cache_cluster_with_zero_connections_on_every_node_is_a_zombie(world: World) -> None:
    f = world.finding("redis-idle")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("elasticache_no_connections", Verdict.ZOMBIE)
    assert f.waste.monthly_usd == pytest.approx(
        get_price_book().elasticache_node(REGION, "cache.m5.large").usd_per_hour * 730
    )
    assert world.found("memc-one-busy-node") is None  # idle only if every node is


# --- Redshift -----------------------------------------------------------------------------------


def test_redshift_not_paused_without_connections_is_a_zombie_and_paused_is_not(world: World) -> None:
    f = world.finding("dw-idle")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("redshift_no_connections", Verdict.ZOMBIE)
    assert f.waste.monthly_usd == pytest.approx(2 * 3.26 * 730)
    assert world.found("dw-paused") is None
    unpriced = world.finding("dw-unpriced").waste
    assert unpriced.monthly_usd is None
    assert "ra3.xlplus is not in the price snapshot" in unpriced.unpriced_reason


# --- OpenSearch ---------------------------------------------------------------------------------


def test_opensearch_domain_without_search_or_indexing_is_a_zombie(world: World) -> None:
    f = world.finding("os-idle")
    assert (f.evaluation.criterion, f.evaluation.verdict) == ("opensearch_no_activity", Verdict.ZOMBIE)
    hourly = get_price_book().opensearch_instance(REGION, "m5.large.search").usd_per_hour
    assert f.waste.monthly_usd == pytest.approx(2 * hourly * 730 + 200 * 0.135)
    assert world.found("os-busy") is None
    assert verdict(world, "os-new") == ("opensearch_no_activity", Verdict.INSUFFICIENT_DATA)


# --- batching and determinism -------------------------------------------------------------------


def test_the_scan_makes_exactly_the_calls_the_reader_role_allows(world: World) -> None:
    """onboarding.ZOMBIE_SCAN_ACTIONS (the zombie scan's part of the dd0c-reader role's policy) is
    exactly what a scan of an account holding every resource type calls: nothing missing
    (AccessDenied), nothing spare."""
    from dd0c_cost.onboarding import READER_ACTIONS, ZOMBIE_SCAN_ACTIONS

    assert sorted(world.result.api_calls) == sorted(ZOMBIE_SCAN_ACTIONS)
    assert set(ZOMBIE_SCAN_ACTIONS) <= set(READER_ACTIONS)


def test_the_region_needs_one_get_metric_data_call(world: World) -> None:
    assert world.result.metric_calls == 1
    assert 100 < world.result.metric_queries <= metrics.MAX_QUERIES_PER_CALL


def test_metrics_are_read_in_batches_of_at_most_500_queries(world: World) -> None:
    sizes: list[int] = []
    session = new_session()
    session.events.register(
        "provide-client-params.cloudwatch.GetMetricData",
        lambda params, **_: sizes.append(len(params["MetricDataQueries"])),
    )
    queries = [MetricQuery("AWS/EBS", "VolumeReadOps", (("VolumeId", f"vol-{i:05d}"),), "Sum") for i in range(1001)]
    fetched = metrics.fetch_daily(
        session.client("cloudwatch", region_name=REGION), queries + queries[:10], Window(SCAN)
    )
    assert sizes == [500, 500, 1]
    assert (fetched.queries, fetched.calls, fetched.failed) == (1001, 3, {})


def test_the_scan_is_deterministic(world: World) -> None:
    again = world.scan(SCAN)
    assert [(f.resource.key, f.evaluation, f.waste) for f in again.findings] == [
        (f.resource.key, f.evaluation, f.waste) for f in world.result.findings
    ]
