"""The anomalies a scoring transaction raises or grows: collected per anomaly while its events are
scored (``Pending``), then written once each: new ones by one INSERT per tenant in the transaction's
last round trip, grown ones by an UPDATE each before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from psycopg import pq

from dd0c_cost.db.connection import Connection
from dd0c_cost.db.one_trip import Statement
from dd0c_cost.events.models import CostEvent
from dd0c_cost.scoring import store
from dd0c_cost.scoring.batch import text_array
from dd0c_cost.scoring.combination import as_components, render
from dd0c_cost.scoring.components import Part
from dd0c_cost.scoring.engine import burst_summary
from dd0c_cost.scoring.list_json import list_json
from dd0c_cost.scoring.models import Anomaly, ScoreComponent, Severity
from dd0c_cost.scoring.observation import Observation
from dd0c_cost.scoring.results import ScoreResult

MAX_ANOMALY_EVENT_IDS = 1_000
MAX_ANOMALY_RESOURCE_IDS = 2_000


@dataclass
class Pending:
    """An anomaly created or grown in this transaction (written once at the end)."""

    anomaly_id: str
    created: bool
    event: CostEvent
    obs: Observation
    burst: dict[str, Any]
    score: float
    components: tuple[ScoreComponent, ...]
    severity: Severity
    parts: tuple[Part, ...] = ()  # the last touching event's components (their reasons rendered by ``finish``)
    bump: bool = False
    event_ids: list[str] = field(default_factory=list)
    resource_ids: list[str] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # events (of this transaction) that touched it
    # Each touching event's attributes merged in order, as the row's ``attributes || new`` does one
    # transaction at a time: so the anomaly does not depend on how events were batched (``touch``).
    attributes: dict[str, Any] = field(default_factory=dict)

    def touch(self) -> None:
        """Merge in the attributes of the event now touching the anomaly (``self.event``): its own, and the
        burst's keys, which every touching event sets, as placeholders that ``finish`` fills in."""
        b = self.burst
        attrs = self.attributes
        attrs.update((k, v) for k, v in self.event.attributes.items() if k != "instance_type")
        attrs.update(_BURST_PLACEHOLDERS)
        types = b["ty"]
        if len(types) == 1 and self.obs.instance_type:
            attrs["instance_type"] = next(iter(types))
        if b.get("pu"):  # scored on its shape: the $/h is unknown, not 0
            attrs["price_unknown"] = True
            attrs["price_unknown_reason"] = b["pu"]

    def finish(self) -> None:
        """After the last touching event: the burst's attributes as it left them, and the components
        with their reasons (the burst is not changed again after its anomaly's last touch: any event that
        joins it touches the anomaly; the reasons read only values captured when they were scored)."""
        self.attributes.update(_burst_attributes(self))
        self.components = as_components(render(self.parts))


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _burst_attributes(p: Pending) -> dict[str, Any]:
    """The attributes every touching event sets, as the burst and the latest event leave them."""
    b = p.burst
    return {
        "quantity": b["q"],
        "actor_name": b["nm"],
        "actor_key": p.obs.actor_key,
        "event_time": p.event.event_time.isoformat(),
        "first_event_time": _ts(b["t0"]).isoformat(),
        "burst_events": b["n"],
        "regions": list(b["rg"]),
        "families": list(b["fam"]),
        "instance_types": dict(b["ty"]),
    }


_BURST_PLACEHOLDERS = dict.fromkeys(
    ("quantity", "actor_name", "actor_key", "event_time", "first_event_time", "burst_events", "regions", "families")
    + ("instance_types",)
)


def anomaly_of(p: Pending) -> Anomaly:
    b = p.burst
    return Anomaly(
        id=UUID(p.anomaly_id),
        tenant_id=p.event.tenant_id,
        account_id=p.event.account_id,
        region=b["rg"][0] if b["rg"] else p.event.region,
        service=p.event.service,
        resource_type=p.event.resource_type,
        resource_ids=p.resource_ids[:MAX_ANOMALY_RESOURCE_IDS],
        event_ids=p.event_ids[:MAX_ANOMALY_EVENT_IDS],
        actor=b["arn"] or b["nm"],
        detected_at=p.event.event_time,
        score=p.score,
        severity=p.severity,
        estimated_hourly_usd=round(b["u"], 6),
        summary=burst_summary(b, p.event.account_id),
        components=list(p.components),
        attributes=p.attributes,
    )


def assign(results: list, p: Pending, anomaly: Anomaly, *, revision: int, notify: bool) -> None:
    """Every event that touched the anomaly gets it; the last one carries the notification."""
    last = p.indexes[-1]
    for i in p.indexes:
        prev = results[i]
        outcome = "anomaly" if (p.created and i == p.indexes[0]) else "grouped"
        results[i] = ScoreResult(
            anomaly,
            revision=revision,
            needs_notify=notify and i == last,
            outcome=outcome,
            score=prev.score,
            values=prev.values,
            components=p.components,
        )


# ------------------------------------------------------------------------------------ grown
_DELIVERY = ("notify_withheld", "delivery_status", "delivery_detail")
_GROW = f"""UPDATE dd0c.anomalies SET
        event_ids = CASE WHEN cardinality(event_ids) < {MAX_ANOMALY_EVENT_IDS}
                         THEN (event_ids || %(event_ids)s::text[])[1:{MAX_ANOMALY_EVENT_IDS}] ELSE event_ids END,
        resource_ids = CASE WHEN cardinality(resource_ids) < {MAX_ANOMALY_RESOURCE_IDS}
                            THEN (resource_ids || %(resource_ids)s::text[])[1:{MAX_ANOMALY_RESOURCE_IDS}]
                            ELSE resource_ids END,
        detected_at = GREATEST(detected_at, %(detected_at)s),
        score = %(score)s, severity = %(severity)s, estimated_hourly_usd = %(usd)s, summary = %(summary)s,
        components = %(components)s::jsonb, attributes = attributes || %(attributes)s::jsonb,
        revision = revision + CASE WHEN %(bump)s AND status IN ('open', 'acknowledged') THEN 1 ELSE 0 END,
        updated_at = now()
    WHERE id = %(id)s
    RETURNING {store._ANOMALY_COLUMNS}, revision, notified_revision, {", ".join(_DELIVERY)}"""
