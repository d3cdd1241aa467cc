"""Read one region's resources through the customer's read-only role: Describe/List calls only
(exactly ``onboarding.READER_ACTIONS``), turned into ``Resource`` descriptions.

The region is read in sections (EC2, snapshots, NAT, ELBv2, classic ELB, RDS, ElastiCache,
Redshift, OpenSearch, SageMaker). A section that fails (access denied, throttled after botocore's
retries, an error) is recorded with its classification and its resource types count as unchecked:
the scan neither evaluates nor closes their findings. The other sections carry on.

Where moto (the tests' AWS) answers differently from AWS, the code follows AWS and says so:
- ELBv2 CloudWatch dimension ``LoadBalancer`` is ``app|net/<name>/<id>``, built from the load
  balancer's type, name and the ARN's last segment (moto's ARNs say ``app/`` for every type);
- ElastiCache ``CacheNodes`` (``ShowCacheNodeInfo``) is missing in moto: node ids then come from
  ``NumCacheNodes`` as AWS numbers them (``0001``, ``0002``, ...);
- DescribeTargetGroups is read once for the region (moto raises TargetGroupNotFound when asked
  for the groups of a load balancer that has none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dd0c_cost.zombies.models import Resource, ResourceType, utc
from dd0c_cost.zombies.rules.compute import stopped_at

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthFailure",
        "AuthorizationError",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "OptInRequired",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)


# boto3 service name -> IAM action prefix
IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "opensearch": "es"}


def classify_error(exc: BaseException) -> str:
    """``access_denied`` | ``throttled`` | ``error`` for an AWS call's exception."""
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
    if code in ACCESS_DENIED_CODES:
        return "access_denied"
    if code in THROTTLED_CODES:
        return "throttled"
    return "error"


def error_detail(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        err = response["Error"]
        return f"{err.get('Code', '')}: {err.get('Message', '')}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


@dataclass
class SectionError:
    kind: str  # access_denied | throttled | error
    detail: str


@dataclass
class Inventory:
    account_id: str
    region: str
    resources: list[Resource] = field(default_factory=list)
    errors: dict[str, SectionError] = field(default_factory=dict)  # section -> error
    calls: dict[str, int] = field(default_factory=dict)  # IAM action ("ec2:DescribeVolumes") -> requests

    def unchecked_types(self) -> set[ResourceType]:
        return {t for section in self.errors for t in SECTION_TYPES[section]}


# Which resource types each section yields (a type is complete only if all its sections are).
SECTION_TYPES: dict[str, tuple[ResourceType, ...]] = {
    "ec2": (ResourceType.EC2_INSTANCE, ResourceType.EBS_VOLUME, ResourceType.ELASTIC_IP),
    "snapshots": (ResourceType.EBS_SNAPSHOT,),
    "nat": (ResourceType.NAT_GATEWAY,),
    "elbv2": (ResourceType.LOAD_BALANCER,),
    "elb": (ResourceType.LOAD_BALANCER,),
    "rds": (ResourceType.RDS_INSTANCE,),
    "elasticache": (ResourceType.ELASTICACHE_CLUSTER,),
    "redshift": (ResourceType.REDSHIFT_CLUSTER,),
    "opensearch": (ResourceType.OPENSEARCH_DOMAIN,),
    "sagemaker": (ResourceType.SAGEMAKER_ENDPOINT,),
}


def _tags(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in items or [] if t.get("Key") is not None}


def _iso(value: Any) -> str | None:
    return utc(value).isoformat() if isinstance(value, datetime) else None


def _time(value: Any) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


class _Reader:
    """Counts calls per operation; pages through paginated operations."""

    def __init__(self, session, region: str, inventory: Inventory, client_config=None) -> None:
        self._session = session
        self._region = region
        self._inventory = inventory
        self._clients: dict[str, Any] = {}
        self._config = client_config

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=self._region, config=self._config)
        return self._clients[service]

    def call(self, service: str, operation: str, **kwargs) -> dict:
        self._count(service, operation)
        return getattr(self.client(service), _snake(operation))(**kwargs)

    def pages(self, service: str, operation: str, key: str, **kwargs) -> list[dict]:
        client = self.client(service)
        items: list[dict] = []
        if client.can_paginate(_snake(operation)):
            for page in client.get_paginator(_snake(operation)).paginate(**kwargs):
                self._count(service, operation)
                items.extend(page.get(key, []))
        else:
            self._count(service, operation)
            items.extend(getattr(client, _snake(operation))(**kwargs).get(key, []))
        return items

    def _count(self, service: str, operation: str) -> None:
        action = f"{IAM_PREFIX.get(service, service)}:{operation}"
        self._inventory.calls[action] = self._inventory.calls.get(action, 0) + 1


