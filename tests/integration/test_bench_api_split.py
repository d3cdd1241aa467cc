"""`bench api`'s last line times the list path the server runs: the fast path's round trip and its page JSON,
walking pages with the cursor as the clients do."""

from __future__ import annotations

from dd0c_cost.dashboard import anomalies as queries
from dd0c_cost.db.connection import open_connection
from dd0c_cost_tools.bench import api as bench


def test_the_split_times_the_fast_paths_pages_in_cursor_order(db_url, monkeypatch):
    tenant, _key = bench.seed(db_url, 250)  # three pages of 100: 100, 100, 50
    seen: list[tuple[str | None, str]] = []
    page_query, joined = queries._json_page_query, queries._joined

    def recording_query(filters, sort, limit, cursor):
        seen.append((cursor, ""))
        return page_query(filters, sort, limit, cursor)

    def recording_joined(*args):
        body = joined(*args)
        seen[-1] = (seen[-1][0], body)
        return body

    monkeypatch.setattr(queries, "_json_page_query", recording_query)
    monkeypatch.setattr(queries, "_joined", recording_joined)
    split = bench.split_server_time(db_url, tenant, 100, repeat=4)
    assert min(split.values()) > 0
    cursors = [cursor for cursor, _ in seen]
    assert cursors[0] is None and cursors[1] and cursors[2] and cursors[3] is None  # the end, then the first page
    monkeypatch.undo()
    conn = open_connection(db_url)
    try:
        for cursor, body in seen:  # each timed body is the page the server's list path sends
            assert body == queries.tenant_list_json(conn, tenant, queries.Filters(), limit=100, cursor=cursor)
    finally:
        conn.close()
