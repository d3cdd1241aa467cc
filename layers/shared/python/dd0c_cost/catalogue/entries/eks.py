"""EKS: clusters and managed node groups."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, M, e
from dd0c_cost.events.paths import Join

_EKS = "eks.amazonaws.com"

# EKS
_NODEGROUP_ID = (
    Join("/", "requestParameters.clusterName", "requestParameters.nodegroupName"),
    Join("/", "responseElements.nodegroup.clusterName", "responseElements.nodegroup.nodegroupName"),
)
_NODEGROUP_ATTRS = {
    "instance_type": ("requestParameters.instanceTypes[*]", "responseElements.nodegroup.instanceTypes[*]"),
    "desired_size": (
        "requestParameters.scalingConfig.desiredSize",
        "responseElements.nodegroup.scalingConfig.desiredSize",
    ),
    "min_size": ("requestParameters.scalingConfig.minSize", "responseElements.nodegroup.scalingConfig.minSize"),
    "max_size": ("requestParameters.scalingConfig.maxSize", "responseElements.nodegroup.scalingConfig.maxSize"),
    "capacity_type": ("requestParameters.capacityType", "responseElements.nodegroup.capacityType"),
}

ENTRIES = (
    # --- EKS -------------------------------------------------------------------------------------
    e(
        _EKS,
        "CreateCluster",
        "eks",
        "eks:cluster",
        C,
        resource_ids=(
            "requestParameters.name",
            "requestParameters.clusterName",
            "responseElements.cluster.name",
            "responseElements.cluster.clusterName",
        ),
        attributes={"version": ("requestParameters.version", "responseElements.cluster.version")},
        pricer="eks_cluster",
        note="control plane only (standard support rate); nodes are priced as EC2 or node groups",
    ),
    e(
        _EKS,
        "DeleteCluster",
        "eks",
        "eks:cluster",
        D,
        resource_ids=("requestParameters.name", "requestParameters.clusterName", "responseElements.cluster.name"),
        pricer="eks_cluster",
        inherit_attributes=True,
    ),
    e(
        _EKS,
        "CreateNodegroup",
        "eks",
        "eks:nodegroup",
        C,
        resource_ids=_NODEGROUP_ID,
        attributes=_NODEGROUP_ATTRS,
        pricer="eks_nodegroup",
        note="desired nodes x EC2 price (estimated); the ASG's own RunInstances calls may also arrive",
    ),
    e(
        _EKS,
        "UpdateNodegroupConfig",
        "eks",
        "eks:nodegroup",
        M,
        resource_ids=_NODEGROUP_ID,
        attributes={
            "desired_size": ("requestParameters.scalingConfig.desiredSize",),
            "min_size": ("requestParameters.scalingConfig.minSize",),
        },
        pricer="eks_nodegroup",
        inherit_attributes=True,
    ),
    e(
        _EKS,
        "DeleteNodegroup",
        "eks",
        "eks:nodegroup",
        D,
        resource_ids=_NODEGROUP_ID,
        attributes=_NODEGROUP_ATTRS,
        pricer="eks_nodegroup",
        inherit_attributes=True,
    ),
)
