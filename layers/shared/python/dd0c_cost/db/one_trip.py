"""A tenant's read in one round trip on the connection's libpq handle (the anomaly list's hot path).

``tenant_read`` (``db.connection``) pipelines the tenant and the query through psycopg, which costs a
second round trip (psycopg syncs the pipeline again when it ends, after the rows were fetched) and
psycopg's per-call machinery (cursor, generators, result queue). ``tenant_rows`` sends the tenant, the
query (prepared once per connection, bound with psycopg's own dumpers) and one Sync, and reads the
answers: everything up to the Sync runs in one implicit transaction, which the tenant setting
(``is_local``) lasts for, so the next statement on the connection sees no tenant (RLS fails closed).
"""

from __future__ import annotations

import hashlib
import re
import select
import weakref

from psycopg import abc, pq
from psycopg import errors as pg_errors
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus
from psycopg.pq.abc import PGconn, PGresult

from dd0c_cost.db.connection import Connection

_SET_TENANT = b"SELECT set_config('dd0c.tenant_id', $1, true)"
_PLACEHOLDER = re.compile(r"%s")
# statements this module prepared, per connection (a closed connection's set goes with it)
_prepared: weakref.WeakKeyDictionary[Connection, set[bytes]] = weakref.WeakKeyDictionary()


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
        name = b"dd0c_" + hashlib.sha1(text + repr(tx.types).encode()).hexdigest()[:20].encode()
        known = _prepared.setdefault(conn, set())
        tenant = str(tenant_id).encode()
        try:
            results = _one_trip(conn, tenant, name, text, values, tx, known)
        except pg_errors.InvalidSqlStatementName:  # deallocated behind our back (DEALLOCATE ALL): once more
            known.clear()
            results = _one_trip(conn, tenant, name, text, values, tx, known)
        except pg_errors.DuplicatePreparedStatement:  # prepared, though we did not know it: once more
            known.add(name)
            results = _one_trip(conn, tenant, name, text, values, tx, known)
    page = results[-1]
    tx.set_pgresult(page)
    return tx.load_rows(0, page.ntuples, tuple)


def _one_trip(
    conn: Connection, tenant: bytes, name: bytes, text: bytes, values, tx: abc.Transformer, known: set[bytes]
) -> list[PGresult]:
    """Send the tenant, the statement (prepared first unless ``known``) and a Sync; every result up to the
    Sync. A statement prepared is ``known`` even if its execution fails (a prepared statement outlives the
    transaction). Anything but a statement's error (an interrupted wait, a lost server...) closes the
    connection: a half-read pipeline could not be used again, and a closed connection is opened anew."""
    pgconn = conn.pgconn
    prepare = name not in known
    try:
        pgconn.enter_pipeline_mode()
        pgconn.send_query_params(_SET_TENANT, [tenant])
        if prepare:
            pgconn.send_prepare(name, text, param_types=tx.types)
        pgconn.send_query_prepared(name, values, param_formats=tx.formats, result_format=pq.Format.BINARY)
        pgconn.pipeline_sync()
        results = _answers(pgconn)
        if pgconn.status != ConnStatus.BAD:
            pgconn.exit_pipeline_mode()
    except BaseException:
        conn.close()
        raise
    if prepare and len(results) > 1 and results[1].status == ExecStatus.COMMAND_OK:
        known.add(name)
    if pgconn.status == ConnStatus.BAD:
        raise pg_errors.OperationalError(f"the connection was lost: {pgconn.get_error_message()}")
    for result in results:
        if result.status == ExecStatus.FATAL_ERROR:
            raise pg_errors.error_from_result(result, encoding=conn.info.encoding)
    return results


def _answers(pgconn: PGconn) -> list[PGresult]:
    """Every statement's result up to the Sync's; waits in ``select``, never inside libpq (which would
    hold the GIL while the server works)."""
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
