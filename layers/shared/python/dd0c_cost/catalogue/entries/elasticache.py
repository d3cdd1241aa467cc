"""ElastiCache: cache clusters and replication groups."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, M, e
from dd0c_cost.events.paths import Count

_CACHE = "elasticache.amazonaws.com"

# ElastiCache
_CACHE_CLUSTER_ID = ("requestParameters.cacheClusterId", "responseElements.cacheClusterId")
_CACHE_CLUSTER_ATTRS = {
    "instance_type": ("requestParameters.cacheNodeType", "responseElements.cacheNodeType"),
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "nodes": ("requestParameters.numCacheNodes", "responseElements.numCacheNodes"),
}
_CACHE_CLUSTER_RESPONSE_ATTRS = {
    "instance_type": ("responseElements.cacheNodeType",),
    "engine": ("responseElements.engine",),
    "nodes": ("responseElements.numCacheNodes",),
}
_REPL_GROUP_ID = ("requestParameters.replicationGroupId", "responseElements.replicationGroupId")
_REPL_GROUP_ATTRS = {
    "instance_type": ("requestParameters.cacheNodeType", "responseElements.cacheNodeType"),
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "num_cache_clusters": ("requestParameters.numCacheClusters",),
    "shards": ("requestParameters.numNodeGroups",),
    "replicas": ("requestParameters.replicasPerNodeGroup",),
    "member_count": (Count("responseElements.memberClusters[*]"),),
}
_REPL_GROUP_RESPONSE_ATTRS = {
    "instance_type": ("responseElements.cacheNodeType",),
    "member_count": (Count("responseElements.memberClusters[*]"),),
}

ENTRIES = (
    # --- ElastiCache -----------------------------------------------------------------------------
    e(
        _CACHE,
        "CreateCacheCluster",
        "elasticache",
        "elasticache:cluster",
        C,
        resource_ids=_CACHE_CLUSTER_ID,
        attributes=_CACHE_CLUSTER_ATTRS,
        pricer="elasticache_nodes",
    ),
    e(
        _CACHE,
        "ModifyCacheCluster",
        "elasticache",
        "elasticache:cluster",
        M,
        resource_ids=_CACHE_CLUSTER_ID,
        attributes={
            "instance_type": ("requestParameters.cacheNodeType",),
            "nodes": ("requestParameters.numCacheNodes",),
        },
        previous=_CACHE_CLUSTER_RESPONSE_ATTRS,
        pricer="elasticache_nodes",
        inherit_attributes=True,
    ),
    e(
        _CACHE,
        "DeleteCacheCluster",
        "elasticache",
        "elasticache:cluster",
        D,
        resource_ids=_CACHE_CLUSTER_ID,
        attributes=_CACHE_CLUSTER_RESPONSE_ATTRS,
        pricer="elasticache_nodes",
        inherit_attributes=True,
    ),
    e(
        _CACHE,
        "CreateReplicationGroup",
        "elasticache",
        "elasticache:replicationgroup",
        C,
        resource_ids=_REPL_GROUP_ID,
        attributes=_REPL_GROUP_ATTRS,
        pricer="elasticache_nodes",
        note="nodes = numCacheClusters, else shards x (replicas + 1), else the member clusters in the response",
    ),
    e(
        _CACHE,
        "ModifyReplicationGroup",
        "elasticache",
        "elasticache:replicationgroup",
        M,
        resource_ids=_REPL_GROUP_ID,
        attributes={"instance_type": ("requestParameters.cacheNodeType",)},
        previous=_REPL_GROUP_RESPONSE_ATTRS,
        pricer="elasticache_nodes",
        inherit_attributes=True,
    ),
    e(
        _CACHE,
        "DeleteReplicationGroup",
        "elasticache",
        "elasticache:replicationgroup",
        D,
        resource_ids=_REPL_GROUP_ID,
        attributes=_REPL_GROUP_RESPONSE_ATTRS,
        pricer="elasticache_nodes",
        inherit_attributes=True,
    ),
)
