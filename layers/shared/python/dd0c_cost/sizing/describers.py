"""What the account is asked, per resource type: one batched Describe* call (by filter, so an id
that no longer exists is simply absent instead of failing the whole call) and the priced
attributes read from its answer, named as the catalogue names them.

Only stops, starts and deletes are sized this way: the account answers with the resource's size
*now*, which is its size at a stop, start or delete, but not the size before a modify.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dd0c_cost.events.models import CostAction

SIZED_BY_KEY = "sized_by"  # attribute naming the call that answered (kept on re-priced events)
SIZABLE_ACTIONS = frozenset({CostAction.START, CostAction.STOP, CostAction.DELETE})
MAX_IDS_PER_EVENT = 200  # a bigger call is sized in part (the rest stays priced on its shape)


@dataclass(frozen=True)
class Describer:
    resource_type: str
    api: str  # the IAM action (in onboarding.SIZING_ACTIONS, hence the reader role)
    service: str  # the boto3 client
    batch: int  # ids per call (filter values per call)
    sizing_keys: tuple[str, ...]  # any of these present: the event was sized, describing adds nothing
    pages: Callable[[Any, list[str]], Iterator[dict]]  # the call's pages for these ids
    read: Callable[[dict], Iterator[tuple[str, dict[str, Any]]]]  # one page -> (id, attributes)

    def describe(self, client: Any, ids: list[str]) -> tuple[dict[str, dict[str, Any]], int]:
        """({id: attributes} for the ids the account still has, calls made)."""
        found: dict[str, dict[str, Any]] = {}
        calls = 0
        for page in self.pages(client, ids):
            calls += 1
            for rid, attributes in self.read(page):
                if rid in ids:
                    found[rid] = {**_clean(attributes), SIZED_BY_KEY: self.api}
        return found, calls


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None and v != ""}


def _paginate(operation: str, filter_name: str) -> Callable[[Any, list[str]], Iterator[dict]]:
    def pages(client: Any, ids: list[str]) -> Iterator[dict]:
        paginator = client.get_paginator(operation)
        yield from paginator.paginate(Filters=[{"Name": filter_name, "Values": list(ids)}])

    return pages


def _instances(page: dict) -> Iterator[tuple[str, dict[str, Any]]]:
    for reservation in page.get("Reservations", []):
        for i in reservation.get("Instances", []):
            placement = i.get("Placement") or {}
            yield (
                i["InstanceId"],
                {
                    "instance_type": i.get("InstanceType"),
                    "tenancy": placement.get("Tenancy"),
                    "availability_zone": placement.get("AvailabilityZone"),
                    "platform": i.get("Platform"),
                    "market": "spot" if i.get("InstanceLifecycle") == "spot" else None,
                },
            )


def _volumes(page: dict) -> Iterator[tuple[str, dict[str, Any]]]:
    for v in page.get("Volumes", []):
        yield (
            v["VolumeId"],
            {
                "volume_type": v.get("VolumeType"),
                "size_gb": v.get("Size"),
                "iops": v.get("Iops"),
                "throughput": v.get("Throughput"),
                "availability_zone": v.get("AvailabilityZone"),
            },
        )


def _db_instances(page: dict) -> Iterator[tuple[str, dict[str, Any]]]:
    for d in page.get("DBInstances", []):
        yield (
            d["DBInstanceIdentifier"],
            {
                "instance_type": d.get("DBInstanceClass"),
                "engine": d.get("Engine"),
                "multi_az": d.get("MultiAZ"),
                "storage_gb": d.get("AllocatedStorage"),
                "storage_type": d.get("StorageType"),
                "iops": d.get("Iops"),
                "cluster": d.get("DBClusterIdentifier"),
            },
        )


# EC2 accepts up to 200 values per filter; RDS's db-instance-id filter is kept to 100 per call.
DESCRIBERS: dict[str, Describer] = {
    d.resource_type: d
    for d in (
        Describer(
            "ec2:instance",
            "ec2:DescribeInstances",
            "ec2",
            200,
            ("instance_type",),
            _paginate("describe_instances", "instance-id"),
            _instances,
        ),
        Describer(
            "ec2:volume",
            "ec2:DescribeVolumes",
            "ec2",
            200,
            ("volume_type", "size_gb"),
            _paginate("describe_volumes", "volume-id"),
            _volumes,
        ),
        Describer(
            "rds:db",
            "rds:DescribeDBInstances",
            "rds",
            100,
            ("instance_type",),
            _paginate("describe_db_instances", "db-instance-id"),
            _db_instances,
        ),
    )
}

SIZING_ACTIONS: tuple[str, ...] = tuple(sorted({d.api for d in DESCRIBERS.values()}))


def wanted(action: CostAction, resource_type: str, inherits: bool, attributes: dict, ids: list[str]) -> list[str]:
    """The ids to ask the account about for an unpriced event, or [] (nothing the account can
    answer: not a stop/start/delete, not a type we describe, or the size is known already)."""
    describer = DESCRIBERS.get(resource_type)
    if describer is None or not inherits or action not in SIZABLE_ACTIONS:
        return []
    if any(attributes.get(k) not in (None, "") for k in describer.sizing_keys):
        return []
    return sorted(dict.fromkeys(str(i) for i in ids if i))[:MAX_IDS_PER_EVENT]