# The grown row's list_json (migration 030: the scorer's transaction writes it for the rows it grows): the
# scorer's text, or where it cannot write it exactly, the function's.
SET_LIST_JSON = (
    b"UPDATE dd0c.anomalies SET list_json = coalesce($2::text, dd0c.anomaly_list_json(id, tenant_id, account_id, "
    b"region, service, resource_type, resource_ids, event_ids, actor, detected_at, score, severity, "
    b"estimated_hourly_usd, status, summary, components, attributes, snoozed_until, notify_withheld, "
    b"delivery_status, delivery_detail)) WHERE id = $1::uuid"
)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def grow(conn: Connection, p: Pending) -> tuple[Anomaly, int, int, Statement] | None:
    """Grow the anomaly's row: the anomaly as stored, its revision and notified revision, and the statement
    writing its ``list_json`` (``SET_LIST_JSON``, sent in the transaction's last round trip); None if the row
    is gone (deleted by an operator)."""
    a = anomaly_of(p)
    row = conn.execute(
        _GROW,
        {
            "id": a.id,
            "event_ids": p.event_ids,
            "resource_ids": p.resource_ids,
            "detected_at": a.detected_at,
            "score": a.score,
            "severity": a.severity.value,
            "usd": a.estimated_hourly_usd,
            "summary": a.summary,
            "components": _json([c.model_dump() for c in a.components]),
            "attributes": _json(a.attributes),
            "bump": p.bump,
        },
    ).fetchone()
    if row is None:
        return None
    revision, notified = row.pop("revision"), row.pop("notified_revision")
    withheld, status, detail = (row.pop(k) for k in _DELIVERY)
    grown = Anomaly.model_validate(row)
    text = list_json(grown, withheld=withheld, delivery_status=status, delivery_detail=detail)
    written = Statement(SET_LIST_JSON, [str(grown.id).encode(), None if text is None else text.encode()])
    return grown, revision, notified, written


# ------------------------------------------------------------------------------------ new
# The columns a new anomaly is written with (the others keep their defaults): one INSERT per
# tenant and transaction, in the transaction's last round trip.
_NEW_ANOMALY_COLUMNS = (
    "id, tenant_id, account_id, region, service, resource_type, resource_ids, event_ids, actor, detected_at, "
    "score, severity, estimated_hourly_usd, status, summary, components, attributes"
)
_NEW_ANOMALY_FIELDS = set(_NEW_ANOMALY_COLUMNS.split(", ")) - {"components"}
_NEW_ANOMALY_INSERT = f"{_NEW_ANOMALY_COLUMNS}, list_json"
# As jsonb, the rows are parsed once (as json they were checked by json_in, read again by
# json_populate_recordset, and their components and attributes parsed a third time into their jsonb columns).
# Each row's list_json comes apart, as a binary text[] in the rows' order: a JSON string inside the jsonb, it was
# lexed character by character (half of the argument's bytes, every quote escaped) only to be taken out again.
_INSERT_NEW = (
    f"INSERT INTO dd0c.anomalies ({_NEW_ANOMALY_INSERT}) SELECT {_NEW_ANOMALY_COLUMNS}, ($2::text[])[ordinality] "
    "FROM jsonb_populate_recordset(NULL::dd0c.anomalies, $1::jsonb) WITH ORDINALITY"
).encode()
_INSERT_FORMATS = (pq.Format.TEXT, pq.Format.BINARY)


def insert_new(anomalies: list[Anomaly]) -> Statement:
    """The statement writing a tenant's new anomalies (one per tenant and transaction): JSON rows of
    the values ``store.insert_anomaly`` writes, and each row's ``list_json`` where the scorer can write it
    exactly (``scoring/list_json.py``; PostgreSQL writes the others: migration 027)."""
    rows = [
        {
            **a.model_dump(include=_NEW_ANOMALY_FIELDS, mode="json"),
            "components": [c.model_dump() for c in a.components],
        }
        for a in anomalies
    ]
    texts = text_array().dump([list_json(a) for a in anomalies])
    return Statement(_INSERT_NEW, [orjson.dumps(rows), texts], formats=_INSERT_FORMATS)


# ------------------------------------------------------------------------------------ redelivered
def redelivered(conn: Connection, events: Sequence[CostEvent], indexes: list[int], results: list) -> None:
    """Events already scored: if they raised or grew an anomaly that was never posted, hand it on
    again, so a crash between commit and send loses nothing."""
    rows = conn.execute(
        f"""SELECT {store._ANOMALY_COLUMNS}, revision, notified_revision FROM dd0c.anomalies
            WHERE event_ids && %s::text[]""",
        [[events[i].event_id for i in indexes]],
    ).fetchall()
    found = []
    for row in rows:
        revision, notified = row.pop("revision"), row.pop("notified_revision")
        found.append((Anomaly.model_validate(row), revision, notified))
    for i in indexes:
        match = next((f for f in found if events[i].event_id in f[0].event_ids), None)
        if match and match[2] < match[1]:
            results[i] = ScoreResult(
                match[0], revision=match[1], needs_notify=True, already_scored=True, outcome="already_scored"
            )
        else:
            results[i] = ScoreResult(None, already_scored=True, outcome="already_scored")
