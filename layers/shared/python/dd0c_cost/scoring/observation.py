"""What the scorer scores: a cost event sanitised into an ``Observation`` (or ``Ignored``,
with a reason, for input no real AWS bill could produce)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from dd0c_cost.events.models import CostAction, CostEvent

# Bad input. No single AWS resource costs more than ~$220/h (u-24tb1.metal); 1,000 leaves room.
MAX_UNIT_USD_PER_HOUR = 1_000.0
MAX_QUANTITY = 10_000.0  # the normaliser's clamp; above it a message is malformed
MAX_EVENT_USD_PER_HOUR = 250_000.0  # 10,000 resources x $25/h
VERBS = {
    CostAction.CREATE: "launched",
    CostAction.START: "started",
    CostAction.MODIFY: "resized",
    CostAction.STOP: "stopped",
    CostAction.DELETE: "deleted",
}
_INCREASES = {CostAction.CREATE, CostAction.START}
_MODIFY = CostAction.MODIFY


class Observation(NamedTuple):
    """A cost event after sanitising: finite numbers only, event time in epoch seconds."""

    event_id: str
    t: float
    x: float  # signed change of spend rate, $/h
    quantity: float
    unit_usd: float | None
    account_id: str
    region: str
    service: str
    resource_type: str
    actor_key: str  # role (session issuer) ARN, else principal ARN, else display name
    actor_name: str
    actor_arn: str | None
    instance_type: str | None
    family: str | None
    resource_ids: tuple[str, ...]
    verb: str
    note: str | None = None  # set when something was clamped

    @property
    def series_key(self) -> str:
        return f"{self.account_id}:{self.resource_type}"


_new_observation = tuple.__new__


class Ignored(NamedTuple):
    """A cost event the scorer cannot use: a reason code (metric) and a sentence (log)."""

    code: str
    detail: str


def event_epoch(when: datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def actor_key_of(event: CostEvent) -> str:
    a = event.actor
    return a.session_issuer_arn or a.principal_arn or a.display_name


@lru_cache(maxsize=4096)
def family_of(instance_type: str | None) -> str | None:
    if not instance_type or "." not in instance_type:
        return None
    return instance_type.rsplit(".", 1)[0].lower()


def _finite(v: Any) -> bool:
    # CostEvent's validation guarantees floats (or None); NaN and +-inf are still possible
    return v is not None and v - v == 0.0


def sanitize(event: CostEvent) -> Observation | Ignored:
    """Explicit handling of bad numbers: ignored (with a reason) or clamped (noted), never raised."""
    x = event.estimated_usd_per_hour
    if x is None:
        return Ignored("price_unknown", "no price for this resource: nothing to score")
    if x - x != 0.0:  # NaN or +-inf (finite checks inline: this runs once per event)
        return Ignored("non_finite_price", f"estimated_usd_per_hour is {x!r}: ignored")
    q = event.quantity
    if q is None or q - q != 0.0 or q < 0:
        return Ignored("bad_quantity", f"quantity is {q!r}: ignored")
    action = event.action
    # create/start add spend, stop/delete remove it; a modify is priced as the change (either sign)
    if action is not _MODIFY and ((x < 0) if action in _INCREASES else (x > 0)):
        return Ignored(
            "sign_mismatch",
            f"{action.value} with a {'negative' if x < 0 else 'positive'} "
            f"rate change ({x!r} $/h) contradicts itself: ignored",
        )
    if q > MAX_QUANTITY:
        # The normaliser clamps requests at 10,000; more than that here is a malformed message.
        return Ignored("absurd_quantity", f"quantity {q:g} exceeds {MAX_QUANTITY:g}: ignored")
    note = None
    unit = None
    quote = event.unit_price
    if quote is not None and _finite(quote_usd := quote.usd_per_hour):
        unit = abs(float(quote_usd))
    elif q > 0:
        unit = abs(x) / q
    if unit is not None and unit > MAX_UNIT_USD_PER_HOUR:
        return Ignored("absurd_price", f"unit price ${unit:,.2f}/h exceeds ${MAX_UNIT_USD_PER_HOUR:,.0f}/h: ignored")
    if q > 0 and abs(x) > MAX_UNIT_USD_PER_HOUR * q:
        return Ignored(
            "absurd_price",
            f"${abs(x):,.2f}/h for {q:g} resources exceeds ${MAX_UNIT_USD_PER_HOUR:,.0f}/h each: ignored",
        )
    if abs(x) > MAX_EVENT_USD_PER_HOUR:
        x = math.copysign(MAX_EVENT_USD_PER_HOUR, x)
        note = f"rate change clamped to ${MAX_EVENT_USD_PER_HOUR:,.0f}/h"
    return _observed(event, float(x), float(q), unit, VERBS[action], note)


def _observed(event: CostEvent, x: float, q: float, unit: float | None, verb: str, note: str | None) -> Observation:
    it = event.attributes.get("instance_type")
    it = it if isinstance(it, str) and it else None
    actor = event.actor
    # (tuple.__new__: the fields in their order, without the named tuple's Python-level __new__)
    return _new_observation(
        Observation,
        (
            event.event_id,
            event_epoch(event.event_time),
            x,
            q,
            unit,
            event.account_id,
            event.region,
            event.service,
            event.resource_type,
            actor_key_of(event),
            actor.display_name,
            actor.principal_arn,
            it,
            family_of(it),
            tuple(event.resource_ids),
            verb,
            note,
        ),
    )
