"""Statements and one Sync in one round trip on the connection's libpq handle: the scorer's
transaction (``scoring.scorer``) and a tenant's read for the anomaly list (``tenant_rows``).

psycopg's ``execute`` costs the client ~40 us per call (cursor, row factory, generators, result
queue) and its pipeline syncs again when it ends. ``exchange`` sends the statements in libpq's
pipeline mode, then one Sync, and reads every answer up to the Sync's, waiting in ``select``: a
statement that fails skips the rest up to the Sync, and its error is raised after the Sync as psycopg
raises it (the connection stays usable); anything else (an interrupted wait, a lost server...) closes
the connection, since a half-read pipeline could not be used again (a closed connection is opened
anew). Statements up to the Sync run in one implicit transaction unless the caller sent ``BEGIN``.

``tenant_rows`` sends the tenant and the query (each prepared once per connection, the query bound with
psycopg's own dumpers) and the Sync: the tenant setting (``is_local``) lasts for that implicit
transaction only, so the next statement on the connection sees no tenant (RLS fails closed).
"""

from __future__ import annotations

import functools
import hashlib
import re
import select
import weakref
from collections.abc import Callable, Sequence
from typing import NamedTuple

from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.abc import Buffer
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus
from psycopg.pq.abc import PGconn, PGresult

from dd0c_cost.db.connection import Connection


class Statement(NamedTuple):
    """A statement and its parameters (text format, types from the statement's casts, unless given)."""

    text: bytes
    params: Sequence[Buffer | None] = ()
    types: Sequence[int] | None = None
    formats: Sequence[int] | None = None
    binary: bool = False  # results in binary
    prepare: bool = True  # prepared once per connection (named), then only bound and executed


_PLACEHOLDER = re.compile(r"%s")
# statements this module prepared, per connection (a closed connection's set goes with it)
_prepared: weakref.WeakKeyDictionary[Connection, set[bytes]] = weakref.WeakKeyDictionary()


def round_trip(conn: Connection, statements: Sequence[Statement]) -> list[PGresult]:
    """Every statement's result, in one round trip; the first error raised. A statement is prepared in
    the trip that first sends it on the connection, and is known to be prepared from then on even if
    its execution fails (a prepared statement outlives the transaction); if the server lost it
    (``DEALLOCATE ALL``) or had it already, the error is raised and the next trip prepares as needed."""
    known = _prepared.setdefault(conn, set())
    names = [_name(s) if s.prepare else None for s in statements]
    preparing: list[bytes | None] = []  # per statement: its name if this trip prepares it
    for name in names:
        preparing.append(name if name is not None and name not in known and name not in preparing else None)

    def send(pgconn: PGconn) -> None:
        for s, name, prepare in zip(statements, names, preparing, strict=True):
            result_format = pq.Format.BINARY if s.binary else pq.Format.TEXT
            if name is None:
                pgconn.send_query_params(
                    s.text, s.params, param_types=s.types, param_formats=s.formats, result_format=result_format
                )
                continue
            if prepare is not None:
                pgconn.send_prepare(name, s.text, param_types=s.types)
            pgconn.send_query_prepared(name, s.params, param_formats=s.formats, result_format=result_format)

    answers = exchange(conn, send)
    results = []
    pending = iter(answers)
    for prepare in preparing:
        if prepare is not None:
            prepared = next(pending)
            if prepared.status == ExecStatus.COMMAND_OK or _sqlstate(prepared) == _DUPLICATE:
                known.add(prepare)  # (a duplicate: prepared, though we did not know it)
        results.append(next(pending))
    if any(_sqlstate(r) == _MISSING for r in results):
        known.clear()  # deallocated behind our back
    raise_first_error(conn, answers)
    return results


def _name(s: Statement) -> bytes:
    return _named(s.text, tuple(s.types) if s.types else None)


@functools.lru_cache(maxsize=512)
def _named(text: bytes, types: tuple[int, ...] | None) -> bytes:
    """A prepared statement's name: the same statement, the same name on every connection."""
    return b"dd0c_" + hashlib.sha1(text + repr(types).encode()).hexdigest()[:20].encode()


