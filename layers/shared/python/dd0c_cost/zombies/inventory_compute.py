"""Sections for compute and its storage: EC2 (instances, volumes, Elastic IPs), EBS snapshots,
SageMaker endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dd0c_cost.zombies.criteria_compute import stopped_at
from dd0c_cost.zombies.inventory_reader import DependsOn, Reader, iso, tags_of, time_of
from dd0c_cost.zombies.models import Resource, ResourceType

if TYPE_CHECKING:
    from dd0c_cost.zombies.inventory import Inventory


def read_ec2(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
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
    out = _volumes(volumes, instance_state, volume_facts, inv)
    out += _instances(instances, volume_facts, instance_stopped, inv)
    out += _elastic_ips(addresses, instance_state, instance_stopped, inv)
    return out


def _volumes(
    volumes: list[dict], instance_state: Mapping[str, str], volume_facts: dict[str, dict], inv: Inventory
) -> list[Resource]:
    """EBS volumes, each with its attachments' instance states (kept in ``volume_facts`` for the instances)."""
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
                    "attach_time": iso(a.get("AttachTime")),
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
                time_of(v.get("CreateTime")),
                v.get("State", ""),
                tags_of(v.get("Tags")).get("Name"),
                tags_of(v.get("Tags")),
                facts,
            )
        )
    return out


def _instances(
    instances: list[dict],
    volume_facts: Mapping[str, dict],
    instance_stopped: Mapping[str, datetime | None],
    inv: Inventory,
) -> list[Resource]:
    """Instances not terminated, each with its volumes' sizing and, when stopped, its stop time."""
    out: list[Resource] = []
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
            "launch_time": iso(i.get("LaunchTime")),
            "lifecycle": i.get("InstanceLifecycle") or "on-demand",
            "public_ip": i.get("PublicIpAddress"),
            "state_transition_reason": i.get("StateTransitionReason"),
            "stopped_at": stop.isoformat() if stop else None,
            "volumes": [
                {k: vf[k] for k in ("volume_id", "volume_type", "size_gb", "iops", "throughput")} for vf in vols
            ],
        }
        tags = tags_of(i.get("Tags"))
        out.append(
            Resource(
                ResourceType.EC2_INSTANCE,
                i["InstanceId"],
                inv.account_id,
                inv.region,
                time_of(i.get("LaunchTime")),
                state,
                tags.get("Name"),
                tags,
                attrs,
            )
        )
    return out


def _elastic_ips(
    addresses: list[Any],  # DescribeAddresses answers
    instance_state: Mapping[str, str],
    instance_stopped: Mapping[str, datetime | None],
    inv: Inventory,
) -> list[Resource]:
    """Elastic IPs, with the state of the instance they are on (an IP on a stopped instance bills)."""
    out: list[Resource] = []
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
        tags = tags_of(a.get("Tags"))
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


def read_snapshots(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
    if "volume_ids" not in shared:
        raise DependsOn("ec2")
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
        tags = tags_of(s.get("Tags"))
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
                time_of(s.get("StartTime")),
                s.get("State", ""),
                tags.get("Name"),
                tags,
                attrs,
            )
        )
    return out


def read_sagemaker(r: Reader, inv: Inventory, shared: dict) -> list[Resource]:
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
        tags = tags_of(r.call("sagemaker", "ListTags", ResourceArn=e["EndpointArn"]).get("Tags"))
        out.append(
            Resource(
                ResourceType.SAGEMAKER_ENDPOINT,
                e["EndpointName"],
                inv.account_id,
                inv.region,
                time_of(e.get("CreationTime")),
                e.get("EndpointStatus", ""),
                e["EndpointName"],
                tags,
                {"variants": variants},
            )
        )
    return out
