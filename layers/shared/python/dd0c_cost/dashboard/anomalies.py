"""Anomaly list (filters, keyset cursor, sort) and detail (events, timeline, links, audit trail)."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from uuid import UUID

import orjson
from psycopg.rows import tuple_row
from pydantic import ConfigDict, TypeAdapter

from dd0c_cost.dashboard.models import AnomalyPage, AnomalyRow, AuditEntryView
from dd0c_cost.db.connection import Connection, tenant_read
from dd0c_cost.db.one_trip import tenant_rows
from dd0c_cost.scoring.models import AnomalyStatus, Severity
from dd0c_cost.scoring.store import _ANOMALY_COLUMNS

MAX_PAGE = 200
# What became of the alert (Slack delivery) and its ticket: row columns, and one unique-index
# lookup per ticket column, computed for the page's rows only (after the LIMIT).
_TICKET = (
    "(SELECT t.{} FROM dd0c.tickets t WHERE t.tenant_id = dd0c.anomalies.tenant_id"
    " AND t.subject_kind = 'anomaly' AND t.subject_id = dd0c.anomalies.id::text)"
)
_STATE_COLUMNS = "coalesce(delivery_status, 'pending') AS delivery_status, delivery_detail, " + ", ".join(
    f"{_TICKET.format(c)} AS ticket_{n}"
    for c, n in (("status", "status"), ("external_key", "key"), ("external_url", "url"))
)
_STATE_NAMES = ["delivery_status", "delivery_detail", "ticket_status", "ticket_key", "ticket_url"]
# the list's columns; the JSON page reads ids and jsonb as text (orjson parses jsonb faster than psycopg's json)
_ROW_COLUMNS = f"{_ANOMALY_COLUMNS}, notify_withheld"
_JSON_ROW_COLUMNS = _ROW_COLUMNS.replace("id, tenant_id", "id::text, tenant_id::text").replace(
    "components, attributes", "components::text, attributes::text"
)
assert _JSON_ROW_COLUMNS.count("::text") == 4
_LIST_COLUMNS = f"{_ROW_COLUMNS}, {_STATE_COLUMNS}"
_JSON_LIST_COLUMNS = f"{_JSON_ROW_COLUMNS}, {_STATE_COLUMNS}"
_SORT_COLUMNS = {"detected_at": "detected_at", "estimated_hourly_usd": "estimated_hourly_usd", "score": "score"}


class BadQuery(ValueError):
    """A filter, sort or cursor the API refuses (400), with the field it concerns."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()  # resource type, e.g. ec2:instance
    actor: str | None = None  # substring, case-insensitive
    since: datetime | None = None
    until: datetime | None = None


