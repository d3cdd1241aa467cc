"""What every zombie rule shares: the thresholds the issue states, the scan's context, the
ignore tag and owners, and the small readings of a daily metric series the rules make.

Pure, like the rules: no I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dd0c_cost.zombies.models import (
    IGNORE_TAG,
    Evaluation,
    Exclusion,
    MetricQuery,
    Resource,
    Series,
    Window,
    utc,
)

WINDOW_DAYS = 14
SHORT_WINDOW_DAYS = 7  # EBS unattached, SageMaker
MIN_DAYS_WITH_DATA = 12  # of 14
EC2_MAX_AVG_CPU = 5.0
EC2_MAX_CPU = 20.0
EC2_MAX_NETWORK_BYTES = 5_000_000  # 5 MB a day, in + out
EC2_STOPPED_DAYS = 30
EIP_IDLE = timedelta(hours=24)
SNAPSHOT_DAYS = 90
# ElastiCache documents that it may use a few connections itself to monitor a node; the issue
# asks for exactly zero, and so does this rule (see docs/zombies.md).
ELASTICACHE_IDLE_CONNECTIONS = 0.0

NAT_NAMESPACE = "AWS/NATGateway"
NAT_BYTE_METRICS = ("BytesInFromSource", "BytesInFromDestination", "BytesOutToSource", "BytesOutToDestination")

Metrics = Mapping[MetricQuery, Series]


@dataclass(frozen=True)
class Context:
    scan_time: datetime
    prior_idle_since: datetime | None = None  # first_seen_idle of this resource's live finding, if any

    @property
    def window(self) -> Window:
        return Window(self.scan_time, WINDOW_DAYS)


Outcome = Evaluation | Exclusion | None


def ignored(resource: Resource) -> bool:
    """The opt-out tag, with any value but an explicit false."""
    value = resource.tags.get(IGNORE_TAG)
    return value is not None and value.strip().lower() not in {"false", "0", "no"}


_K8S_CLUSTER_TAG = re.compile(r"^kubernetes\.io/cluster/(.+)$")


def owner_of(resource: Resource) -> tuple[str, str] | None:
    """Who manages the resource, from the tags the owners set: fix it there, not here."""
    tags = resource.tags
    if "aws:autoscaling:groupName" in tags:
        return ("autoscaling", tags["aws:autoscaling:groupName"])
    for key in ("eks:cluster-name", "aws:eks:cluster-name", "elbv2.k8s.aws/cluster"):
        if key in tags:
            return ("kubernetes", tags[key])
    for key in sorted(tags):
        match = _K8S_CLUSTER_TAG.match(key)
        if match:
            return ("kubernetes", match.group(1))
    if "kubernetes.io/created-for/pvc/name" in tags:
        return (
            "kubernetes",
            tags.get("kubernetes.io/created-for/pvc/namespace", "") + "/" + tags["kubernetes.io/created-for/pvc/name"],
        )
    if "aws:ecs:clusterName" in tags or "AmazonECSManaged" in tags:
        return ("ecs", tags.get("aws:ecs:clusterName", "ECS capacity provider"))
    if "aws:dlm:lifecycle-policy-id" in tags:
        return ("dlm", tags["aws:dlm:lifecycle-policy-id"])
    if "aws:backup:source-resource" in tags:
        return ("backup", tags["aws:backup:source-resource"])
    if "aws:cloudformation:stack-name" in tags:
        return ("cloudformation", tags["aws:cloudformation:stack-name"])
    return None


def age_at_least(resource: Resource, ctx: Context, days: float) -> bool:
    if resource.created_at is None:
        return False
    return utc(ctx.scan_time) - utc(resource.created_at) >= timedelta(days=days)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def later(*values: datetime | None) -> datetime:
    return max(utc(v) for v in values if v is not None)


def series_of(metrics: Metrics, query: MetricQuery) -> Series:
    return metrics.get(query, {})


def zero_filled(metrics: Metrics, queries: list[MetricQuery], days: list[date]) -> dict[date, float]:
    """Per day, the sum of the queries' values, a missing datapoint counting as zero."""
    return {d: sum(series_of(metrics, q).get(d, 0.0) for q in queries) for d in days}


def idle_run_start(totals: Mapping[date, float], days: list[date]) -> date | None:
    """First day of the trailing run of zero days (None if the last day was not zero)."""
    start = None
    for d in reversed(days):
        if totals[d] != 0:
            break
        start = d
    return start


def dimensions(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(pairs)
