"""What every entries module shares: the action shorthands and the entry constructor."""

from __future__ import annotations

from typing import Any

from dd0c_cost.catalogue.reader import CatalogueEntry
from dd0c_cost.events.models import CostAction

C, S, M, P, D = CostAction.CREATE, CostAction.START, CostAction.MODIFY, CostAction.STOP, CostAction.DELETE


def e(source: str, name: str, service: str, resource_type: str, action: CostAction, **kw: Any) -> CatalogueEntry:
    return CatalogueEntry(source, name, service=service, resource_type=resource_type, action=action, **kw)
