"""The zombie criteria: pure functions of a resource description, its daily metric series and
the scan time. No I/O, no clock: the same inputs always give the same verdict.

Each resource type has two functions: ``queries_<type>(resource)`` says which CloudWatch
statistics it needs (the scan fetches them all, batched), and ``evaluate_<type>`` decides (both in
``criteria_compute``, ``criteria_network``, ``criteria_databases``; what they share in ``criteria_shared``).
``evaluate`` applies what every type shares first: the ``dd0c:ignore`` tag, and owners
(CloudFormation, Auto Scaling, Kubernetes, ECS, Backup/DLM) that make a finding "fix in owner".

Rules, as the issue states them (the window is whole UTC days before the scan's day):

- EBS volume ``available`` for >= 7 days -> zombie. DescribeVolumes gives no detach time; EBS
  publishes metrics only while a volume is attached, so the day after its last datapoint (or its
  creation, or the window's start) is when it was last seen attached.
  ``in-use`` on a running instance with zero read and write operations for 14 days (missing
  datapoints = no operations) -> idle-suspect. Volumes on stopped instances belong to the
  instance's finding.
- EC2 instance running >= 14 days whose every day with data, and at least 12 of the 14 days have
  data, has average CPU <= 5 %, maximum CPU <= 20 % and network in + out <= 5 MB (5,000,000
  bytes) -> zombie; fewer days with data but all idle -> insufficient data. Stopped >= 30 days
  (the stop time from StateTransitionReason) -> zombie, priced by its volumes. Spot instances are
  skipped; Auto Scaling, EKS and ECS instances are "fix in owner".
- RDS instance ``available`` >= 14 days with DatabaseConnections Maximum exactly 0 on every
  daily datapoint (no averaging, no rounding), datapoints on >= 12 of the 14 days -> zombie;
  all zero on fewer days -> insufficient data.
- Elastic IP unassociated for >= 24 h (DescribeAddresses gives no time: the first scan that saw
  it unassociated starts the clock; until 24 h have passed it is insufficient data), or
  associated with an instance stopped >= 24 h -> zombie.
- NAT gateway ``available`` >= 14 days, namespace ``AWS/NATGateway``: zero bytes in and out
  (BytesInFromSource, BytesInFromDestination, BytesOutToSource, BytesOutToDestination) and zero
  ActiveConnectionCount for 14 days, a day without datapoints counting as zero -> zombie, or
  idle-suspect if a route table still routes to it (possible standby).
- Load balancer >= 14 days with no listeners, no target groups (NLB and ALB; an ALB that still
  serves requests with redirect/fixed-response rules only is idle-suspect) or no registered
  targets, or zero requests (ALB RequestCount, CLB RequestCount + EstimatedProcessedBytes) /
  new flows (NLB NewFlowCount) for 14 days, missing datapoints counting as zero -> zombie.
- EBS snapshot (own, completed) older than 90 days whose source volume no longer exists and
  that no own AMI uses -> zombie.
- SageMaker endpoint ``InService`` >= 7 days with zero Invocations on every variant for 7 days
  (SageMaker publishes Invocations only for periods with requests: missing = zero) -> zombie.
  Serverless endpoints cost nothing idle and are skipped.
- ElastiCache cluster (or replication group) ``available`` >= 14 days with CurrConnections
  Maximum exactly 0 on every node (dimensions CacheClusterId and CacheNodeId) on every daily
  datapoint, each node with data on >= 12 days -> zombie; missing data is never zero here (a
  query by the wrong dimension returns no data).
- Redshift cluster ``available`` (not paused) >= 14 days with DatabaseConnections Maximum
  exactly 0 on every datapoint, >= 12 days with data -> zombie.
- OpenSearch domain with zero SearchRate and IndexingRate for 14 days (missing = zero). The API
  gives no creation time: CPUUtilization datapoints on >= 12 of the 14 days prove it existed
  through the window; otherwise insufficient data.
"""

from __future__ import annotations

from collections.abc import Callable

