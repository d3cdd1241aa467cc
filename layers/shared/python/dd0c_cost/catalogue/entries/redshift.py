"""Redshift: provisioned clusters."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, M, P, S, e

_REDSHIFT = "redshift.amazonaws.com"

# Redshift
_REDSHIFT_ID = ("requestParameters.clusterIdentifier", "responseElements.clusterIdentifier")
_REDSHIFT_ATTRS = {
    "instance_type": ("requestParameters.nodeType", "responseElements.nodeType"),
    "nodes": ("requestParameters.numberOfNodes", "responseElements.numberOfNodes"),
}
_REDSHIFT_PREVIOUS = {"instance_type": ("responseElements.nodeType",), "nodes": ("responseElements.numberOfNodes",)}

ENTRIES = (
    # --- Redshift --------------------------------------------------------------------------------
    e(
        _REDSHIFT,
        "CreateCluster",
        "redshift",
        "redshift:cluster",
        C,
        resource_ids=_REDSHIFT_ID,
        attributes=_REDSHIFT_ATTRS,
        pricer="redshift_nodes",
    ),
    e(
        _REDSHIFT,
        "RestoreFromClusterSnapshot",
        "redshift",
        "redshift:cluster",
        C,
        resource_ids=_REDSHIFT_ID,
        attributes=_REDSHIFT_ATTRS,
        pricer="redshift_nodes",
    ),
    e(
        _REDSHIFT,
        "ModifyCluster",
        "redshift",
        "redshift:cluster",
        M,
        resource_ids=_REDSHIFT_ID,
        attributes={"instance_type": ("requestParameters.nodeType",), "nodes": ("requestParameters.numberOfNodes",)},
        previous=_REDSHIFT_PREVIOUS,
        pricer="redshift_nodes",
        inherit_attributes=True,
    ),
    e(
        _REDSHIFT,
        "ResizeCluster",
        "redshift",
        "redshift:cluster",
        M,
        resource_ids=_REDSHIFT_ID,
        attributes={"instance_type": ("requestParameters.nodeType",), "nodes": ("requestParameters.numberOfNodes",)},
        previous=_REDSHIFT_PREVIOUS,
        pricer="redshift_nodes",
        inherit_attributes=True,
    ),
    e(
        _REDSHIFT,
        "PauseCluster",
        "redshift",
        "redshift:cluster",
        P,
        resource_ids=_REDSHIFT_ID,
        pricer="redshift_nodes",
        inherit_attributes=True,
    ),
    e(
        _REDSHIFT,
        "ResumeCluster",
        "redshift",
        "redshift:cluster",
        S,
        resource_ids=_REDSHIFT_ID,
        pricer="redshift_nodes",
        inherit_attributes=True,
    ),
    e(
        _REDSHIFT,
        "DeleteCluster",
        "redshift",
        "redshift:cluster",
        D,
        resource_ids=_REDSHIFT_ID,
        pricer="redshift_nodes",
        inherit_attributes=True,
    ),
)