def _snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)


# --- sections -----------------------------------------------------------------------------------


def _read_ec2(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    instances = [i for res in r.pages("ec2", "DescribeInstances", "Reservations") for i in res.get("Instances", [])]
    volumes = r.pages("ec2", "DescribeVolumes", "Volumes")
    addresses = r.call("ec2", "DescribeAddresses").get("Addresses", [])
    shared["volume_ids"] = {v["VolumeId"] for v in volumes}

    instance_state = {i["InstanceId"]: i.get("State", {}).get("Name", "") for i in instances}
    instance_stopped = {
        i["InstanceId"]: stopped_at(i.get("StateTransitionReason"))
        for i in instances
        if i.get("State", {}).get("Name") == "stopped"
    }
    volume_facts: dict[str, dict] = {}
    out: list[Resource] = []
    for v in volumes:
        facts = {
            "volume_id": v["VolumeId"],
            "volume_type": v.get("VolumeType"),
            "size_gb": v.get("Size"),
            "iops": v.get("Iops"),
            "throughput": v.get("Throughput"),
            "attachments": [
                {
                    "instance_id": a.get("InstanceId"),
                    "instance_state": instance_state.get(a.get("InstanceId"), "unknown"),
                    "attach_time": _iso(a.get("AttachTime")),
                    "device": a.get("Device"),
                }
                for a in v.get("Attachments", [])
            ],
        }
        volume_facts[v["VolumeId"]] = facts
        out.append(
            Resource(
                ResourceType.EBS_VOLUME,
                v["VolumeId"],
                inv.account_id,
                inv.region,
                _time(v.get("CreateTime")),
                v.get("State", ""),
                _tags(v.get("Tags")).get("Name"),
                _tags(v.get("Tags")),
                facts,
            )
        )
    for i in instances:
        state = i.get("State", {}).get("Name", "")
        if state in {"terminated", "shutting-down"}:
            continue
        vols = [
            volume_facts[b["Ebs"]["VolumeId"]]
            for b in i.get("BlockDeviceMappings", [])
            if b.get("Ebs", {}).get("VolumeId") in volume_facts
        ]
        stop = instance_stopped.get(i["InstanceId"])
        attrs = {
            "instance_type": i.get("InstanceType"),
            "launch_time": _iso(i.get("LaunchTime")),
            "lifecycle": i.get("InstanceLifecycle") or "on-demand",
            "public_ip": i.get("PublicIpAddress"),
            "state_transition_reason": i.get("StateTransitionReason"),
            "stopped_at": stop.isoformat() if stop else None,
            "volumes": [
                {k: vf[k] for k in ("volume_id", "volume_type", "size_gb", "iops", "throughput")} for vf in vols
            ],
        }
        tags = _tags(i.get("Tags"))
        out.append(
            Resource(
                ResourceType.EC2_INSTANCE,
                i["InstanceId"],
                inv.account_id,
                inv.region,
                _time(i.get("LaunchTime")),
                state,
                tags.get("Name"),
                tags,
                attrs,
            )
        )
    for a in addresses:
        rid = a.get("AllocationId") or a.get("PublicIp")
        instance = a.get("InstanceId") or None
        stop = instance_stopped.get(instance) if instance else None
        attrs = {
            "public_ip": a.get("PublicIp"),
            "association_id": a.get("AssociationId") or None,
            "network_interface_id": a.get("NetworkInterfaceId") or None,
            "instance_id": instance,
            "instance_state": instance_state.get(instance) if instance else None,
            "instance_stopped_at": stop.isoformat() if stop else None,
        }
        tags = _tags(a.get("Tags"))
        out.append(
            Resource(
                ResourceType.ELASTIC_IP,
                rid,
                inv.account_id,
                inv.region,
                None,
                "allocated",
                tags.get("Name"),
                tags,
                attrs,
            )
        )
    return out


def _read_snapshots(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    if "volume_ids" not in shared:
        raise _DependsOn("ec2")
    # owner-id repeats OwnerIds=self: the same answer on AWS, and moto (which lists every public
    # snapshot under OwnerIds=self) then answers with the account's own too.
    snapshots = r.pages(
        "ec2",
        "DescribeSnapshots",
        "Snapshots",
        OwnerIds=["self"],
        Filters=[{"Name": "owner-id", "Values": [inv.account_id]}],
    )
    images = r.pages("ec2", "DescribeImages", "Images", Owners=["self"])
    used: dict[str, list[str]] = {}
    for image in images:
        for b in image.get("BlockDeviceMappings", []):
            sid = b.get("Ebs", {}).get("SnapshotId")
            if sid:
                used.setdefault(sid, []).append(image["ImageId"])
    out = []
    for s in snapshots:
        if s.get("OwnerId") and s["OwnerId"] != inv.account_id:
            continue
        tags = _tags(s.get("Tags"))
        attrs = {
            "volume_id": s.get("VolumeId"),
            "volume_size_gb": s.get("VolumeSize"),
            "full_snapshot_size_bytes": s.get("FullSnapshotSizeInBytes"),
            "storage_tier": s.get("StorageTier"),
            "source_volume_exists": s.get("VolumeId") in shared["volume_ids"],
            "used_by_images": sorted(used.get(s["SnapshotId"], [])),
        }
        out.append(
            Resource(
                ResourceType.EBS_SNAPSHOT,
                s["SnapshotId"],
                inv.account_id,
                inv.region,
                _time(s.get("StartTime")),
                s.get("State", ""),
                tags.get("Name"),
                tags,
                attrs,
            )
        )
    return out


def _read_nat(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    gateways = r.pages("ec2", "DescribeNatGateways", "NatGateways")
    tables = r.pages("ec2", "DescribeRouteTables", "RouteTables")
    routed: dict[str, list[str]] = {}
    for t in tables:
        for route in t.get("Routes", []):
            if route.get("NatGatewayId"):
                routed.setdefault(route["NatGatewayId"], []).append(t["RouteTableId"])
    out = []
    for g in gateways:
        tags = _tags(g.get("Tags"))
        attrs = {
            "route_tables": sorted(set(routed.get(g["NatGatewayId"], []))),
            "vpc_id": g.get("VpcId"),
            "connectivity": g.get("ConnectivityType", "public"),
        }
        out.append(
            Resource(
                ResourceType.NAT_GATEWAY,
                g["NatGatewayId"],
                inv.account_id,
                inv.region,
                _time(g.get("CreateTime")),
                g.get("State", ""),
                tags.get("Name"),
                tags,
                attrs,
            )
        )
    return out


def _elbv2_dimension(lb: Mapping[str, Any]) -> str:
    prefix = {"application": "app", "network": "net", "gateway": "gwy"}.get(lb.get("Type", ""), "app")
    return f"{prefix}/{lb['LoadBalancerName']}/{lb['LoadBalancerArn'].rsplit('/', 1)[-1]}"


def _read_elbv2(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    lbs = r.pages("elbv2", "DescribeLoadBalancers", "LoadBalancers")
    if not lbs:
        return []
    groups = r.pages("elbv2", "DescribeTargetGroups", "TargetGroups")
    targets: dict[str, int] = {}
    for g in groups:
        if g.get("LoadBalancerArns"):
            health = r.call("elbv2", "DescribeTargetHealth", TargetGroupArn=g["TargetGroupArn"])
            targets[g["TargetGroupArn"]] = len(health.get("TargetHealthDescriptions", []))
    tags: dict[str, dict[str, str]] = {}
    arns = [lb["LoadBalancerArn"] for lb in lbs]
    for start in range(0, len(arns), 20):
        for d in r.call("elbv2", "DescribeTags", ResourceArns=arns[start : start + 20]).get("TagDescriptions", []):
            tags[d["ResourceArn"]] = _tags(d.get("Tags"))
    out = []
    for lb in lbs:
        arn = lb["LoadBalancerArn"]
        listeners = r.pages("elbv2", "DescribeListeners", "Listeners", LoadBalancerArn=arn)
        mine = [g for g in groups if arn in (g.get("LoadBalancerArns") or [])]
        attrs = {
            "lb_type": lb.get("Type"),
            "arn": arn,
            "dimension": _elbv2_dimension(lb),
            "listeners": len(listeners),
            "target_groups": [
                {"arn": g["TargetGroupArn"], "targets": targets.get(g["TargetGroupArn"], 0)} for g in mine
            ],
        }
        t = tags.get(arn, {})
        out.append(
            Resource(
                ResourceType.LOAD_BALANCER,
                lb["LoadBalancerName"],
                inv.account_id,
                inv.region,
                _time(lb.get("CreatedTime")),
                lb.get("State", {}).get("Code", ""),
                lb["LoadBalancerName"],
                t,
                attrs,
            )
        )
    return out


def _read_elb(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    lbs = r.pages("elb", "DescribeLoadBalancers", "LoadBalancerDescriptions")
    tags: dict[str, dict[str, str]] = {}
    names = [lb["LoadBalancerName"] for lb in lbs]
    for start in range(0, len(names), 20):
        for d in r.call("elb", "DescribeTags", LoadBalancerNames=names[start : start + 20]).get("TagDescriptions", []):
            tags[d["LoadBalancerName"]] = _tags(d.get("Tags"))
    out = []
    for lb in lbs:
        name = lb["LoadBalancerName"]
        attrs = {
            "lb_type": "classic",
            "listeners": len(lb.get("ListenerDescriptions", [])),
            "instances": len(lb.get("Instances", [])),
        }
        out.append(
            Resource(
                ResourceType.LOAD_BALANCER,
                name,
                inv.account_id,
                inv.region,
                _time(lb.get("CreatedTime")),
                "active",
                name,
                tags.get(name, {}),
                attrs,
            )
        )
    return out


def _read_rds(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    out = []
    for db in r.pages("rds", "DescribeDBInstances", "DBInstances"):
        tags = _tags(db.get("TagList"))
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
                _time(db.get("InstanceCreateTime")),
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


def _read_elasticache(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    clusters = r.pages("elasticache", "DescribeCacheClusters", "CacheClusters", ShowCacheNodeInfo=True)
    groups: dict[str, list[dict]] = {}
    singles = []
    for c in clusters:
        (groups.setdefault(c["ReplicationGroupId"], []) if c.get("ReplicationGroupId") else singles).append(c)
    out = []

    def tags_of(arn: str | None) -> dict[str, str]:
        if not arn:
            return {}
        return _tags(r.call("elasticache", "ListTagsForResource", ResourceName=arn).get("TagList"))

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
                _time(c.get("CacheClusterCreateTime")),
                c.get("CacheClusterStatus", ""),
                c["CacheClusterId"],
                tags_of(c.get("ARN")),
                attrs,
            )
        )
    for group_id, members in sorted(groups.items()):
        members.sort(key=lambda c: c["CacheClusterId"])
        created = [t for t in (_time(c.get("CacheClusterCreateTime")) for c in members) if t]
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


def _read_redshift(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    out = []
    for c in r.pages("redshift", "DescribeClusters", "Clusters"):
        tags = _tags(c.get("Tags"))
        attrs = {"node_type": c.get("NodeType"), "nodes": c.get("NumberOfNodes")}
        out.append(
            Resource(
                ResourceType.REDSHIFT_CLUSTER,
                c["ClusterIdentifier"],
                inv.account_id,
                inv.region,
                _time(c.get("ClusterCreateTime")),
                c.get("ClusterStatus", ""),
                c["ClusterIdentifier"],
                tags,
                attrs,
            )
        )
    return out


def _read_opensearch(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    names = [d["DomainName"] for d in r.call("opensearch", "ListDomainNames").get("DomainNames", [])]
    out = []
    for start in range(0, len(names), 5):
        for d in r.call("opensearch", "DescribeDomains", DomainNames=names[start : start + 5]).get(
            "DomainStatusList", []
        ):
            cfg, ebs = d.get("ClusterConfig", {}), d.get("EBSOptions", {})
            tags = _tags(r.call("opensearch", "ListTags", ARN=d["ARN"]).get("TagList"))
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


def _read_sagemaker(r: _Reader, inv: Inventory, shared: dict) -> list[Resource]:
    out = []
    for e in r.pages("sagemaker", "ListEndpoints", "Endpoints"):
        detail = r.call("sagemaker", "DescribeEndpoint", EndpointName=e["EndpointName"])
        config = r.call("sagemaker", "DescribeEndpointConfig", EndpointConfigName=detail["EndpointConfigName"])
        configured = {v["VariantName"]: v for v in config.get("ProductionVariants", [])}
        variants = []
        for v in detail.get("ProductionVariants") or config.get("ProductionVariants", []):
            c = configured.get(v["VariantName"], {})
            variants.append(
                {
                    "name": v["VariantName"],
                    "instance_type": c.get("InstanceType"),
                    "instances": v.get("CurrentInstanceCount", c.get("InitialInstanceCount")),
                    "serverless": bool(c.get("ServerlessConfig") or v.get("CurrentServerlessConfig")),
                }
            )
        tags = _tags(r.call("sagemaker", "ListTags", ResourceArn=e["EndpointArn"]).get("Tags"))
        out.append(
            Resource(
                ResourceType.SAGEMAKER_ENDPOINT,
                e["EndpointName"],
                inv.account_id,
                inv.region,
                _time(e.get("CreationTime")),
                e.get("EndpointStatus", ""),
                e["EndpointName"],
                tags,
                {"variants": variants},
            )
        )
    return out


class _DependsOn(Exception):
    def __init__(self, section: str) -> None:
        super().__init__(f"needs section {section!r}, which failed")
        self.section = section


SECTIONS: dict[str, Callable[[_Reader, Inventory, dict], list[Resource]]] = {
    "ec2": _read_ec2,
    "snapshots": _read_snapshots,
    "nat": _read_nat,
    "elbv2": _read_elbv2,
    "elb": _read_elb,
    "rds": _read_rds,
    "elasticache": _read_elasticache,
    "redshift": _read_redshift,
    "opensearch": _read_opensearch,
    "sagemaker": _read_sagemaker,
}


def read_region(
    session, account_id: str, region: str, *, client_config=None, sections: Iterable[str] | None = None
) -> Inventory:
    """Describe every section of ``region`` with ``session`` (a boto3 Session for the customer's
    role); errors are recorded per section, never raised."""
    inv = Inventory(account_id, region)
    reader = _Reader(session, region, inv, client_config)
    shared: dict = {}
    for name in sections or SECTIONS:
        try:
            inv.resources.extend(SECTIONS[name](reader, inv, shared))
        except _DependsOn as exc:
            failed = inv.errors.get(exc.section)
            inv.errors[name] = SectionError(failed.kind if failed else "error", str(exc))
        except Exception as exc:  # noqa: BLE001 - recorded per section; the others carry on
            inv.errors[name] = SectionError(classify_error(exc), error_detail(exc))
    return inv
