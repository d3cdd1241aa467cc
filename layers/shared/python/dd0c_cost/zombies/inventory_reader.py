"""How a section reads AWS: one client per service, every request counted by its IAM action
(``Inventory.calls``), pagination where the operation has it; and the small conversions of
Describe answers into a ``Resource``'s fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dd0c_cost.zombies.models import utc

if TYPE_CHECKING:
    from dd0c_cost.zombies.inventory import Inventory

# boto3 service name -> IAM action prefix
IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "opensearch": "es"}


def tags_of(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in items or [] if t.get("Key") is not None}


def iso(value: Any) -> str | None:
    return utc(value).isoformat() if isinstance(value, datetime) else None


def time_of(value: Any) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


class Reader:
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
        return getattr(self.client(service), snake(operation))(**kwargs)

    def pages(self, service: str, operation: str, key: str, **kwargs) -> list[dict]:
        client = self.client(service)
        items: list[dict] = []
        if client.can_paginate(snake(operation)):
            for page in client.get_paginator(snake(operation)).paginate(**kwargs):
                self._count(service, operation)
                items.extend(page.get(key, []))
        else:
            self._count(service, operation)
            items.extend(getattr(client, snake(operation))(**kwargs).get(key, []))
        return items

    def _count(self, service: str, operation: str) -> None:
        action = f"{IAM_PREFIX.get(service, service)}:{operation}"
        self._inventory.calls[action] = self._inventory.calls.get(action, 0) + 1


def snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)


class DependsOn(Exception):
    def __init__(self, section: str) -> None:
        super().__init__(f"needs section {section!r}, which failed")
        self.section = section
