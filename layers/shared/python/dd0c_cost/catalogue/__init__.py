"""The event catalogue, as data: one entry per (eventSource, eventName) saying how to read the
resource ids, the quantity and the sizing attributes, and which price applies.

Adding a billable API is adding an entry (and, for a new kind of price, a pricer) — never an
``if`` in the normaliser. How to add one, the pricers and the estimated/unknown rules:
docs/catalogue.md.

- ``entries/``: the entries, one module per service family;
- ``reader``: :class:`CatalogueEntry` and how it reads a record (ids, quantity, attributes,
  inheritance);
- ``dd0c_cost.pricing.pricers``: the pricers entries name;
- ``patterns``: the EventBridge patterns built from the entries.

The public face is :func:`lookup` and :data:`CATALOGUE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dd0c_cost.catalogue.entries import ENTRIES
from dd0c_cost.catalogue.patterns import (
    CLOUDTRAIL_API_CALL,
    VERSION_SUFFIXED_SOURCES,
    cost_relevant_event_names,
    event_patterns,
)
from dd0c_cost.catalogue.reader import (
    BOOLEANS,
    MAX_QUANTITY,
    NUMERIC_LIMITS,
    WARNINGS_KEY,
    Assumed,
    CatalogueEntry,
    Reading,
)
from dd0c_cost.pricing.quote import ASSUMED_KEY

CATALOGUE: Mapping[tuple[str, str], CatalogueEntry] = MappingProxyType(
    {(e.event_source, e.event_name): e for e in ENTRIES}
)
if len(CATALOGUE) != len(ENTRIES):  # pragma: no cover - a data error caught at import
    raise ValueError("duplicate (eventSource, eventName) in the catalogue")


def lookup(event_source: str, event_name: str) -> CatalogueEntry | None:
    return CATALOGUE.get((event_source, event_name))


__all__ = [
    "ASSUMED_KEY",
    "BOOLEANS",
    "CATALOGUE",
    "CLOUDTRAIL_API_CALL",
    "ENTRIES",
    "MAX_QUANTITY",
    "NUMERIC_LIMITS",
    "VERSION_SUFFIXED_SOURCES",
    "WARNINGS_KEY",
    "Assumed",
    "CatalogueEntry",
    "Reading",
    "cost_relevant_event_names",
    "event_patterns",
    "lookup",
]
