"""Sections for databases and search: RDS, ElastiCache, Redshift, OpenSearch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dd0c_cost.zombies.inventory_reader import Reader, tags_of, time_of
from dd0c_cost.zombies.models import Resource, ResourceType

if TYPE_CHECKING:
    from dd0c_cost.zombies.inventory import Inventory


def read_rds(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    out = []
    for db in r.pages("rds", "DescribeDBInstances", "DBInstances"):
        tags = tags_of(db.get("TagList"))
        attrs = {
            "engine": db.get("Engine"),
            "instance_class": db.get("DBInstanceClass"),
            "multi_az": bool(db.get("MultiAZ")),
            "storage_type": db.get("StorageType"),
            "allocated_storage_gb": db.get("AllocatedStorage"),
            "iops": db.get("Iops"),
            "cluster": db.get("DBClusterIdentifier"),
        }
        out.append(
            Resource(
                ResourceType.RDS_INSTANCE,
                db["DBInstanceIdentifier"],
                inv.account_id,
                inv.region,
                time_of(db.get("InstanceCreateTime")),
                db.get("DBInstanceStatus", ""),
                db["DBInstanceIdentifier"],
                tags,
                attrs,
            )
        )
    return out


def _cache_nodes(cluster: Mapping[str, Any]) -> list[dict[str, str]]:
    nodes = cluster.get("CacheNodes")
    if nodes:
        return [{"cluster_id": cluster["CacheClusterId"], "node_id": n["CacheNodeId"]} for n in nodes]
    # moto omits CacheNodes; AWS numbers a cluster's nodes 0001, 0002, ...
    return [
        {"cluster_id": cluster["CacheClusterId"], "node_id": f"{i:04d}"}
        for i in range(1, int(cluster.get("NumCacheNodes") or 1) + 1)
    ]


def read_elasticache(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    clusters = r.pages("elasticache", "DescribeCacheClusters", "CacheClusters", ShowCacheNodeInfo=True)
    groups: dict[str, list[dict]] = {}
    singles: list[dict] = []
    for c in clusters:
        (groups.setdefault(c["ReplicationGroupId"], []) if c.get("ReplicationGroupId") else singles).append(c)
    out = []

    def tags_of(arn: str | None) -> dict[str, str]:
        if not arn:
            return {}
        return tags_of(r.call("elasticache", "ListTagsForResource", ResourceName=arn).get("TagList"))

    for c in singles:
        attrs = {
            "engine": c.get("Engine"),
            "node_type": c.get("CacheNodeType"),
            "nodes": _cache_nodes(c),
            "replication_group": None,
        }
        out.append(
            Resource(
                ResourceType.ELASTICACHE_CLUSTER,
                c["CacheClusterId"],
                inv.account_id,
                inv.region,
                time_of(c.get("CacheClusterCreateTime")),
                c.get("CacheClusterStatus", ""),
                c["CacheClusterId"],
                tags_of(c.get("ARN")),
                attrs,
            )
        )
    for group_id, members in sorted(groups.items()):
        members.sort(key=lambda c: c["CacheClusterId"])
        created = [t for t in (time_of(c.get("CacheClusterCreateTime")) for c in members) if t]
        states = {c.get("CacheClusterStatus", "") for c in members}
        attrs = {
            "engine": members[0].get("Engine"),
            "node_type": members[0].get("CacheNodeType"),
            "nodes": [n for c in members for n in _cache_nodes(c)],
            "replication_group": group_id,
            "member_clusters": [c["CacheClusterId"] for c in members],
        }
        out.append(
            Resource(
                ResourceType.ELASTICACHE_CLUSTER,
                group_id,
                inv.account_id,
                inv.region,
                min(created) if created else None,
                "available" if states == {"available"} else ",".join(sorted(states)),
                group_id,
                tags_of(members[0].get("ARN")),
                attrs,
            )
        )
    return out


def read_redshift(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    out = []
    for c in r.pages("redshift", "DescribeClusters", "Clusters"):
        tags = tags_of(c.get("Tags"))
        attrs = {"node_type": c.get("NodeType"), "nodes": c.get("NumberOfNodes")}
        out.append(
            Resource(
                ResourceType.REDSHIFT_CLUSTER,
                c["ClusterIdentifier"],
                inv.account_id,
                inv.region,
                time_of(c.get("ClusterCreateTime")),
                c.get("ClusterStatus", ""),
                c["ClusterIdentifier"],
                tags,
                attrs,
            )
        )
    return out


def read_opensearch(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    names = [d["DomainName"] for d in r.call("opensearch", "ListDomainNames").get("DomainNames", [])]
    out = []
    for start in range(0, len(names), 5):
        for d in r.call("opensearch", "DescribeDomains", DomainNames=names[start : start + 5]).get(
            "DomainStatusList", []
        ):
            cfg, ebs = d.get("ClusterConfig", {}), d.get("EBSOptions", {})
            tags = tags_of(r.call("opensearch", "ListTags", ARN=d["ARN"]).get("TagList"))
            attrs = {
                "instance_type": cfg.get("InstanceType"),
                "instance_count": cfg.get("InstanceCount"),
                "master_type": cfg.get("DedicatedMasterType") if cfg.get("DedicatedMasterEnabled") else None,
                "master_count": cfg.get("DedicatedMasterCount") if cfg.get("DedicatedMasterEnabled") else 0,
                "warm_type": cfg.get("WarmType") if cfg.get("WarmEnabled") else None,
                "warm_count": cfg.get("WarmCount") if cfg.get("WarmEnabled") else 0,
                "ebs_volume_size_gb": ebs.get("VolumeSize") if ebs.get("EBSEnabled") else 0,
                "ebs_volume_type": ebs.get("VolumeType"),
            }
            state = (
                "active"
                if d.get("Created") and not d.get("Deleted")
                else ("deleted" if d.get("Deleted") else "creating")
            )
            out.append(
                Resource(
                    ResourceType.OPENSEARCH_DOMAIN,
                    d["DomainName"],
                    inv.account_id,
                    inv.region,
                    None,
                    state,
                    d["DomainName"],
                    tags,
                    attrs,
                )
            )
    return out
