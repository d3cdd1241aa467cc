"""Sections for load balancing and egress: NAT gateways, ELBv2 (application, network), classic ELB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dd0c_cost.zombies.inventory_reader import Reader, tags_of, time_of
from dd0c_cost.zombies.models import Resource, ResourceType

if TYPE_CHECKING:
    from dd0c_cost.zombies.inventory import Inventory


def read_nat(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    gateways = r.pages("ec2", "DescribeNatGateways", "NatGateways")
    tables = r.pages("ec2", "DescribeRouteTables", "RouteTables")
    routed: dict[str, list[str]] = {}
    for t in tables:
        for route in t.get("Routes", []):
            if route.get("NatGatewayId"):
                routed.setdefault(route["NatGatewayId"], []).append(t["RouteTableId"])
    out = []
    for g in gateways:
        tags = tags_of(g.get("Tags"))
        attrs = {
            "route_tables": sorted(set(routed.get(g["NatGatewayId"], []))),
            "vpc_id": g.get("VpcId"),
            "connectivity": g.get("ConnectivityType", "public"),
        }
        out.append(
            Resource(
                ResourceType.NAT_GATEWAY,
                g["NatGatewayId"],
                inv.account_id,
                inv.region,
                time_of(g.get("CreateTime")),
                g.get("State", ""),
                tags.get("Name"),
                tags,
                attrs,
            )
        )
    return out


def _elbv2_dimension(lb: Mapping[str, Any]) -> str:
    prefix = {"application": "app", "network": "net", "gateway": "gwy"}.get(lb.get("Type", ""), "app")
    return f"{prefix}/{lb['LoadBalancerName']}/{lb['LoadBalancerArn'].rsplit('/', 1)[-1]}"


def read_elbv2(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    lbs = r.pages("elbv2", "DescribeLoadBalancers", "LoadBalancers")
    if not lbs:
        return []
    groups = r.pages("elbv2", "DescribeTargetGroups", "TargetGroups")
    targets: dict[str, int] = {}
    for g in groups:
        if g.get("LoadBalancerArns"):
            health = r.call("elbv2", "DescribeTargetHealth", TargetGroupArn=g["TargetGroupArn"])
            targets[g["TargetGroupArn"]] = len(health.get("TargetHealthDescriptions", []))
    tags: dict[str, dict[str, str]] = {}
    arns = [lb["LoadBalancerArn"] for lb in lbs]
    for start in range(0, len(arns), 20):
        for d in r.call("elbv2", "DescribeTags", ResourceArns=arns[start : start + 20]).get("TagDescriptions", []):
            tags[d["ResourceArn"]] = tags_of(d.get("Tags"))
    out = []
    for lb in lbs:
        arn = lb["LoadBalancerArn"]
        listeners = r.pages("elbv2", "DescribeListeners", "Listeners", LoadBalancerArn=arn)
        mine = [g for g in groups if arn in (g.get("LoadBalancerArns") or [])]
        attrs = {
            "lb_type": lb.get("Type"),
            "arn": arn,
            "dimension": _elbv2_dimension(lb),
            "listeners": len(listeners),
            "target_groups": [
                {"arn": g["TargetGroupArn"], "targets": targets.get(g["TargetGroupArn"], 0)} for g in mine
            ],
        }
        t = tags.get(arn, {})
        out.append(
            Resource(
                ResourceType.LOAD_BALANCER,
                lb["LoadBalancerName"],
                inv.account_id,
                inv.region,
                time_of(lb.get("CreatedTime")),
                lb.get("State", {}).get("Code", ""),
                lb["LoadBalancerName"],
                t,
                attrs,
            )
        )
    return out


def read_elb(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    lbs = r.pages("elb", "DescribeLoadBalancers", "LoadBalancerDescriptions")
    tags: dict[str, dict[str, str]] = {}
    names = [lb["LoadBalancerName"] for lb in lbs]
    for start in range(0, len(names), 20):
        for d in r.call("elb", "DescribeTags", LoadBalancerNames=names[start : start + 20]).get("TagDescriptions", []):
            tags[d["LoadBalancerName"]] = tags_of(d.get("Tags"))
    out = []
    for lb in lbs:
        name = lb["LoadBalancerName"]
        attrs = {
            "lb_type": "classic",
            "listeners": len(lb.get("ListenerDescriptions", [])),
            "instances": len(lb.get("Instances", [])),
        }
        out.append(
            Resource(
                ResourceType.LOAD_BALANCER,
                name,
                inv.account_id,
                inv.region,
                time_of(lb.get("CreatedTime")),
                "active",
                name,
                tags.get(name, {}),
                attrs,
            )
        )
    return out
