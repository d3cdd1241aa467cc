"""Elastic Load Balancing, v1 and v2."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, e

_ELB = "elasticloadbalancing.amazonaws.com"

# ELB (v1 names the load balancer; v2 answers with an ARN)
_LB_IDS_CREATE = ("responseElements.loadBalancers[*].loadBalancerArn", "requestParameters.loadBalancerName")
_LB_IDS_DELETE = ("requestParameters.loadBalancerArn", "requestParameters.loadBalancerName")
_LB_ATTRS = {
    "lb_type": ("responseElements.loadBalancers[*].type", "requestParameters.type"),
    "arn": ("responseElements.loadBalancers[*].loadBalancerArn", "requestParameters.loadBalancerArn"),
    "classic_name": ("requestParameters.loadBalancerName",),
    "scheme": ("responseElements.loadBalancers[*].scheme", "requestParameters.scheme"),
}

ENTRIES = (
    # --- ELB v1 and v2 ---------------------------------------------------------------------------
    e(
        _ELB,
        "CreateLoadBalancer",
        "elb",
        "elasticloadbalancing:loadbalancer",
        C,
        resource_ids=_LB_IDS_CREATE,
        attributes=_LB_ATTRS,
        pricer="load_balancer",
        note="hourly charge only; LCUs are usage",
    ),
    e(
        _ELB,
        "DeleteLoadBalancer",
        "elb",
        "elasticloadbalancing:loadbalancer",
        D,
        resource_ids=_LB_IDS_DELETE,
        attributes={
            "arn": ("requestParameters.loadBalancerArn",),
            "classic_name": ("requestParameters.loadBalancerName",),
        },
        pricer="load_balancer",
        inherit_attributes=True,
    ),
)