_DUPLICATE = pg_errors.DuplicatePreparedStatement.sqlstate
_MISSING = pg_errors.InvalidSqlStatementName.sqlstate


def _sqlstate(result: PGresult) -> str | None:
    if result.status != ExecStatus.FATAL_ERROR:
        return None
    code = result.error_field(pq.DiagnosticField.SQLSTATE)
    return code.decode() if code else None


def exchange(conn: Connection, send: Callable[[PGconn], None]) -> list[PGresult]:
    """What ``send`` sends (in pipeline mode), then a Sync; every result up to the Sync's, errors
    included. A lost connection is raised as ``OperationalError``; anything raised on the way closes
    the connection."""
    pgconn = conn.pgconn
    try:
        pgconn.enter_pipeline_mode()
        send(pgconn)
        pgconn.pipeline_sync()
        results = _answers(pgconn)
        if pgconn.status != ConnStatus.BAD:
            pgconn.exit_pipeline_mode()
    except BaseException:
        conn.close()
        raise
    if pgconn.status == ConnStatus.BAD:
        raise pg_errors.OperationalError(f"the connection was lost: {pgconn.get_error_message()}")
    return results


def raise_first_error(conn: Connection, results: Sequence[PGresult]) -> None:
    """The first statement's error, as psycopg raises it."""
    for result in results:
        if result.status == ExecStatus.FATAL_ERROR:
            raise pg_errors.error_from_result(result, encoding=conn.info.encoding)


def _answers(pgconn: PGconn) -> list[PGresult]:
    """Every statement's result up to the Sync's; waits in ``select``, never inside libpq (which would
    hold the GIL while the server works or waits, e.g. on a row lock another thread's transaction holds:
    that thread could then never commit)."""
    while pgconn.flush():  # nonblocking: the rest of a long message
        readable, _w, _x = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:
            pgconn.consume_input()
    results: list[PGresult] = []
    while pgconn.status != ConnStatus.BAD:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
            if pgconn.status == ConnStatus.BAD:
                return results
        result = pgconn.get_result()
        if result is None:
            continue  # the end of one statement's results
        if result.status == ExecStatus.PIPELINE_SYNC:
            break
        results.append(result)
    return results


# ------------------------------------------------------------------------------------ a tenant's read
_SET_TENANT = b"SELECT set_config('dd0c.tenant_id', $1, true)"


def tenant_rows(conn: Connection, tenant_id: object, query: str, params: list[object]) -> list[tuple]:
    """The rows of ``query`` (``%s`` placeholders, no other ``%``) as the tenant sees them, as tuples of
    what psycopg loads from binary results. Raises what psycopg would raise (a lost connection as
    ``OperationalError``); the connection is idle afterwards either way."""
    if "%" in _PLACEHOLDER.sub("", query):
        raise ValueError("the query has a % that is not a placeholder")
    with conn.lock:
        if conn.pgconn.transaction_status != TransactionStatus.IDLE:
            raise RuntimeError("tenant_rows needs an idle connection")
        tx = Transformer(conn)
        values = tx.dump_sequence(params, [PyFormat.AUTO] * len(params))
        numbered = iter(range(1, len(params) + 1))
        text = _PLACEHOLDER.sub(lambda _: f"${next(numbered)}", query).encode()
        trip = [
            Statement(_SET_TENANT, [str(tenant_id).encode()]),  # the scorer's text: one prepared statement for both
            Statement(text, values, tx.types, tx.formats, binary=True),
        ]
        for attempt in range(len(trip) + 1):  # a failed trip learns how the server has at least one statement
            try:
                results = round_trip(conn, trip)
                break
            except (pg_errors.InvalidSqlStatementName, pg_errors.DuplicatePreparedStatement):
                if attempt == len(trip):
                    raise
    page = results[-1]
    tx.set_pgresult(page)
    return tx.load_rows(0, page.ntuples, tuple)
