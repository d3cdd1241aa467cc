"""RDS: DB instances, clusters and snapshots."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, M, P, S, e

_RDS = "rds.amazonaws.com"

# RDS
_DB_ID = ("requestParameters.dBInstanceIdentifier", "responseElements.dBInstanceIdentifier")
_DB_ATTRS = {
    "instance_type": ("requestParameters.dBInstanceClass", "responseElements.dBInstanceClass"),
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "multi_az": ("requestParameters.multiAZ", "responseElements.multiAZ"),
    "storage_gb": ("requestParameters.allocatedStorage", "responseElements.allocatedStorage"),
    "storage_type": ("requestParameters.storageType", "responseElements.storageType"),
    "iops": ("requestParameters.iops", "responseElements.iops"),
    "cluster": ("requestParameters.dBClusterIdentifier", "responseElements.dBClusterIdentifier"),
}
_DB_RESPONSE_ATTRS = {name: tuple(p for p in paths if p.startswith("responseElements.")) for name, paths in _DB_ATTRS.items()}
_DB_MODIFIABLE = {
    "instance_type": ("requestParameters.dBInstanceClass", "responseElements.pendingModifiedValues.dBInstanceClass"),
    "multi_az": ("requestParameters.multiAZ", "responseElements.pendingModifiedValues.multiAZ"),
    "storage_gb": ("requestParameters.allocatedStorage", "responseElements.pendingModifiedValues.allocatedStorage"),
    "storage_type": ("requestParameters.storageType", "responseElements.pendingModifiedValues.storageType"),
    "iops": ("requestParameters.iops", "responseElements.pendingModifiedValues.iops"),
}
_DB_CLUSTER_ID = ("requestParameters.dBClusterIdentifier", "responseElements.dBClusterIdentifier")
_DB_CLUSTER_ATTRS = {
    "engine": ("requestParameters.engine", "responseElements.engine"),
    "engine_mode": ("requestParameters.engineMode", "responseElements.engineMode"),
    "instance_type": ("requestParameters.dBClusterInstanceClass", "responseElements.dBClusterInstanceClass"),
    "storage_gb": ("requestParameters.allocatedStorage", "responseElements.allocatedStorage"),
    "storage_type": ("requestParameters.storageType", "responseElements.storageType"),
    "iops": ("requestParameters.iops", "responseElements.iops"),
    "min_acu": ("requestParameters.serverlessV2ScalingConfiguration.minCapacity",
                "responseElements.serverlessV2ScalingConfiguration.minCapacity"),
}
_DB_CLUSTER_RESPONSE_ATTRS = {n: tuple(p for p in ps if p.startswith("responseElements.")) for n, ps in _DB_CLUSTER_ATTRS.items()}
_DB_CLUSTER_MODIFIABLE = {
    "instance_type": ("requestParameters.dBClusterInstanceClass",),
    "storage_gb": ("requestParameters.allocatedStorage",),
    "storage_type": ("requestParameters.storageType",),
    "iops": ("requestParameters.iops",),
}

ENTRIES = (
    # --- RDS instances ---------------------------------------------------------------------------
    e(_RDS, "CreateDBInstance", "rds", "rds:db", C, resource_ids=_DB_ID, attributes=_DB_ATTRS,
       assume={"multi_az": False}, pricer="rds_instance",
       note="instance (Multi-AZ = 2x, estimated) + allocated storage + provisioned IOPS"),
    e(_RDS, "RestoreDBInstanceFromDBSnapshot", "rds", "rds:db", C, resource_ids=_DB_ID, attributes=_DB_ATTRS,
       assume={"multi_az": False}, pricer="rds_instance"),
    e(_RDS, "RestoreDBInstanceToPointInTime", "rds", "rds:db", C,
       resource_ids=("requestParameters.targetDBInstanceIdentifier", "responseElements.dBInstanceIdentifier"),
       attributes=_DB_ATTRS, assume={"multi_az": False}, pricer="rds_instance"),
    e(_RDS, "CreateDBInstanceReadReplica", "rds", "rds:db", C, resource_ids=_DB_ID, attributes=_DB_ATTRS,
       assume={"multi_az": False}, pricer="rds_instance", inherit_attributes=True,
       inherit_from=("requestParameters.sourceDBInstanceIdentifier",),
       note="class and storage default to the source instance's (inherited)"),
    e(_RDS, "ModifyDBInstance", "rds", "rds:db", M, resource_ids=_DB_ID, attributes=_DB_MODIFIABLE,
       previous=_DB_RESPONSE_ATTRS, pricer="rds_instance", inherit_attributes=True,
       note="change of class/Multi-AZ/storage/IOPS; priced at call time even when applied in the maintenance window"),
    e(_RDS, "StartDBInstance", "rds", "rds:db", S, resource_ids=_DB_ID, attributes=_DB_RESPONSE_ATTRS,
       pricer="rds_instance_hours", inherit_attributes=True),
    e(_RDS, "StopDBInstance", "rds", "rds:db", P, resource_ids=_DB_ID, attributes=_DB_RESPONSE_ATTRS,
       pricer="rds_instance_hours", inherit_attributes=True, note="storage keeps billing while stopped"),
    e(_RDS, "DeleteDBInstance", "rds", "rds:db", D, resource_ids=_DB_ID, attributes=_DB_RESPONSE_ATTRS,
       pricer="rds_instance", inherit_attributes=True),
    # --- RDS clusters ----------------------------------------------------------------------------
    e(_RDS, "CreateDBCluster", "rds", "rds:cluster", C, resource_ids=_DB_CLUSTER_ID, attributes=_DB_CLUSTER_ATTRS,
       pricer="rds_cluster",
       note="Aurora: $0 (instances are priced on their CreateDBInstance); Multi-AZ DB cluster: 3 instances + storage"),
    e(_RDS, "RestoreDBClusterFromSnapshot", "rds", "rds:cluster", C, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_ATTRS, pricer="rds_cluster"),
    e(_RDS, "ModifyDBCluster", "rds", "rds:cluster", M, resource_ids=_DB_CLUSTER_ID, attributes=_DB_CLUSTER_MODIFIABLE,
       previous=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster", inherit_attributes=True),
    e(_RDS, "StartDBCluster", "rds", "rds:cluster", S, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster_hours", inherit_attributes=True),
    e(_RDS, "StopDBCluster", "rds", "rds:cluster", P, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster_hours", inherit_attributes=True),
    e(_RDS, "DeleteDBCluster", "rds", "rds:cluster", D, resource_ids=_DB_CLUSTER_ID,
       attributes=_DB_CLUSTER_RESPONSE_ATTRS, pricer="rds_cluster", inherit_attributes=True),
    # --- RDS snapshots ---------------------------------------------------------------------------
    e(_RDS, "CreateDBSnapshot", "rds", "rds:snapshot", C,
       resource_ids=("requestParameters.dBSnapshotIdentifier", "responseElements.dBSnapshotIdentifier"),
       attributes={"storage_gb": ("responseElements.allocatedStorage",),
                   "db_instance": ("requestParameters.dBInstanceIdentifier",)},
       pricer="rds_snapshot", inherit_attributes=True, inherit_from=("requestParameters.dBInstanceIdentifier",),
       inherit_type="rds:db",
       note="backup storage for the instance's allocated size (inherited from the instance when not in the response)"),
    e(_RDS, "CopyDBSnapshot", "rds", "rds:snapshot", C,
       resource_ids=("requestParameters.targetDBSnapshotIdentifier", "responseElements.dBSnapshotIdentifier"),
       attributes={"storage_gb": ("responseElements.allocatedStorage",)},
       pricer="rds_snapshot", inherit_attributes=True, inherit_from=("requestParameters.sourceDBSnapshotIdentifier",)),
    e(_RDS, "DeleteDBSnapshot", "rds", "rds:snapshot", D,
       resource_ids=("requestParameters.dBSnapshotIdentifier", "responseElements.dBSnapshotIdentifier"),
       attributes={"storage_gb": ("responseElements.allocatedStorage",)},
       pricer="rds_snapshot", inherit_attributes=True),
)