from dd0c_cost.zombies.criteria_compute import (
    evaluate_ebs_snapshot,
    evaluate_ebs_volume,
    evaluate_ec2_instance,
    evaluate_sagemaker_endpoint,
    queries_ebs_snapshot,
    queries_ebs_volume,
    queries_ec2_instance,
    queries_sagemaker_endpoint,
    stopped_at,
)
from dd0c_cost.zombies.criteria_databases import (
    evaluate_elasticache_cluster,
    evaluate_opensearch_domain,
    evaluate_rds_instance,
    evaluate_redshift_cluster,
    queries_elasticache_cluster,
    queries_opensearch_domain,
    queries_rds_instance,
    queries_redshift_cluster,
)
from dd0c_cost.zombies.criteria_network import (
    evaluate_elastic_ip,
    evaluate_load_balancer,
    evaluate_nat_gateway,
    queries_elastic_ip,
    queries_load_balancer,
    queries_nat_gateway,
)
from dd0c_cost.zombies.criteria_shared import (
    NAT_NAMESPACE,
    WINDOW_DAYS,
    Context,
    Metrics,
    Outcome,
    ignored,
    owner_of,
)
from dd0c_cost.zombies.models import IGNORE_TAG, Evaluation, Exclusion, MetricQuery, Resource, ResourceType

# What the scan, the inventory and the tests read from here; the rules live in the criteria_* modules.
__all__ = [
    "NAT_NAMESPACE",
    "WINDOW_DAYS",
    "Context",
    "Metrics",
    "Outcome",
    "evaluate",
    "ignored",
    "metric_queries",
    "owner_of",
    "stopped_at",
]

_QUERIES: dict[ResourceType, Callable[[Resource], list[MetricQuery]]] = {
    ResourceType.EBS_VOLUME: queries_ebs_volume,
    ResourceType.EC2_INSTANCE: queries_ec2_instance,
    ResourceType.RDS_INSTANCE: queries_rds_instance,
    ResourceType.ELASTIC_IP: queries_elastic_ip,
    ResourceType.NAT_GATEWAY: queries_nat_gateway,
    ResourceType.LOAD_BALANCER: queries_load_balancer,
    ResourceType.EBS_SNAPSHOT: queries_ebs_snapshot,
    ResourceType.SAGEMAKER_ENDPOINT: queries_sagemaker_endpoint,
    ResourceType.ELASTICACHE_CLUSTER: queries_elasticache_cluster,
    ResourceType.REDSHIFT_CLUSTER: queries_redshift_cluster,
    ResourceType.OPENSEARCH_DOMAIN: queries_opensearch_domain,
}
_EVALUATE: dict[ResourceType, Callable[[Resource, Metrics, Context], Outcome]] = {
    ResourceType.EBS_VOLUME: evaluate_ebs_volume,
    ResourceType.EC2_INSTANCE: evaluate_ec2_instance,
    ResourceType.RDS_INSTANCE: evaluate_rds_instance,
    ResourceType.ELASTIC_IP: evaluate_elastic_ip,
    ResourceType.NAT_GATEWAY: evaluate_nat_gateway,
    ResourceType.LOAD_BALANCER: evaluate_load_balancer,
    ResourceType.EBS_SNAPSHOT: evaluate_ebs_snapshot,
    ResourceType.SAGEMAKER_ENDPOINT: evaluate_sagemaker_endpoint,
    ResourceType.ELASTICACHE_CLUSTER: evaluate_elasticache_cluster,
    ResourceType.REDSHIFT_CLUSTER: evaluate_redshift_cluster,
    ResourceType.OPENSEARCH_DOMAIN: evaluate_opensearch_domain,
}


def metric_queries(resource: Resource) -> list[MetricQuery]:
    """The CloudWatch statistics ``evaluate`` will read for this resource (none if it is ignored)."""
    if ignored(resource):
        return []
    return _QUERIES[resource.resource_type](resource)


def evaluate(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    """The verdict on one resource: an Evaluation (a finding), an Exclusion (left alone, and why)
    or None (not idle, or younger than the check's window)."""
    if ignored(resource):
        return Exclusion(f"tag {IGNORE_TAG}")
    outcome = _EVALUATE[resource.resource_type](resource, metrics, ctx)
    if isinstance(outcome, Evaluation):
        owner = owner_of(resource)
        if owner is not None:
            from dataclasses import replace

            outcome = replace(outcome, owner_kind=owner[0], owner_name=owner[1])
    return outcome
