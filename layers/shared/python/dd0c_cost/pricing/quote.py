"""What a pricer is made of: quotes, their sum, and the parts that read a resource's attributes.

Kept apart from the parts themselves so that code needing only the shapes (the normaliser's
``to_price_quote``, the scorer's ``NO_PRICE_REASONS``) does not load every service's pricing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from dd0c_cost.events.models import PriceQuote

# Attributes whose value is an API default the record did not state (the price becomes estimated);
# the catalogue's reader lists them under this key.
ASSUMED_KEY = "assumed"


# --- prices ------------------------------------------------------------------------------------


class Quote(NamedTuple):
    """A part's price per unit-hour (internal; becomes a PriceQuote)."""

    usd: float | None
    source: str
    as_of: str
    estimated: bool


UNKNOWN = Quote(None, "unknown", "", False)


def zero(reason: str) -> Quote:
    """A known $0/h: the resource has no standing charge of its own (reason says why)."""
    return Quote(0.0, f"catalogue;{reason}", "", False)


def from_book(pq: PriceQuote, times: float = 1.0, *, estimated: bool = False, note: str | None = None) -> Quote:
    """The book's rate times ``times`` (units of the resource), with a note on how it was read."""
    if pq.usd_per_hour is None:
        return UNKNOWN
    source = pq.source if note is None else f"{pq.source};{note}"
    return Quote(pq.usd_per_hour * times, source, pq.as_of, pq.estimated or estimated)


def combine(quotes: list[Quote]) -> Quote:
    """The sum of parts: unknown if any part is; sources of the priced parts, the oldest data's date."""
    usd = 0.0
    sources: list[str] = []
    as_of = ""
    estimated = False
    for q in quotes:
        if q.usd is None:
            return UNKNOWN
    priced = [q for q in quotes if q.usd or not q.source.startswith("catalogue;")] or quotes
    for q in quotes:
        usd += q.usd  # type: ignore[operator]  # none is None: checked above
        if q in priced and q.source and q.source not in sources:
            sources.append(q.source)
        if q.as_of and (not as_of or q.as_of < as_of):
            as_of = q.as_of  # the oldest data behind the price
        estimated = estimated or q.estimated
    return Quote(usd, "+".join(sources) or "catalogue", as_of, estimated)


def to_price_quote(q: Quote) -> PriceQuote:
    # Validated (pydantic-core validation is faster than model_construct for a small model).
    return PriceQuote(
        usd_per_hour=None if q.usd is None else float(f"{q.usd:.12g}"),  # drop float noise (0.1+0.2)
        source=q.source,
        as_of=q.as_of,
        estimated=q.estimated,
        unit="hour",
    )


def number(a: Mapping[str, Any], key: str) -> float | None:
    """A finite, non-negative number attribute (numbers arrive as strings too), else None."""
    v = a.get(key)
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f >= 0 else None


def text(a: Mapping[str, Any], key: str) -> str | None:
    """A non-blank string attribute, stripped, else None."""
    v = a.get(key)
    return v.strip() if isinstance(v, str) and v.strip() else None


def flag(a: Mapping[str, Any], key: str) -> bool | None:
    """A boolean attribute (or \"true\"/\"false\"), else None."""
    v = a.get(key)
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    return None


PartFn = Callable[[Any, str, Mapping[str, Any]], Quote]


@dataclass(frozen=True, slots=True)
class Part:
    """One priced dimension of a resource and the attributes it depends on."""

    depends: tuple[str, ...]
    fn: PartFn


@dataclass(frozen=True, slots=True)
class Pricer:
    """Price of one unit of a resource per hour, as a sum of parts.

    ``price_source=False``: no licensed price source exists for this service; always unknown.
    ``change_applies_at_start``: a modify that AWS only allows on a stopped resource (EC2
    instance type); its own price change is $0 and the new size is priced at the next start.
    """

    name: str
    parts: tuple[Part, ...]
    price_source: bool = True
    change_applies_at_start: bool = False

    def quote(self, book, region: str, attrs: Mapping[str, Any]) -> Quote:
        if not self.price_source:
            return UNKNOWN
        if len(self.parts) == 1:
            q = self.parts[0].fn(book, region, attrs)
        else:
            q = combine([p.fn(book, region, attrs) for p in self.parts])
        if attrs.get(ASSUMED_KEY) and q.usd is not None and not q.estimated:
            q = q._replace(estimated=True)
        return q

    def change(self, book, region: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Quote:
        """Price of (after - before), part by part; parts whose attributes did not change add 0."""
        if not self.price_source:
            return UNKNOWN
        if self.change_applies_at_start:
            return zero("resize-of-stopped-resource-priced-at-next-start")
        deltas: list[Quote] = []
        for part in self.parts:
            if all(before.get(k) == after.get(k) for k in part.depends):
                continue
            new = part.fn(book, region, after)
            old = part.fn(book, region, before)
            if new.usd is None or old.usd is None:
                return UNKNOWN
            as_of = min((d for d in (new.as_of, old.as_of) if d), default="")
            deltas.append(Quote(new.usd - old.usd, new.source, as_of, new.estimated or old.estimated))
        if not deltas:
            return zero("no-priced-dimension-changed")
        q = combine(deltas)
        if after.get(ASSUMED_KEY) and q.usd is not None and not q.estimated:
            q = q._replace(estimated=True)
        return q

    def __call__(self, book, region: str, attrs: Mapping[str, Any]) -> PriceQuote:
        return to_price_quote(self.quote(book, region, attrs))


# --- parts ---------------------------------------------------------------------------------------
