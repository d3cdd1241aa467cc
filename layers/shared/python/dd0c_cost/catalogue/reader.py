"""A catalogue entry and how it reads a CloudTrail record.

Reading a record (:meth:`CatalogueEntry.read`)
    ``resource_ids``: paths, the first that yields values wins (duplicates dropped).
    ``quantity``: paths to a number, used only when there are no resource ids; default: the
    number of resource ids, else 1. Not a finite non-negative number -> ignored (warning);
    above :data:`MAX_QUANTITY` -> clamped (warning).
    ``attributes``: name -> paths; the first scalar found. Numeric names (:data:`NUMERIC_LIMITS`)
    are coerced (``"10"`` -> 10) and clamped, boolean names (:data:`BOOLEANS`) accept
    ``"true"``/``"false"``; a value that cannot be coerced is dropped with a warning. Warnings
    go to ``attributes["input_warnings"]``.
    ``previous`` (modify only): name -> paths to the sizing *before* the call, where the record
    states it (e.g. RDS returns the current class with the new one pending).
    ``assume``: values the API uses when the call omits them, applied before inheritance.

Inheritance
    ``inherit_attributes``: stop/delete/modify calls rarely repeat the sizing; it is taken from
    the resource's latest earlier create/start/modify cost event (event time). ``inherit_from``
    names the resource to inherit from when it is not the call's own (a read replica inherits
    from its source instance).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from dd0c_cost.events.models import CostAction
from dd0c_cost.events.paths import Spec, compile_all, compile_first
from dd0c_cost.pricing.pricers import ASSUMED_KEY, PRICERS, Pricer

# Requests above this are clamped: MaxCount 100000 is a typo or an attack, never a real fleet.
MAX_QUANTITY = 10_000
WARNINGS_KEY = "input_warnings"
_MAX_TEXT = 256

# Numeric attributes and the largest value believed (anything above is clamped, with a warning).
NUMERIC_LIMITS: Mapping[str, float] = MappingProxyType(
    {
        "size_gb": 1_048_576,  # 1 PiB (a sum of volumes can exceed one volume's 64 TiB)
        "volume_size": 1_048_576,
        "iops": 1_000_000,
        "throughput": 100_000,
        "nodes": 10_000,
        "instance_count": 10_000,
        "master_count": 100,
        "warm_count": 10_000,
        "num_cache_clusters": 10_000,
        "shards": 1_000,
        "replicas": 100,
        "member_count": 10_000,
        "wcu": 10_000_000,
        "rcu": 10_000_000,
        "gsi_wcu": 10_000_000,
        "gsi_rcu": 10_000_000,
        "shard_count": 100_000,
        "concurrency": 1_000_000,
        "memory_mb": 10_240,
        "variants": 100,
        "brokers": 10_000,
        "desired_size": 10_000,
        "min_size": 10_000,
        "max_size": 10_000,
        "model_units": 10_000,
        "min_acu": 256,
        "spot_max_price": 10_000,
        "min_count": MAX_QUANTITY,
    }
)
BOOLEANS = frozenset({"multi_az", "master_enabled", "warm_enabled", "ebs_enabled"})


@dataclass(frozen=True, slots=True)
class Assumed:
    """An API default for an omitted value that is a guess about this call (the price becomes
    estimated and the name is listed in ``attributes["assumed"]``); not applied when the
    attribute named by ``unless`` is present (e.g. a launch template holds the real type)."""

    value: Any
    unless: str | None = None


class Reading(NamedTuple):
    """What an entry reads from one record."""

    resource_ids: list[str]
    quantity: float
    attributes: dict[str, Any]
    previous: dict[str, Any]
    warnings: list[str]
    inherit_ids: list[str]


def _coerce(name: str, value: Any, warnings: list[str]) -> Any:
    """The attribute value to keep (None: drop it)."""
    if isinstance(value, (dict, list)):
        return None
    limit = NUMERIC_LIMITS.get(name)
    if limit is not None:
        number = None if isinstance(value, bool) else _as_number(value)
        if number is None or number < 0:
            warnings.append(f"{name}: {str(value)[:40]!r} is not a non-negative number; ignored")
            return None
        if number > limit:
            warnings.append(f"{name}: {number:g} clamped to {limit:g}")
            number = float(limit)
        return int(number) if number.is_integer() else number
    if name in BOOLEANS:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        warnings.append(f"{name}: {str(value)[:40]!r} is not a boolean; ignored")
        return None
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        warnings.append(f"{name}: value longer than {_MAX_TEXT} characters truncated")
        return value[:_MAX_TEXT]
    return value


def _as_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True, eq=False)
class CatalogueEntry:
    event_source: str
    event_name: str
    service: str
    resource_type: str
    action: CostAction
    resource_ids: tuple[Spec, ...] = ()  # paths; the first that yields values wins
    quantity: tuple[Spec, ...] = ()  # paths to a number; default: number of resource ids, else 1
    attributes: Mapping[str, tuple[Spec, ...]] = field(default_factory=dict)  # name -> paths
    pricer: str | None = None  # key in PRICERS
    # Stop/delete/modify calls don't repeat what was created: take the sizing from the resource's
    # earlier cost events (in event time) instead.
    inherit_attributes: bool = False
    inherit_from: tuple[Spec, ...] = ()  # ids to inherit from, when not the call's own resource
    inherit_type: str | None = None  # their resource type, when not this entry's (then only priced names are kept)
    previous: Mapping[str, tuple[Spec, ...]] = field(default_factory=dict)  # modify: sizing before the call
    assume: Mapping[str, Any] = field(default_factory=dict)  # API defaults, applied before inheritance
    note: str = ""  # one line for docs/catalogue.md
    # compiled readers (derived from the fields above)
    # (set in __post_init__; no default, so they are never None)
    _ids: Callable[[Any], list] = field(init=False, repr=False, compare=False)
    _qty: Callable[[Any], Any] = field(init=False, repr=False, compare=False)
    _attrs: tuple = field(init=False, repr=False, compare=False, default=())
    _prev: tuple = field(init=False, repr=False, compare=False, default=())
    _inherit: Callable[[Any], list] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.pricer is not None and self.pricer not in PRICERS:
            raise ValueError(f"{self.event_source} {self.event_name}: unknown pricer {self.pricer!r}")
        if self.action is CostAction.MODIFY and not self.attributes:
            raise ValueError(f"{self.event_source} {self.event_name}: a modify entry needs attributes")
        object.__setattr__(self, "_ids", compile_all(tuple(self.resource_ids)))
        object.__setattr__(self, "_qty", compile_first(tuple(self.quantity)))
        object.__setattr__(self, "_attrs", tuple((n, compile_first(tuple(p))) for n, p in self.attributes.items()))
        object.__setattr__(self, "_prev", tuple((n, compile_first(tuple(p))) for n, p in self.previous.items()))
        object.__setattr__(self, "_inherit", compile_all(tuple(self.inherit_from)) if self.inherit_from else None)

    @property
    def price(self) -> Pricer | None:
        return PRICERS[self.pricer] if self.pricer else None

    @property
    def inherits_from_type(self) -> str:
        return self.inherit_type or self.resource_type

    def inheritable(self, inherited: Mapping[str, Any]) -> dict[str, Any]:
        """The inherited attributes this entry takes (another resource type: only what it prices)."""
        out = {k: v for k, v in inherited.items() if k != WARNINGS_KEY}
        if self.inherit_type and self.inherit_type != self.resource_type:
            priced = {k for part in (self.price.parts if self.price else ()) for k in part.depends}
            out = {k: v for k, v in out.items() if k in priced}
        return out

    def describes_change(self, record: dict) -> bool:
        """False for a modify call that touched no sizing attribute (e.g. deletion protection)."""
        if self.action is not CostAction.MODIFY:
            return True
        return any(read(record) is not None for _, read in self._attrs)

    def read(self, record: dict) -> Reading:  # noqa: C901 - ids, quantity, attributes, assumptions, previous and inheritance read in one pass; to be split into named readers (issue 8)
        warnings: list[str] = []
        ids: list[str] = []
        for value in self._ids(record):
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                text = str(value)[:_MAX_TEXT]
                if text not in ids:
                    ids.append(text)

        quantity: float | None = None
        if ids:
            quantity = float(len(ids))
        elif self.quantity:
            raw = self._qty(record)
            if raw is not None:
                quantity = None if isinstance(raw, bool) else _as_number(raw)
                if quantity is None or quantity < 0:
                    warnings.append(f"quantity: {str(raw)[:40]!r} is not a non-negative number; assumed 1")
                    quantity = None
                elif quantity > MAX_QUANTITY:
                    warnings.append(f"quantity: {quantity:g} clamped to {MAX_QUANTITY}")
                    quantity = float(MAX_QUANTITY)
        if quantity is None:
            quantity = 1.0

        attributes: dict[str, Any] = {}
        for name, read in self._attrs:
            value = read(record)
            if value is not None:
                value = _coerce(name, value, warnings)
                if value is not None:
                    attributes[name] = value
        assumed: list[str] = []
        for name, value in self.assume.items():
            if name in attributes:
                continue
            if isinstance(value, Assumed):
                if value.unless is not None and attributes.get(value.unless) is not None:
                    continue
                attributes[name] = value.value
                assumed.append(name)
            else:
                attributes[name] = value
        if assumed:
            attributes[ASSUMED_KEY] = assumed
        previous: dict[str, Any] = {}
        for name, read in self._prev:
            value = read(record)
            if value is not None:
                value = _coerce(name, value, warnings)
                if value is not None:
                    previous[name] = value

        if self._inherit is not None:
            inherit_ids = [
                str(v) for v in self._inherit(record) if isinstance(v, (str, int)) and not isinstance(v, bool)
            ]
        else:
            inherit_ids = ids
        return Reading(ids, quantity, attributes, previous, warnings, inherit_ids)