def encode_cursor(sort: str, value, anomaly_id: UUID | str) -> str:
    """``anomaly_id`` as a UUID or its canonical text (as PostgreSQL writes it)."""
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = orjson.dumps([sort, value, str(anomaly_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[object, UUID]:
    try:
        if len(cursor) > 400:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, anomaly_id = orjson.loads(raw)
        anomaly_id = UUID(anomaly_id)
        if cursor_sort != sort:
            raise BadQuery("cursor", f"the cursor was made for sort={cursor_sort}; repeat the same sort")
        if sort.lstrip("-") == "detected_at":
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int | float):
            raise ValueError("bad value")
        return value, anomaly_id
    except BadQuery:
        raise
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadQuery("cursor", "the cursor is not one this API issued") from None


def _page_query(
    filters: Filters, sort: str, limit: int, cursor: str | None, columns: str = _LIST_COLUMNS
) -> tuple[str, list[object], str]:
    """The page's SQL (keyset on ``(sort column, id)``, ``limit + 1`` rows), its parameters and the sort column."""
    column = _SORT_COLUMNS.get(sort.lstrip("-"))
    if column is None:
        raise BadQuery("sort", f"sort is one of {', '.join(sorted(_SORT_COLUMNS))}, with '-' for descending")
    actor = filters.actor and "%" + filters.actor.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    any_of = (filters.status, filters.severity, filters.account, filters.service, filters.kind)
    given: list[tuple[str, object]] = [(name, list(v)) for name, v in zip(_ANY_COLUMNS, any_of, strict=True)]
    given += [("actor", actor), ("since", filters.since), ("until", filters.until)]
    present = [name for name, value in given if value]
    params: list[object] = [value for _, value in given if value]
    if cursor:
        present.append("cursor")
        params.extend(decode_cursor(cursor, sort))
    return _page_sql(columns, sort, int(limit), tuple(present)), params, column


_ANY_COLUMNS = ("status", "severity", "account_id", "service", "resource_type")
_CLAUSES = {
    **{name: f"{name} = ANY(%s)" for name in _ANY_COLUMNS},
    "actor": "actor ILIKE %s",
    "since": "detected_at >= %s",
    "until": "detected_at < %s",
}


@functools.lru_cache(maxsize=512)
def _page_sql(columns: str, sort: str, limit: int, present: tuple[str, ...]) -> str:
    """The text of a page's statement: the same for every page of one shape (made once: the text is long)."""
    column = _SORT_COLUMNS[sort.lstrip("-")]
    descending = sort.startswith("-")
    clauses = [_CLAUSES[name] for name in present if name != "cursor"]
    if "cursor" in present:
        # keyset: rows strictly after (value, id). The values through a sub-select and the limit in the text: the
        # plan's estimate is the same whatever they are, so a prepared page keeps its generic plan (decision 90)
        clauses.append(f"({column}, id) {'<' if descending else '>'} (SELECT %s, %s)")
    order = "DESC" if descending else "ASC"
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"""SELECT {columns} FROM dd0c.anomalies {where}
            ORDER BY {column} {order}, id {order} LIMIT {limit + 1:d}"""


def list_anomalies(
    conn: Connection,
    filters: Filters,
    *,
    sort: str = "-detected_at",
    limit: int = 50,
    cursor: str | None = None,
) -> AnomalyPage:
    query, params, column = _page_query(filters, sort, limit, cursor)
    rows = conn.execute(query, params).fetchall()
    page = [AnomalyRow.model_validate(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(sort, getattr(last, column), last.id)
    return AnomalyPage(anomalies=page, next_cursor=next_cursor)


def tenant_list_json(
    conn: Connection,
    tenant_id: UUID,
    filters: Filters,
    *,
    sort: str = "-detected_at",
    limit: int = 50,
    cursor: str | None = None,
) -> str:
    """The page ``list_anomalies`` returns, as the JSON body the API sends for it: byte for byte what the
    resolver makes of the ``AnomalyPage`` (its JSON-mode dump through ``json.dumps`` with compact
    separators), without a model per row. Each row's JSON but its ticket's fields was written with the row
    (``list_json``: migrations 014 and 026) and the page query adds its ticket (``_SQL_ROW``); a page with
    any row PostgreSQL could not write that exactly is made again from its rows' values (``_rows_json``:
    plain rows by orjson, the others by their models). Read as ``tenant_id`` sees it, in one round trip on an
    idle connection (``db.one_trip.tenant_rows``: the tenant, the prepared page query and one Sync). The API's
    list fast path uses this; tests compare it with the route on every kind of row and request."""
    query, params, column = _json_page_query(filters, sort, limit, cursor)
    body = _joined(tenant_rows(conn, tenant_id, query, params), sort, limit, column, conn.info.timezone)
    if body is None:  # a row PostgreSQL could not write: the page from the rows' values, as the tenant's read
        with tenant_read(conn, tenant_id):
            return _rows_json(conn, filters, sort=sort, limit=limit, cursor=cursor)
    return body


def _json_page_query(filters: Filters, sort: str, limit: int, cursor: str | None) -> tuple[str, list[object], str]:
    inner, params, column = _page_query(filters, sort, limit, cursor, _SQL_PAGE_COLUMNS)
    return _json_page_sql(inner, sort), params, column


@functools.lru_cache(maxsize=512)
def _json_page_sql(inner: str, sort: str) -> str:
    order = "DESC" if sort.startswith("-") else "ASC"
    column = _SORT_COLUMNS[sort.lstrip("-")]
    return f"SELECT {_SQL_ROW} FROM ({inner}) AS r {_SQL_TICKET} ORDER BY r.{column} {order}, r.id {order}"


def _joined(rows: list, sort: str, limit: int, column: str, timezone: tzinfo) -> str | None:
    """The page's body from its rows' JSON (``_SQL_ROW``), or None if PostgreSQL could not write one of them."""
    out = [r[0] for r in rows[:limit]]
    if None in out:
        return None
    next_cursor = None
    if len(rows) > limit:  # the cursor's values from the page's last row, as its JSON has them
        last = orjson.loads(out[-1])
        value = last[column]
        if column == "detected_at":  # as psycopg would load it: in the session's time zone
            value = datetime.fromisoformat(value).astimezone(timezone)
        next_cursor = encode_cursor(sort, value, last["id"])
    return f'{{"anomalies":[{",".join(out)}],"next_cursor":{orjson.dumps(next_cursor).decode()}}}'


def _sql_str(c: str) -> str:
    """A text of printable ASCII without quote or backslash (``_SQL_PLAIN``) as a JSON string, or null."""
    return f"""coalesce('"' || {c} || '"', 'null')"""


# Each row's JSON but its ticket's fields is written with the row (``list_json``, a stored generated column:
# migrations 014 and 026, with the settings it depends on pinned): NULL for a row PostgreSQL cannot write exactly
# as json.dumps of its model would (text of the ids, account, region, service, type, actor or delivery fields that
# is not printable ASCII without quotes or backslashes, NULLs in the id arrays, a score or $/h json would write
# with an exponent, years outside 1000-9999, components ScoreComponent would not dump as they are, attribute
# floats of 1e15 or more). What the read still checks: the values the models take (their enums, from this code),
# and the ticket's text.
_SQL_PLAIN = f"""r.list_json IS NOT NULL
    AND r.severity IN ({", ".join(f"'{v}'" for v in sorted(s.value for s in Severity))})
    AND r.status IN ({", ".join(f"'{v}'" for v in sorted(s.value for s in AnomalyStatus))})
    AND (r.notify_withheld IS NULL OR r.notify_withheld IN ('shadow', 'panic'))
    AND r.delivery_status IN ('pending', 'slack', 'outbox', 'undelivered')
    AND (t.tenant_id IS NULL OR (t.status IS NULL OR t.status IN ('queued', 'created', 'failed'))
        AND (coalesce(t.external_key, '') || coalesce(t.external_url, '')) ~ '^[] !#-[^-~]*$')"""
# a row without a ticket (most) gets its constant tail in one concatenation, without the regex
_SQL_ROW = f"""CASE WHEN {_SQL_PLAIN} THEN r.list_json || CASE WHEN t.tenant_id IS NULL
    THEN ',"ticket_status":null,"ticket_key":null,"ticket_url":null}}'
    ELSE ',"ticket_status":' || {_sql_str("t.status")} || ',"ticket_key":' || {_sql_str("t.external_key")}
    || ',"ticket_url":' || {_sql_str("t.external_url")} || '}}' END END"""
# the page's rows (what the row and its checks need), and their tickets in one join (a subquery per row and
# column costs PostgreSQL about as much as the rest of the query)
_SQL_PAGE_COLUMNS = (
    "id, tenant_id, detected_at, score, estimated_hourly_usd, severity, status, notify_withheld,"
    " coalesce(delivery_status, 'pending') AS delivery_status, list_json"
)
_SQL_TICKET = (
    "LEFT JOIN dd0c.tickets t ON t.tenant_id = r.tenant_id AND t.subject_kind = 'anomaly' AND t.subject_id = r.id::text"
)


def _rows_json(
    conn: Connection,
    filters: Filters,
    *,
    sort: str = "-detected_at",
    limit: int = 50,
    cursor: str | None = None,
) -> str:
    """``tenant_list_json`` from the rows' values, for any page: a plain row (ASCII text, no float that ``json`` would write
    with an exponent and orjson would not, nothing the model would coerce or refuse) goes straight to
    orjson, which writes such values exactly as ``json`` does; any other row is made by its model and
    embedded. The API's list route uses this; tests compare both on every kind of row and request."""
    query, params, column = _page_query(filters, sort, limit, cursor, _JSON_LIST_COLUMNS)
    rows = conn.cursor(row_factory=tuple_row, binary=True).execute(query, params).fetchall()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(sort, last[_COLUMN_INDEX[column]], UUID(last[0]))
    page = {"anomalies": [_plain_row(r) or _model_row(r) for r in rows[:limit]], "next_cursor": next_cursor}
    return orjson.dumps(page).decode()


# positions in _JSON_LIST_COLUMNS
_COLUMN_INDEX = {"detected_at": 9, "score": 10, "estimated_hourly_usd": 12}
_NAMES = [c.strip().split("::")[0] for c in _ROW_COLUMNS.split(",")] + _STATE_NAMES
_DELIVERY = frozenset({"pending", "slack", "outbox", "undelivered"})
_TICKETS = frozenset({None, "queued", "created", "failed"})
_STATUSES = frozenset(s.value for s in AnomalyStatus)
_SEVERITIES = frozenset(s.value for s in Severity)
_WITHHELD = frozenset({None, "shadow", "panic"})
# in attributes' jsonb text: a number below 1e-4 (json writes 1e-05, orjson 0.00001), or 19+ digits
# (orjson reads integers beyond 64 bits as floats, json as integers)
_ODD_NUMBER = re.compile(r"0\.0000|\d{19}")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime, config=ConfigDict(defer_build=True))


def _plain_row(row: tuple) -> dict[str, object] | None:
    """The row as ``AnomalyRow`` dumps it in JSON mode, in values orjson writes exactly as ``json`` does
    (a summary json would escape is embedded as json writes it); None if any value is not that plain."""
    (id_, tenant, account, region, service, rtype, resource_ids, event_ids, actor, detected) = row[:10]
    (score, severity, usd, status, summary, components, attributes, snoozed, withheld) = row[10:19]
    (delivery, detail, ticket, ticket_key, ticket_url) = row[19:]
    optional = "".join(v for v in (detail, ticket_key, ticket_url) if v is not None)
    if delivery not in _DELIVERY or ticket not in _TICKETS or not optional.isascii() or "\x7f" in optional:
        return None
    try:
        text = "".join((account, region, service, rtype, actor, components, attributes, *resource_ids, *event_ids))
    except TypeError:  # a NULL: the model decides
        return None
    if not (
        text.isascii()
        and "\x7f" not in text
        and (1e-4 <= score <= 1 or score == 0)
        and (1e-4 <= abs(usd) < math.inf or usd == 0)
        and severity in _SEVERITIES
        and status in _STATUSES
        and withheld in _WITHHELD
        and (attributes == "{}" or not _ODD_NUMBER.search(attributes))
    ):
        return None
    if not summary.isascii() or "\x7f" in summary:  # "3 × m5.large": json escapes it, so embed what json writes
        summary = orjson.Fragment(encode_basestring_ascii(summary))
    parts = _plain_components(components)
    attrs = orjson.loads(attributes)
    if parts is None or type(attrs) is not dict:
        return None
    when = detected.isoformat()
    return {
        "id": id_,
        "tenant_id": tenant,
        "account_id": account,
        "region": region,
        "service": service,
        "resource_type": rtype,
        "resource_ids": resource_ids,
        "event_ids": event_ids,
        "actor": actor,
        "detected_at": when[:-6] + "Z" if when.endswith("+00:00") else _iso(detected),
        "score": score,
        "severity": severity,
        "estimated_hourly_usd": usd,
        "status": status,
        "summary": summary,
        "components": parts,
        "attributes": attrs,
        "snoozed_until": None if snoozed is None else _iso(snoozed),
        "notify_withheld": withheld,
        "delivery_status": delivery,
        "delivery_detail": detail,
        "ticket_status": ticket,
        "ticket_key": ticket_key,
        "ticket_url": ticket_url,
    }


def _plain_components(text: str) -> list[dict[str, object]] | None:
    """``ScoreComponent`` dumps (name, value as a float in [0, 1], reason) from ASCII jsonb text, or None."""
    parts = orjson.loads(text)
    if type(parts) is not list:
        return None
    out = []
    for part in parts:
        if type(part) is not dict:
            return None
        name, value, reason = part.get("name"), part.get("value"), part.get("reason")
        if type(name) is not str or type(reason) is not str or type(value) not in (int, float):
            return None
        if not (1e-4 <= value <= 1 or value == 0):
            return None
        value = float(value)
        out.append({"name": name, "value": value, "reason": reason})
    return out


def _model_row(row: tuple) -> orjson.Fragment:
    """Any other row: made by the model, as the resolver would (a row the model refuses raises here)."""
    values = dict(zip(_NAMES, row, strict=True))
    values["components"] = json.loads(values["components"])
    values["attributes"] = json.loads(values["attributes"])
    dumped = AnomalyRow.model_validate(values).model_dump(mode="json")
    return orjson.Fragment(json.dumps(dumped, separators=(",", ":")))


def _iso(value: datetime) -> str:
    """A timestamp as pydantic writes it: ISO 8601, Z for UTC."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else str(_DATETIME.dump_python(value, mode="json"))


def audit_view(entry) -> AuditEntryView:
    return AuditEntryView(
        id=entry.id,
        at=entry.at,
        recorded_at=entry.recorded_at,
        actor=entry.actor,
        source=entry.source,
        action=entry.action,
        subject=entry.subject,
        state=entry.state,
        reason=entry.reason,
        detail=entry.detail,
        scope="global" if entry.tenant_id is None else "tenant",
    )
