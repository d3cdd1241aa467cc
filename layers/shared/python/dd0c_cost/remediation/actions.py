"""What dd0c can do about a resource, per resource type, and how (boto3, in the customer's account
through the remediation role).

Every action is a small step machine: each step either finishes (``Done``), or says what to do
next (``Next(step)``, run right away), or that AWS is still busy (``Wait(step)``: the worker gives
the queue message back and tries again later). Steps are written to the audit log one by one.

``IAM_ACTIONS`` is exactly what the customer template's opt-in remediation role allows; a test
checks that every call below is in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PROTECT_TAG = "dd0c:protect"


@dataclass(frozen=True)
class Done:
    summary: str  # "Stopped 8 instances", shown in the thread
    result: dict = field(default_factory=dict)
    saves_spend: bool = True  # the anomaly's $/h stops (a scale-back saves the added part)


@dataclass(frozen=True)
class Next:
    step: str
    params: dict = field(default_factory=dict)  # merged into the request's params


@dataclass(frozen=True)
class Wait:
    step: str
    why: str
    params: dict = field(default_factory=dict)


StepResult = Done | Next | Wait


class Protected(Exception):
    """A resource carries the dd0c:protect tag: dd0c never touches it (the role denies it too)."""


@dataclass(frozen=True)
class ActionDef:
    id: str
    resource_types: tuple[str, ...]
    label: str  # the select option: "Stop instances"
    verb: str  # "stop", for the confirmation: "Stop 8 instances?"
    warning: str | None = None
    destructive: bool = False
    asks_size: bool = False  # the dialog asks for the size to scale back to
    offers_eip_release: bool = False
    applies: Callable[[dict], bool] = lambda subject_attrs: True
    steps: dict[str, Callable[[Any, dict, list[str]], StepResult]] = field(default_factory=dict)
    first_step: str = "run"


# --- helpers -----------------------------------------------------------------------------------
def _tags(items: list[dict] | None) -> dict[str, str]:
    return {t.get("Key"): t.get("Value") for t in items or []}


def _refuse_protected(kind: str, ids_and_tags: list[tuple[str, dict]]) -> None:
    protected = [rid for rid, tags in ids_and_tags if PROTECT_TAG in tags]
    if protected:
        raise Protected(f"{kind} {', '.join(protected)} tagged {PROTECT_TAG}: dd0c does not touch it")


def _instances_tags(session, ids: list[str]) -> list[tuple[str, dict]]:
    ec2 = session.client("ec2")
    found = []
    for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            found.append((instance["InstanceId"], _tags(instance.get("Tags"))))
    return found


# --- EC2 instances ---------------------------------------------------------------------------
def _ec2_stop(session, params: dict, ids: list[str]) -> StepResult:
    _refuse_protected("instance", _instances_tags(session, ids))
    answer = session.client("ec2").stop_instances(InstanceIds=ids)
    states = {i["InstanceId"]: i["CurrentState"]["Name"] for i in answer["StoppingInstances"]}
    return Done(f"Stopped {len(ids)} instance{'s' if len(ids) != 1 else ''}", {"states": states})


def _ec2_terminate(session, params: dict, ids: list[str]) -> StepResult:
    _refuse_protected("instance", _instances_tags(session, ids))
    answer = session.client("ec2").terminate_instances(InstanceIds=ids)
    states = {i["InstanceId"]: i["CurrentState"]["Name"] for i in answer["TerminatingInstances"]}
    return Done(f"Terminated {len(ids)} instance{'s' if len(ids) != 1 else ''}", {"states": states})


# --- RDS -------------------------------------------------------------------------------------
def _rds_stop(session, params: dict, ids: list[str]) -> StepResult:
    rds = session.client("rds")
    stopped = {}
    for db in ids:
        described = rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"][0]
        tags = _tags(rds.list_tags_for_resource(ResourceName=described["DBInstanceArn"]).get("TagList"))
        _refuse_protected("database", [(db, tags)])
        stopped[db] = rds.stop_db_instance(DBInstanceIdentifier=db)["DBInstance"]["DBInstanceStatus"]
    return Done(f"Stopped {', '.join(ids)} (AWS starts it again after 7 days)", {"states": stopped})


# --- EBS volumes: snapshot, wait, delete -------------------------------------------------------
def _volume_snapshot(session, params: dict, ids: list[str]) -> StepResult:
    ec2 = session.client("ec2")
    volumes = ec2.describe_volumes(VolumeIds=ids)["Volumes"]
    _refuse_protected("volume", [(v["VolumeId"], _tags(v.get("Tags"))) for v in volumes])
    snapshots = {}
    for volume in ids:
        snapshot = ec2.create_snapshot(
            VolumeId=volume,
            Description=f"dd0c-cost remediation {params.get('remediation_id', '')}: before deleting {volume}",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "dd0c:remediation", "Value": volume}]}],
        )
        snapshots[volume] = snapshot["SnapshotId"]
    return Next("wait_snapshot", {"snapshots": snapshots})


def _volume_wait(session, params: dict, ids: list[str]) -> StepResult:
    snapshots = params.get("snapshots") or {}
    answer = session.client("ec2").describe_snapshots(SnapshotIds=list(snapshots.values()))
    states = {s["SnapshotId"]: s["State"] for s in answer["Snapshots"]}
    if any(state == "error" for state in states.values()):
        raise RuntimeError(f"snapshot failed: {states}; the volume was kept")
    if all(state == "completed" for state in states.values()) and len(states) == len(snapshots):
        return Next("delete_volume")
    return Wait("wait_snapshot", f"snapshots {', '.join(states)} still {', '.join(set(states.values()))}")


def _volume_delete(session, params: dict, ids: list[str]) -> StepResult:
    ec2 = session.client("ec2")
    for volume in ids:
        ec2.delete_volume(VolumeId=volume)
    snapshots = params.get("snapshots") or {}
    kept = ", ".join(f"{v} → {s}" for v, s in snapshots.items())
    return Done(f"Deleted {', '.join(ids)} after snapshotting it ({kept})", {"snapshots": snapshots})


# --- NAT gateways and Elastic IPs -----------------------------------------------------------
def _nat_delete(session, params: dict, ids: list[str]) -> StepResult:
    ec2 = session.client("ec2")
    gateways = ec2.describe_nat_gateways(NatGatewayIds=ids)["NatGateways"]
    _refuse_protected("NAT gateway", [(g["NatGatewayId"], _tags(g.get("Tags"))) for g in gateways])
    allocations = [
        a["AllocationId"] for g in gateways for a in g.get("NatGatewayAddresses", []) if a.get("AllocationId")
    ]
    for gateway in ids:
        ec2.delete_nat_gateway(NatGatewayId=gateway)
    if params.get("release_eip") and allocations:
        return Next("release_nat_eips", {"allocations": allocations})
    return Done(
        f"Deleted {', '.join(ids)}" + (f"; kept its Elastic IP {', '.join(allocations)}" if allocations else ""),
        {"allocations_kept": allocations},
    )


def _nat_release_eips(session, params: dict, ids: list[str]) -> StepResult:
    ec2 = session.client("ec2")
    gateways = ec2.describe_nat_gateways(NatGatewayIds=ids)["NatGateways"]
    if any(g["State"] not in ("deleted", "failed") for g in gateways):
        return Wait("release_nat_eips", "the NAT gateway is still being deleted")
    for allocation in params.get("allocations") or []:
        ec2.release_address(AllocationId=allocation)
    return Done(f"Deleted {', '.join(ids)} and released {', '.join(params.get('allocations') or [])}")


def _eip_release(session, params: dict, ids: list[str]) -> StepResult:
    ec2 = session.client("ec2")
    allocations = [i for i in ids if i.startswith("eipalloc-")]
    addresses = ec2.describe_addresses(AllocationIds=allocations)["Addresses"] if allocations else []
    _refuse_protected("Elastic IP", [(a["AllocationId"], _tags(a.get("Tags"))) for a in addresses])
    for allocation in allocations:
        ec2.release_address(AllocationId=allocation)
    return Done(f"Released {', '.join(allocations)}")


# --- scale back: Auto Scaling groups and EKS node groups ---------------------------------------
def _asg_restore(session, params: dict, ids: list[str]) -> StepResult:
    autoscaling = session.client("autoscaling")
    found = autoscaling.describe_auto_scaling_instances(InstanceIds=ids)["AutoScalingInstances"]
    groups = sorted({i["AutoScalingGroupName"] for i in found})
    if len(groups) != 1:
        raise RuntimeError(f"these instances are not in exactly one Auto Scaling group ({groups or 'none'})")
    name = groups[0]
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    _refuse_protected("Auto Scaling group", [(name, _tags(group.get("Tags")))])
    current = group["DesiredCapacity"]
    target = params.get("size")
    target = int(target) if target is not None else max(group["MinSize"], current - len(found))
    if target < group["MinSize"]:
        raise RuntimeError(f"{target} is below the group's minimum size {group['MinSize']}")
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=target, HonorCooldown=False)
    return Done(f"Scaled {name} from {current} back to {target}", {"group": name, "from": current, "to": target})


def _eks_restore(session, params: dict, ids: list[str]) -> StepResult:
    eks = session.client("eks")
    results = {}
    for resource in ids:
        cluster, _, nodegroup = resource.partition("/")
        described = eks.describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)["nodegroup"]
        _refuse_protected("node group", [(resource, described.get("tags") or {})])
        scaling = described["scalingConfig"]
        target = int(params["size"]) if params.get("size") is not None else None
        if target is None:
            raise RuntimeError("the size to scale back to is unknown; give it in the dialog")
        config = {"desiredSize": target, "minSize": min(scaling.get("minSize", target), target)}
        eks.update_nodegroup_config(clusterName=cluster, nodegroupName=nodegroup, scalingConfig=config)
        results[resource] = {"from": scaling.get("desiredSize"), "to": target}
    summary = "; ".join(f"Scaled {r} from {v['from']} back to {v['to']}" for r, v in results.items())
    return Done(summary, {"nodegroups": results})


def _by_autoscaling(attrs: dict) -> bool:
    actor = str(attrs.get("_actor") or "")
    return "AWSServiceRoleForAutoScaling" in actor or bool(attrs.get("autoscaling_group"))


ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("ec2_stop", ("ec2:instance",), "Stop instances", "stop", steps={"run": _ec2_stop}),
    ActionDef(
        "ec2_terminate",
        ("ec2:instance",),
        "Terminate instances",
        "terminate",
        warning="Terminating deletes the instances and their instance-store data; it cannot be undone.",
        destructive=True,
        steps={"run": _ec2_terminate},
    ),
    ActionDef(
        "asg_restore",
        ("ec2:instance",),
        "Scale the Auto Scaling group back",
        "scale back",
        asks_size=True,
        applies=_by_autoscaling,
        steps={"run": _asg_restore},
    ),
    ActionDef(
        "rds_stop",
        ("rds:db",),
        "Stop database",
        "stop",
        warning="AWS starts a stopped RDS instance again automatically after 7 days.",
        steps={"run": _rds_stop},
    ),
    ActionDef(
        "ebs_snapshot_delete",
        ("ec2:volume",),
        "Snapshot, then delete volume",
        "snapshot and delete",
        warning="The volume is snapshotted first; it is deleted only once the snapshot has completed.",
        destructive=True,
        steps={"run": _volume_snapshot, "wait_snapshot": _volume_wait, "delete_volume": _volume_delete},
    ),
    ActionDef(
        "nat_delete",
        ("ec2:natgateway",),
        "Delete NAT gateway",
        "delete",
        warning="Private subnets routed through it lose internet access.",
        destructive=True,
        offers_eip_release=True,
        steps={"run": _nat_delete, "release_nat_eips": _nat_release_eips},
    ),
    ActionDef(
        "eip_release",
        ("ec2:elastic-ip",),
        "Release Elastic IP",
        "release",
        warning="A released address may not be recoverable.",
        destructive=True,
        steps={"run": _eip_release},
    ),
    ActionDef(
        "eks_nodegroup_restore",
        ("eks:nodegroup",),
        "Scale the node group back",
        "scale back",
        asks_size=True,
        steps={"run": _eks_restore},
    ),
)
BY_ID = {a.id: a for a in ACTIONS}

# What the customer's opt-in remediation role allows: exactly the calls above.
IAM_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeInstances",
    "ec2:StopInstances",
    "ec2:TerminateInstances",
    "ec2:DescribeVolumes",
    "ec2:CreateSnapshot",
    "ec2:CreateTags",
    "ec2:DescribeSnapshots",
    "ec2:DeleteVolume",
    "ec2:DescribeNatGateways",
    "ec2:DeleteNatGateway",
    "ec2:DescribeAddresses",
    "ec2:ReleaseAddress",
    "rds:DescribeDBInstances",
    "rds:ListTagsForResource",
    "rds:StopDBInstance",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:SetDesiredCapacity",
    "eks:DescribeNodegroup",
    "eks:UpdateNodegroupConfig",
)
# The mutating ones, denied on resources tagged dd0c:protect.
MUTATING_IAM_ACTIONS = tuple(
    a for a in IAM_ACTIONS if re.match(r"^[a-z0-9]+:(Stop|Terminate|Create|Delete|Release|Set|Update)", a)
)


def actions_for(resource_type: str | None, attrs: dict) -> list[ActionDef]:
    """The actions this subject may be offered and asked for. A subject that narrows them (a zombie
    finding's ``allowed_remediations``: never terminate, nothing for "fix in owner" or suspects)
    gets only those, whatever a click asks for."""
    allowed = attrs.get("allowed_remediations")
    return [
        a
        for a in ACTIONS
        if resource_type in a.resource_types and a.applies(attrs) and (allowed is None or a.id in allowed)
    ]


__all__ = [
    "ACTIONS",
    "BY_ID",
    "IAM_ACTIONS",
    "MUTATING_IAM_ACTIONS",
    "PROTECT_TAG",
    "ActionDef",
    "Done",
    "Next",
    "Protected",
    "Wait",
    "actions_for",
]
