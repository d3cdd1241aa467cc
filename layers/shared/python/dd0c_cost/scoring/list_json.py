"""A new anomaly's ``list_json`` (the anomaly list's row but its ticket's fields), written by the scorer.

``dd0c.anomaly_list_json`` (migrations 026, 027) writes it in PL/pgSQL for any writer that leaves it out;
that cost the scoring backend about a millisecond per new anomaly (its attributes are walked by recursive
PL/pgSQL calls). The scorer writes the same text from the values it inserts, with ``json.dumps``, for the
values whose path through PostgreSQL it can follow exactly: text PostgreSQL would write (printable ASCII
without quotes or backslashes where the function requires it), scores, $/h and component values in the
function's ranges, and attributes made only of strings, booleans, None, integers and floats that orjson
writes without an exponent and ``dd0c.json_float`` writes as ``repr``. Anything else is left to the
trigger (``None``), which writes it (or NULL) as before. ``tests/integration/test_scoring_list_json.py``
compares the two on every kind of value.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import orjson

from dd0c_cost.scoring.models import Anomaly

_MAX_DEPTH = 20  # dd0c.json_python's limit
# a string as json.dumps writes it (ensure_ascii): the function json.dumps itself calls for a str
_string = json.encoder.encode_basestring_ascii
_LITERALS = {True: "true", False: "false", None: "null"}


class _NotPlain(Exception):
    """A value the scorer leaves to PostgreSQL."""


def list_json(
    anomaly: Anomaly,
    *,
    withheld: str | None = None,
    delivery_status: str | None = None,
    delivery_detail: str | None = None,
) -> str | None:
    """The row's ``list_json`` as ``dd0c.anomaly_list_json`` writes it for the anomaly and the row's delivery
    columns (a new anomaly's by default: none yet), or None to leave it to PostgreSQL."""
    a = anomaly
    delivery = (withheld or "", delivery_status or "", delivery_detail or "")
    text = "".join(
        (a.account_id, a.region, a.service, a.resource_type, a.actor, *a.resource_ids, *a.event_ids, *delivery)
    )
    usd = a.estimated_hourly_usd
    if not _plain(text) or type(a.score) is not float or not _fraction(a.score):
        return None
    if type(usd) is not float or not (usd == 0 or 1e-4 <= abs(usd) < 1e14):
        return None
    when = _time(a.detected_at)
    snoozed = "null" if a.snoozed_until is None else _time(a.snoozed_until)
    if when is None or snoozed is None:
        return None
    try:
        components = ",".join(_component(c.name, c.value, c.reason) for c in a.components)
        attributes = _value(a.attributes, 0)
    except _NotPlain:
        return None
    head = json.dumps(
        {
            "id": str(a.id),
            "tenant_id": str(a.tenant_id),
            "account_id": a.account_id,
            "region": a.region,
            "service": a.service,
            "resource_type": a.resource_type,
            "resource_ids": a.resource_ids,
            "event_ids": a.event_ids,
            "actor": a.actor,
            "detected_at": when,
            "score": a.score,
            "severity": a.severity.value,
            "estimated_hourly_usd": usd,
            "status": a.status.value,
            "summary": a.summary,
        },
        separators=(",", ":"),
    )
    if snoozed != "null":
        snoozed = f'"{snoozed}"'
    return (
        f'{head[:-1]},"components":[{components}],"attributes":{attributes},"snoozed_until":{snoozed},'
        f'"notify_withheld":{_quoted(withheld)},"delivery_status":"{delivery_status or "pending"}",'
        f'"delivery_detail":{_quoted(delivery_detail)}'
    )


def _quoted(text: str | None) -> str:
    """Plain text (``_plain``) as the function quotes it, or null."""
    return "null" if text is None else f'"{text}"'


def _plain(text: str) -> bool:
    """Printable ASCII without quotes or backslashes (the function's ``^[] !#-[^-~]*$``)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _fraction(value: float) -> bool:
    """A float dd0c.anomaly_list_json writes as repr: 0, or in [1e-4, 1]."""
    return value == 0 or 1e-4 <= value <= 1


def _time(when: datetime) -> str | None:
    """As the function writes a timestamptz: UTC, microseconds only when there are any."""
    if when.tzinfo is None:
        return None
    utc = when.astimezone(UTC)
    if not 1000 <= utc.year <= 9999:
        return None
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{utc.microsecond:06d}Z" if utc.microsecond else f"{text}Z"


def _component(name: str, value: float, reason: str) -> str:
    if type(value) is not float or not _fraction(value) or math.copysign(1.0, value) < 0:  # jsonb: -0.0 is 0
        raise _NotPlain
    return f'{{"name":{_string(name)},"value":{value!r},"reason":{_string(reason)}}}'


def _float(value: float) -> str:
    """A float as json.dumps writes it, when its way through orjson, jsonb's numeric and float8 keeps it."""
    if type(value) is not float or not math.isfinite(value) or (math.copysign(1.0, value) < 0 and value == 0):
        raise _NotPlain
    if not (value == 0 or 1e-4 <= abs(value) < 1e15) or b"e" in orjson.dumps(value):
        raise _NotPlain
    return repr(value)


def _value(value: Any, depth: int) -> str:
    """An attribute value as ``dd0c.json_python`` writes the jsonb that orjson's text of it becomes: objects
    with their keys in jsonb's order (shorter first, then by their UTF-8 bytes)."""
    if depth > _MAX_DEPTH:
        raise _NotPlain
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is bool or value is None:
        return _LITERALS[value]
    if kind is int:
        if not -(2**63) <= value < 2**64:  # orjson refuses it: the insert fails as before
            raise _NotPlain
        return str(value)
    if kind is float:
        return _float(value)
    if kind is list:
        return "[" + ",".join(_value(v, depth + 1) for v in value) + "]"
    if kind is dict:
        if any(type(k) is not str for k in value):
            raise _NotPlain
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ",".join(f"{_string(k)}:{_value(value[k], depth + 1)}" for k in keys) + "}"
    raise _NotPlain
