"""Rules for network resources that bill by the hour: Elastic IPs, NAT gateways, load balancers
(docs/zombies.md; the rules as the issue states them: ``dd0c_cost.zombies.criteria``)."""

from __future__ import annotations

from datetime import datetime

from dd0c_cost.zombies.criteria_shared import (
    EIP_IDLE,
    NAT_BYTE_METRICS,
    NAT_NAMESPACE,
    WINDOW_DAYS,
    Context,
    Metrics,
    Outcome,
    age_at_least,
    dimensions,
    later,
    series_of,
    zero_filled,
)
from dd0c_cost.zombies.models import Evaluation, MetricQuery, Resource, Verdict, utc

# --- Elastic IPs --------------------------------------------------------------------------------


def queries_elastic_ip(resource: Resource) -> list[MetricQuery]:
    return []


def evaluate_elastic_ip(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    attrs = resource.attributes
    if attrs.get("association_id") or attrs.get("network_interface_id") or attrs.get("instance_id"):
        if attrs.get("instance_state") != "stopped":
            return None
        since = attrs.get("instance_stopped_at")
        since_dt = utc(datetime.fromisoformat(since)) if since else ctx.prior_idle_since
        if since_dt is None:
            return Evaluation(
                "eip_on_stopped_instance",
                Verdict.INSUFFICIENT_DATA,
                utc(ctx.scan_time),
                {
                    "instance_id": attrs.get("instance_id"),
                    "instance_stopped_at": None,
                    "why": "the instance's StateTransitionReason names no stop time; this scan starts the clock",
                },
            )
        if utc(ctx.scan_time) - utc(since_dt) < EIP_IDLE:
            return None
        return Evaluation(
            "eip_on_stopped_instance",
            Verdict.ZOMBIE,
            utc(since_dt),
            {
                "instance_id": attrs.get("instance_id"),
                "instance_stopped_at": utc(since_dt).isoformat(),
                "public_ip": attrs.get("public_ip"),
                "rule": "associated with an instance stopped for >= 24 h",
            },
        )
    first_seen = ctx.prior_idle_since or utc(ctx.scan_time)
    evidence = {
        "public_ip": attrs.get("public_ip"),
        "unassociated_since_at_least": first_seen.isoformat(),
        "rule": "unassociated for >= 24 h (DescribeAddresses gives no time: counted from the first scan that saw it)",
    }
    if utc(ctx.scan_time) - first_seen < EIP_IDLE:
        return Evaluation("eip_unassociated", Verdict.INSUFFICIENT_DATA, first_seen, evidence)
    return Evaluation("eip_unassociated", Verdict.ZOMBIE, first_seen, evidence)


# --- NAT gateways -------------------------------------------------------------------------------


def _nat_queries(resource: Resource) -> list[MetricQuery]:
    dims = dimensions(("NatGatewayId", resource.resource_id))
    return [MetricQuery(NAT_NAMESPACE, m, dims, "Sum") for m in NAT_BYTE_METRICS] + [
        MetricQuery(NAT_NAMESPACE, "ActiveConnectionCount", dims, "Maximum")
    ]


def queries_nat_gateway(resource: Resource) -> list[MetricQuery]:
    return _nat_queries(resource) if resource.state == "available" else []


def evaluate_nat_gateway(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    if resource.state != "available" or not age_at_least(resource, ctx, WINDOW_DAYS):
        return None
    days = ctx.window.day_list()
    queries = _nat_queries(resource)
    bytes_total = sum(zero_filled(metrics, queries[:4], days).values())
    connections = max(zero_filled(metrics, queries[4:], days).values())
    if bytes_total != 0 or connections != 0:
        return None
    routes = list(resource.attributes.get("route_tables") or [])
    evidence = {
        "namespace": NAT_NAMESPACE,
        "bytes_14d": 0,
        "max_active_connections": 0,
        "days_with_data": sum(1 for d in days if any(d in series_of(metrics, q) for q in queries)),
        "route_tables": routes,
        "rule": "zero bytes in and out and zero active connections for 14 days (no datapoints = zero)",
    }
    if routes:
        evidence["why_suspect"] = "a route table still points to it: possibly a standby"
    verdict = Verdict.IDLE_SUSPECT if routes else Verdict.ZOMBIE
    return Evaluation("nat_no_traffic", verdict, later(ctx.window.start, resource.created_at), evidence)


# --- load balancers -----------------------------------------------------------------------------


def _lb_traffic_queries(resource: Resource) -> list[MetricQuery]:
    kind = resource.attributes.get("lb_type")
    if kind == "application":
        return [
            MetricQuery(
                "AWS/ApplicationELB",
                "RequestCount",
                dimensions(("LoadBalancer", resource.attributes["dimension"])),
                "Sum",
            )
        ]
    if kind == "network":
        return [
            MetricQuery(
                "AWS/NetworkELB", "NewFlowCount", dimensions(("LoadBalancer", resource.attributes["dimension"])), "Sum"
            )
        ]
    if kind == "classic":
        dims = dimensions(("LoadBalancerName", resource.resource_id))
        return [
            MetricQuery("AWS/ELB", "RequestCount", dims, "Sum"),
            MetricQuery("AWS/ELB", "EstimatedProcessedBytes", dims, "Sum"),
        ]
    return []


def queries_load_balancer(resource: Resource) -> list[MetricQuery]:
    return _lb_traffic_queries(resource)


def evaluate_load_balancer(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    kind = resource.attributes.get("lb_type")
    if kind not in {"application", "network", "classic"} or resource.state not in {"active", ""}:
        return None
    if not age_at_least(resource, ctx, WINDOW_DAYS):
        return None
    days = ctx.window.day_list()
    queries = _lb_traffic_queries(resource)
    traffic = sum(zero_filled(metrics, queries, days).values())
    listeners = resource.attributes.get("listeners") or 0
    groups = resource.attributes.get("target_groups") or []
    targets = (
        sum(int(g.get("targets", 0)) for g in groups)
        if kind != "classic"
        else int(resource.attributes.get("instances", 0))
    )
    base = {
        "lb_type": kind,
        "listeners": listeners,
        "target_groups": len(groups),
        "registered_targets": targets,
        "traffic_metric": [q.metric for q in queries],
        "traffic_14d": traffic,
    }
    since = later(ctx.window.start, resource.created_at)
    if kind != "classic" and listeners == 0:
        return Evaluation("lb_no_listeners", Verdict.ZOMBIE, since, {**base, "rule": "no listeners"})
    if kind != "classic" and not groups:
        if traffic > 0:  # an ALB answering with redirect / fixed-response rules only
            return Evaluation(
                "lb_no_target_groups",
                Verdict.IDLE_SUSPECT,
                since,
                {
                    **base,
                    "rule": "no target groups",
                    "why_suspect": "it still answers requests (redirect or fixed-response rules)",
                },
            )
        return Evaluation("lb_no_target_groups", Verdict.ZOMBIE, since, {**base, "rule": "no target groups"})
    if targets == 0:
        return Evaluation("lb_no_targets", Verdict.ZOMBIE, since, {**base, "rule": "no registered targets"})
    if traffic == 0:
        return Evaluation(
            "lb_no_traffic",
            Verdict.ZOMBIE,
            since,
            {**base, "rule": "zero requests / new flows for 14 days (no datapoints = zero)"},
        )
    return None
