"""Zombie scan cost and speed (``dd0c-cost bench zombies``): one account, one region, ~1,000 resources.

Seeds a moto account with ``--resources`` resources (EC2 instances with their root volumes, EBS
volumes, RDS instances, NAT gateways with their Elastic IPs, network load balancers, ElastiCache
clusters, in fixed proportions) and 14 days of daily CloudWatch datapoints for half of them,
then runs the hunter's scan of that region (``zombies.scan.scan_region``: inventory, batched
GetMetricData, criteria, prices) ``--runs`` times.

Reported, from the scan itself (not from this script's arithmetic):
- resources the inventory saw, statistics asked for ("resource-metrics": one CloudWatch
  statistic of one resource over the 14 daily periods) and GetMetricData requests made;
- GetMetricData calls per resource-metric next to the target (<= 0.01) and to what one
  GetMetricStatistics call per resource-metric would cost (1.0);
- every control-plane call of the inventory, per resource;
- scan time, median and best of the runs, with the machine's load average.

AWS is moto here (in-process; its CloudWatch GetMetricData replaced by the indexed, AWS-like
adapter in ``local/moto_aws.py``): the call counts are what AWS would see; the scan time is
moto's and this machine's, not AWS latency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

ACCOUNT = "123456789012"
REGION = "us-east-1"
SCAN_TIME = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
TARGET_CALLS_PER_RESOURCE_METRIC = 0.01


def _mix(total: int) -> dict[str, int]:
    """Counts per kind so that the inventory sees ``total`` resources (an instance brings a root
    volume, a NAT gateway an Elastic IP)."""
    unit = max(1, total // 20)
    mix = {"instances": 5 * unit, "volumes": 4 * unit, "rds": 2 * unit, "nat": unit, "nlb": unit, "cache": unit}
    seen = 2 * mix["instances"] + mix["volumes"] + mix["rds"] + 2 * mix["nat"] + mix["nlb"] + mix["cache"]
    mix["volumes"] += max(0, total - seen)
    return mix


def seed(total: int) -> dict[str, int]:
    import boto3

    from dd0c_cost_tools.local.moto_aws import backdate, days_before, put_many

    mix = _mix(total)
    ec2 = boto3.client("ec2", region_name=REGION)
    cw = boto3.client("cloudwatch", region_name=REGION)
    old = SCAN_TIME - timedelta(days=40)
    days = days_before(SCAN_TIME, 14)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/20", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    points: dict[str, list] = {}

    def daily(namespace, metric, dims, value):
        points.setdefault(namespace, []).extend((metric, dims, d, value) for d in days)

    _seed_instances_and_volumes(ec2, subnet, mix, daily, old)
    _seed_rds(mix["rds"], daily, old)
    for _ in range(mix["nat"]):
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
        backdate("nat", nat, old, account=ACCOUNT)
    elb = boto3.client("elbv2", region_name=REGION)
    for n in range(mix["nlb"]):
        elb.create_load_balancer(Name=f"nlb-{n:04d}", Subnets=[subnet], Type="network")
        backdate("elbv2", f"nlb-{n:04d}", old, account=ACCOUNT)
    cache = boto3.client("elasticache", region_name=REGION)
    for n in range(mix["cache"]):
        name = f"cache-{n:04d}"
        cache.create_cache_cluster(
            CacheClusterId=name, Engine="redis", CacheNodeType="cache.t3.medium", NumCacheNodes=1
        )
        backdate("elasticache", name, old, account=ACCOUNT)
        daily("AWS/ElastiCache", "CurrConnections", {"CacheClusterId": name, "CacheNodeId": "0001"}, 0.0)
    for namespace, items in points.items():
        put_many(cw, namespace, items)
    return mix


def _seed_instances_and_volumes(ec2, subnet: str, mix: dict[str, int], daily, old: datetime) -> None:
    """EC2 instances (half with a day of idle CPU data each) and unattached gp3 volumes."""
    from dd0c_cost_tools.local.moto_aws import backdate

    instances = ec2.run_instances(
        ImageId="ami-00000001",
        MinCount=mix["instances"],
        MaxCount=mix["instances"],
        InstanceType="m5.large",
        SubnetId=subnet,
    )["Instances"]
    for n, inst in enumerate(instances):
        backdate("instance", inst["InstanceId"], old, account=ACCOUNT)
        for b in inst["BlockDeviceMappings"]:
            backdate("volume", b["Ebs"]["VolumeId"], old, account=ACCOUNT)
        if n % 2 == 0:  # half have data: idle ones
            daily("AWS/EC2", "CPUUtilization", {"InstanceId": inst["InstanceId"]}, 1.0)
    for n in range(mix["volumes"]):
        vid = ec2.create_volume(AvailabilityZone=REGION + "a", Size=10 + n % 50, VolumeType="gp3")["VolumeId"]
        backdate("volume", vid, old, account=ACCOUNT)


def _seed_rds(count: int, daily, old: datetime) -> None:
    """RDS instances, every other one without connections."""
    import boto3

    from dd0c_cost_tools.local.moto_aws import backdate

    rds = boto3.client("rds", region_name=REGION)
    for n in range(count):
        name = f"db-{n:04d}"
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.medium",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="u",
            MasterUserPassword="password1",
        )
        backdate("rds", name, old, account=ACCOUNT)
        daily("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": name}, float(n % 2))


def run(total: int, runs: int) -> dict:
    from moto import mock_aws

    from dd0c_cost.pricing import get_price_book
    from dd0c_cost.zombies import scan
    from dd0c_cost.zombies.access import new_session
    from dd0c_cost_tools.local.moto_aws import cloudwatch_like_aws

    env = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with mock_aws(), cloudwatch_like_aws():
            started = time.perf_counter()
            mix = seed(total)
            seeded_s = time.perf_counter() - started
            book = get_price_book()
            durations, result = [], None
            for _ in range(runs):
                started = time.perf_counter()
                result = scan.scan_region(new_session(), ACCOUNT, REGION, SCAN_TIME, book=book)
                durations.append(time.perf_counter() - started)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    control_plane = sum(n for action, n in result.api_calls.items() if action != "cloudwatch:GetMetricData")
    return {
        "resources": result.resources,
        "mix": mix,
        "resource_metrics": result.metric_queries,
        "get_metric_data_calls": result.metric_calls,
        "calls_per_resource_metric": result.metric_calls / result.metric_queries if result.metric_queries else None,
        "target_calls_per_resource_metric": TARGET_CALLS_PER_RESOURCE_METRIC,
        "one_call_per_metric_would_be": 1.0,
        "control_plane_calls": control_plane,
        "control_plane_calls_per_resource": control_plane / result.resources if result.resources else None,
        "findings": len(result.findings),
        "scan_status": result.status,
        "scan_s_median": statistics.median(durations),
        "scan_s_best": min(durations),
        "runs": runs,
        "seed_s": seeded_s,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dd0c-cost bench zombies", description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.resources, args.runs)
    if args.json:
        print(json.dumps(r))
        return 0 if (r["calls_per_resource_metric"] or 0) <= TARGET_CALLS_PER_RESOURCE_METRIC else 1
    load = ", ".join(f"{x:.2f}" for x in r["load_average"])
    print(f"zombie scan of one account and region on moto ({r['cpus']} CPUs, load average {load})")
    print(f"resources seen                 {r['resources']:,}  ({', '.join(f'{k} {v}' for k, v in r['mix'].items())})")
    print(f"resource-metrics asked for     {r['resource_metrics']:,}")
    print(f"GetMetricData calls            {r['get_metric_data_calls']:,}")
    print(
        f"calls per resource-metric      {r['calls_per_resource_metric']:.4f}   target <= {TARGET_CALLS_PER_RESOURCE_METRIC}; "
        f"one GetMetricStatistics per metric: 1.0"
    )
    print(
        f"other read calls               {r['control_plane_calls']:,}  ({r['control_plane_calls_per_resource']:.3f} per resource)"
    )
    print(f"findings                       {r['findings']:,}  (scan {r['scan_status']})")
    print(
        f"scan time                      median {r['scan_s_median']:.2f} s, best {r['scan_s_best']:.2f} s over {r['runs']} runs "
        f"(seeding {r['seed_s']:.1f} s)"
    )
    return 0 if r["calls_per_resource_metric"] <= TARGET_CALLS_PER_RESOURCE_METRIC else 1
