"""Rules for databases and search: RDS instances, Redshift clusters, ElastiCache clusters, OpenSearch
domains (docs/zombies.md; the rules as the issue states them: ``dd0c_cost.zombies.criteria``)."""

from __future__ import annotations

from typing import Any

from dd0c_cost.zombies.criteria_shared import (
    ELASTICACHE_IDLE_CONNECTIONS,
    MIN_DAYS_WITH_DATA,
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
from dd0c_cost.zombies.models import Evaluation, MetricQuery, Resource, Verdict

# --- RDS / Redshift: connections ----------------------------------------------------------------


def _connections_zero(
    criterion: str, query: MetricQuery, resource: Resource, metrics: Metrics, ctx: Context, extra: dict[str, Any]
) -> Outcome:
    if not age_at_least(resource, ctx, WINDOW_DAYS):
        return None
    days = ctx.window.day_list()
    series = series_of(metrics, query)
    values = {d: series[d] for d in days if d in series}
    if any(v != 0 for v in values.values()):  # exact: one connection on one day is not "never"
        return None
    evidence = {
        **extra,
        "days_with_data": len(values),
        "max_connections": max(values.values(), default=None),
        "rule": f"{query.metric} Maximum exactly 0 on every daily datapoint for {WINDOW_DAYS} days "
        f"(>= {MIN_DAYS_WITH_DATA} days with data)",
    }
    verdict = Verdict.ZOMBIE if len(values) >= MIN_DAYS_WITH_DATA else Verdict.INSUFFICIENT_DATA
    return Evaluation(criterion, verdict, later(ctx.window.start, resource.created_at), evidence)


def _rds_query(resource: Resource) -> MetricQuery:
    return MetricQuery(
        "AWS/RDS", "DatabaseConnections", dimensions(("DBInstanceIdentifier", resource.resource_id)), "Maximum"
    )


def queries_rds_instance(resource: Resource) -> list[MetricQuery]:
    return [_rds_query(resource)] if resource.state == "available" else []


def evaluate_rds_instance(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    if resource.state != "available":
        return None
    extra = {k: resource.attributes.get(k) for k in ("engine", "instance_class", "multi_az")}
    return _connections_zero("rds_no_connections", _rds_query(resource), resource, metrics, ctx, extra)


def _redshift_query(resource: Resource) -> MetricQuery:
    return MetricQuery(
        "AWS/Redshift", "DatabaseConnections", dimensions(("ClusterIdentifier", resource.resource_id)), "Maximum"
    )


def queries_redshift_cluster(resource: Resource) -> list[MetricQuery]:
    return [_redshift_query(resource)] if resource.state == "available" else []


def evaluate_redshift_cluster(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    if resource.state != "available":  # paused (or resizing, creating ...): not billed as idle compute
        return None
    extra = {"node_type": resource.attributes.get("node_type"), "nodes": resource.attributes.get("nodes")}
    return _connections_zero("redshift_no_connections", _redshift_query(resource), resource, metrics, ctx, extra)


# --- ElastiCache --------------------------------------------------------------------------------


def _elasticache_queries(resource: Resource) -> list[MetricQuery]:
    return [
        MetricQuery(
            "AWS/ElastiCache",
            "CurrConnections",
            dimensions(("CacheClusterId", n["cluster_id"]), ("CacheNodeId", n["node_id"])),
            "Maximum",
        )
        for n in resource.attributes.get("nodes") or []
    ]


def queries_elasticache_cluster(resource: Resource) -> list[MetricQuery]:
    return _elasticache_queries(resource) if resource.state == "available" else []


def evaluate_elasticache_cluster(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    if resource.state != "available" or not age_at_least(resource, ctx, WINDOW_DAYS):
        return None
    days = set(ctx.window.day_list())
    per_node: list[dict[str, Any]] = []
    for query in _elasticache_queries(resource):
        values = {d: v for d, v in series_of(metrics, query).items() if d in days}
        if any(v > ELASTICACHE_IDLE_CONNECTIONS for v in values.values()):
            return None
        per_node.append(
            {
                "cluster_id": dict(query.dimensions)["CacheClusterId"],
                "node_id": dict(query.dimensions)["CacheNodeId"],
                "days_with_data": len(values),
                "max_connections": max(values.values(), default=None),
            }
        )
    if not per_node:
        return None
    covered = all(n["days_with_data"] >= MIN_DAYS_WITH_DATA for n in per_node)
    return Evaluation(
        "elasticache_no_connections",
        Verdict.ZOMBIE if covered else Verdict.INSUFFICIENT_DATA,
        later(ctx.window.start, resource.created_at),
        {
            "engine": resource.attributes.get("engine"),
            "node_type": resource.attributes.get("node_type"),
            "nodes": per_node,
            "rule": "CurrConnections Maximum exactly 0 on every node (CacheClusterId + CacheNodeId) on every daily "
            f"datapoint for {WINDOW_DAYS} days (>= {MIN_DAYS_WITH_DATA} days with data per node)",
        },
    )


# --- OpenSearch ---------------------------------------------------------------------------------


def _opensearch_queries(resource: Resource) -> dict[str, MetricQuery]:
    dims = dimensions(("ClientId", resource.account_id), ("DomainName", resource.resource_id))
    return {
        "search": MetricQuery("AWS/ES", "SearchRate", dims, "Maximum"),
        "indexing": MetricQuery("AWS/ES", "IndexingRate", dims, "Maximum"),
        "cpu": MetricQuery("AWS/ES", "CPUUtilization", dims, "Maximum"),
    }


def queries_opensearch_domain(resource: Resource) -> list[MetricQuery]:
    return list(_opensearch_queries(resource).values()) if resource.state == "active" else []


def evaluate_opensearch_domain(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    if resource.state != "active":
        return None
    q = _opensearch_queries(resource)
    days = ctx.window.day_list()
    activity = zero_filled(metrics, [q["search"], q["indexing"]], days)
    if any(v != 0 for v in activity.values()):
        return None
    alive_days = sum(1 for d in days if d in series_of(metrics, q["cpu"]))
    evidence = {
        "instance_type": resource.attributes.get("instance_type"),
        "instances": resource.attributes.get("instance_count"),
        "search_and_indexing_14d": 0,
        "days_with_cpu_data": alive_days,
        "rule": "zero SearchRate and IndexingRate for 14 days (no datapoints = zero); CPUUtilization datapoints "
        f"on >= {MIN_DAYS_WITH_DATA} days show the domain existed through the window",
    }
    verdict = Verdict.ZOMBIE if alive_days >= MIN_DAYS_WITH_DATA else Verdict.INSUFFICIENT_DATA
    return Evaluation("opensearch_no_activity", verdict, ctx.window.start, evidence)
