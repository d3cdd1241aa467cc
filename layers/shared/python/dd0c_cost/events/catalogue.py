"""The event catalogue, as data: one entry per (eventSource, eventName) saying how to read the
resource ids, the quantity and the sizing attributes, and which price applies.

Adding a billable API is adding an entry (and, for a new kind of price, a pricer) — never an
``if`` in the normaliser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dd0c_cost.events.models import CostAction, PriceQuote

# How a pricer turns (price book, region, attributes) into the price of one unit per hour.
Pricer = Callable[[object, str, Mapping[str, object]], PriceQuote]


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    event_source: str
    event_name: str
    service: str
    resource_type: str
    action: CostAction
    resource_ids: tuple[str, ...] = ()  # paths; the first that yields values wins
    quantity: tuple[str, ...] = ()  # paths to a number; default: number of resource ids, else 1
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> paths
    pricer: str | None = None  # key in PRICERS
    # Stop/delete calls don't repeat what was created: take the sizing from the resource's
    # earlier cost events (in event time) instead.
    inherit_attributes: bool = False


def _ec2_instance(book, region: str, attrs: Mapping[str, object]) -> PriceQuote:
    instance_type = attrs.get("instance_type")
    if not isinstance(instance_type, str):
        return PriceQuote(usd_per_hour=None, source="unknown", as_of="", estimated=False)
    return book.ec2_instance(region, instance_type)


PRICERS: Mapping[str, Pricer] = MappingProxyType({"ec2_instance": _ec2_instance})

_EC2 = "ec2.amazonaws.com"
_INSTANCE_IDS_RESPONSE = ("responseElements.instancesSet.items[*].instanceId",)
_INSTANCE_IDS_REQUEST = ("requestParameters.instancesSet.items[*].instanceId",)

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        _EC2,
        "RunInstances",
        service="ec2",
        resource_type="ec2:instance",
        action=CostAction.CREATE,
        resource_ids=_INSTANCE_IDS_RESPONSE,
        # With no response (redacted), assume the minimum that could have launched.
        quantity=("requestParameters.instancesSet.items[*].minCount",),
        attributes={
            "instance_type": ("requestParameters.instanceType", "responseElements.instancesSet.items[*].instanceType"),
            "tenancy": ("requestParameters.placement.tenancy", "requestParameters.tenancy"),
            "spot": ("requestParameters.instanceMarketOptions.marketType",),
            "image_id": ("requestParameters.instancesSet.items[*].imageId",),
            "availability_zone": ("responseElements.instancesSet.items[*].placement.availabilityZone",),
        },
        pricer="ec2_instance",
    ),
    CatalogueEntry(
        _EC2,
        "StartInstances",
        service="ec2",
        resource_type="ec2:instance",
        action=CostAction.START,
        resource_ids=_INSTANCE_IDS_REQUEST,
        pricer="ec2_instance",
        inherit_attributes=True,
    ),
    CatalogueEntry(
        _EC2,
        "StopInstances",
        service="ec2",
        resource_type="ec2:instance",
        action=CostAction.STOP,
        resource_ids=_INSTANCE_IDS_REQUEST,
        pricer="ec2_instance",
        inherit_attributes=True,
    ),
    CatalogueEntry(
        _EC2,
        "TerminateInstances",
        service="ec2",
        resource_type="ec2:instance",
        action=CostAction.DELETE,
        resource_ids=_INSTANCE_IDS_REQUEST,
        pricer="ec2_instance",
        inherit_attributes=True,
    ),
)

CATALOGUE: Mapping[tuple[str, str], CatalogueEntry] = MappingProxyType(
    {(e.event_source, e.event_name): e for e in ENTRIES}
)


def lookup(event_source: str, event_name: str) -> CatalogueEntry | None:
    return CATALOGUE.get((event_source, event_name))


def cost_relevant_event_names() -> dict[str, list[str]]:
    """eventSource -> eventNames, for the EventBridge rules that forward only what we price."""
    out: dict[str, list[str]] = {}
    for entry in ENTRIES:
        out.setdefault(entry.event_source, []).append(entry.event_name)
    return out
