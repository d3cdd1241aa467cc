"""GET /v1/anomalies answers plainly valid requests without the resolver's per-request machinery
(``api.routes.anomalies.list_fast``, the page written from its rows by ``tenant_list_json``).
Every response must be byte for byte what the resolver's route makes of the pydantic models: the
same status, headers and body, on rows with every kind of odd value, for every sort, filter, page
size and cursor, and for bad requests (which the fast path hands back to the route)."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from dd0c_cost import auth
from dd0c_cost.api.routes import anomalies as route
from dd0c_cost.auth import keys
from dd0c_cost.dashboard import anomalies as queries
from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost_tools.local.runner import LambdaContext
from dd0c_cost_tools.local.serve import apigw_v2_event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ZSCORE = [{"name": "zscore", "value": 0.8, "reason": "far above the level"}]

# (what makes the row odd, column overrides, who writes it when Python writes the page, whether PostgreSQL writes
# it): "plain" rows are written from their values (a summary json escapes embedded as json writes it), "model"
# rows by their pydantic model; a row PostgreSQL cannot write (list_json NULL) sends its page to Python
ODD = [
    ("non-ASCII summary", {"summary": "dev launched 3 × m5.large 😀"}, "plain", True),
    ("DEL and controls in the summary", {"summary": 'tab\there "quoted" \\ new\nline \x01 \x7f'}, "plain", True),
    ("non-ASCII actor", {"actor": "dév"}, "model", False),
    ("non-ASCII resource and event ids", {"resource_ids": ["i-é1", "i-2"], "event_ids": ["ev-ß"]}, "model", False),
    ("DEL in the actor", {"actor": "a\x7fb"}, "model", False),
    ("a tiny $/h", {"estimated_hourly_usd": 1e-05}, "model", False),
    ("a tinier $/h", {"estimated_hourly_usd": -3e-09}, "model", False),
    ("a huge $/h", {"estimated_hourly_usd": 1.5e16}, "plain", False),
    ("NaN $/h", {"estimated_hourly_usd": math.nan}, "model", False),
    ("negative zero $/h", {"estimated_hourly_usd": -0.0, "score": 0.0}, "plain", True),
    (
        "integer component value, extra key",
        {"components": [{"name": "a", "value": 1, "reason": "r", "w": 2}]},
        "plain",
        True,
    ),
    ("tiny component value", {"components": [{"name": "a", "value": 0.00001, "reason": "r"}]}, "model", False),
    ("non-ASCII component reason", {"components": [{"name": "a", "value": 0.5, "reason": "≥ 3σ"}]}, "model", True),
    ("nested attributes", {"components": [], "attributes": {"n": {"a": [1, 2.5, None, True]}}}, "plain", True),
    ("tiny attribute", {"attributes": {"rate": 0.00001}}, "model", True),
    ("integer beyond 64 bits", {"attributes": {"big": 123456789012345678901234}}, "model", True),
    ("non-ASCII attribute key", {"attributes": {"ключ": "значение", "q": 3}}, "model", True),
    ("DEL in an attribute", {"attributes": {"s": "a\x7fb"}}, "model", True),
    ("withheld (shadow), snoozed with microseconds", {"notify_withheld": "shadow", "status": "snoozed"}, "plain", True),
    ("withheld (panic), no resources", {"notify_withheld": "panic", "resource_ids": []}, "plain", True),
    (
        "delivered to Slack, ticket created",
        {
            "delivery_status": "slack",
            "delivery_detail": "severity:critical",
            "_ticket": {
                "status": "created",
                "external_key": "OPS-7",
                "external_url": "https://jira.example/browse/OPS-7",
            },
        },
        "plain",
        True,
    ),
    (
        "undelivered, ticket queued",
        {"delivery_status": "undelivered", "delivery_detail": "no_route", "_ticket": {"status": "queued"}},
        "plain",
        True,
    ),
    (
        "non-ASCII ticket key",
        {"delivery_status": "slack", "_ticket": {"status": "failed", "external_key": "ÖPS-1"}},
        "model",
        False,
    ),
]


def _when(i: int) -> datetime:
    return T0 + timedelta(minutes=37 * i, microseconds=(i * 1013) % 7 and i * 1013)  # some with microseconds


def _insert(conn, tenant, account, i, **over):
    when = _when(i)
    ticket = over.pop("_ticket", None)
    values = {
        "account_id": account,
        "region": ["us-east-1", "eu-west-1"][i % 2],
        "service": ["ec2", "rds", "ebs"][i % 3],
        "resource_type": ["ec2:instance", "rds:db-instance", "ec2:volume"][i % 3],
        "resource_ids": [f"i-{account}-{i}"],
        "event_ids": [f"{account}-e{i}"],
        "actor": f"arn:aws:iam::{account}:user/dev{i % 5}",
        "detected_at": when,
        "score": round((i * 0.137) % 1, 3),
        "severity": ["low", "medium", "high", "critical"][i % 4],
        "estimated_hourly_usd": round(0.25 + (i * 7.31) % 90, 2),
        "status": ["open", "open", "acknowledged", "expected", "false_positive"][i % 5],
        "summary": f"dev{i % 5} launched {1 + i % 4} x m5.large",
        "components": ZSCORE,
        "attributes": {"instance_type": "m5.large", "quantity": 1 + i % 4},
        "snoozed_until": None,
        "notify_withheld": None,
        **over,
    }
    if values["status"] == "snoozed":
        values["snoozed_until"] = when + timedelta(hours=4, microseconds=123)
    cols = list(values)
    (anomaly_id,) = (
        conn.execute(
            f"INSERT INTO dd0c.anomalies (tenant_id, {', '.join(cols)}) VALUES (%s, "
            + ", ".join("%s::jsonb" if c in ("components", "attributes") else "%s" for c in cols)
            + ") RETURNING id",
            [tenant, *(json.dumps(values[c]) if c in ("components", "attributes") else values[c] for c in cols)],
        )
        .fetchone()
        .values()
    )
    if ticket:  # its ticket (Create ticket in Slack): the list shows its status, key and URL
        ticket = {
            "target_name": "jira",
            "target_kind": "jira",
            "title": "t",
            "body": "b",
            "requested_by": "U1",
            **ticket,
        }
        conn.execute(
            f"INSERT INTO dd0c.tickets (tenant_id, subject_kind, subject_id, {', '.join(ticket)}) "
            f"VALUES (%s, 'anomaly', %s, {', '.join(['%s'] * len(ticket))})",
            [tenant, str(anomaly_id), *ticket.values()],
        )


@pytest.fixture
def world(app_env, db_url, operator_conn):
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    b = operator.ensure_tenant(operator_conn, "tenant-b")
    conn = open_connection(db_url)
    with tenant_transaction(conn, a):
        for i in range(24):
            _insert(conn, a, "111111111111" if i % 4 else "333333333333", i)
        for j, (_, over, _, _) in enumerate(ODD):
            _insert(conn, a, "111111111111", 24 + j, **over)
    with tenant_transaction(conn, b):
        for i in range(3):
            _insert(conn, b, "222222222222", i)
    conn.close()
    auth.CACHE.clear()
    secret = {"a": keys.create_key(operator_conn, a, scope="read")[0], "b": keys.create_key(operator_conn, b)[0]}
    from dd0c_cost.api.app import app

    answered: list[bool] = []
    generic = [False]
    fast = route.list_fast

    def spy(event):
        if generic[0]:
            return None
        result = fast(event)
        answered.append(result is not None)
        return result

    route.list_fast = spy  # the resolver looks it up on every request

    def both(query: str | dict | None = None, *, key: str | None = "a", event_override=None):
        """The app's response, and the app's response with the fast path off (the route answers)."""
        raw = query if isinstance(query, str) else urlencode(query or {})
        headers = {"authorization": f"Bearer {secret.get(key, key)}"} if key else {}
        event = apigw_v2_event("GET", "/v1/anomalies" + (f"?{raw}" if raw else ""), headers, b"", "127.0.0.1")
        if event_override:
            event_override(event)
        answered.clear()
        got = app.resolve(copy.deepcopy(event), LambdaContext("api"))
        generic[0] = True
        try:
            want = app.resolve(copy.deepcopy(event), LambdaContext("api"))
        finally:
            generic[0] = False
        return got, want, answered[0]

    yield both
    route.list_fast = fast


SORTS = ["-detected_at", "detected_at", "-estimated_hourly_usd", "estimated_hourly_usd", "-score", "score"]


def test_every_page_of_every_sort_is_the_routes_response_byte_for_byte(world):
    for sort, limit in [(sort, limit) for sort in SORTS for limit in (3, 40)]:
        query = {"sort": sort, "limit": limit}
        pages = 0
        while True:
            got, want, fast = world(query)
            assert got == want, (sort, limit, pages)
            pages += 1
            if got["statusCode"] != 200:  # a cursor on NaN $/h: the route refuses it (400), so does the app
                assert not fast and "estimated_hourly_usd" in sort
                break
            assert fast, "a plainly valid request is answered by the fast path"
            cursor = json.loads(got["body"])["next_cursor"]
            if not cursor:
                break
            query = {**query, "cursor": cursor}
        assert pages >= (2 if limit == 40 else 14)


FILTERS = [
    {},
    {"limit": 200},
    {"limit": 1},
    {"status": "open"},
    {"status": "open,snoozed,open", "severity": "critical,high"},
    {"status": ""},
    {"account": "333333333333", "service": "ec2,rds"},
    {"kind": "ec2:volume", "sort": "score"},
    {"actor": "dev3"},
    {"actor": "dév"},
    {"actor": "_%\\"},
    {"since": "2026-11-02T12:00:00Z", "until": "2026-11-03T00:00:00+02:00"},
    {"until": "1793613600"},
    {"limit": 100, "unknown": "ignored"},
]


def test_filters_are_the_routes_response_byte_for_byte(world):
    for query in FILTERS:
        got, want, fast = world(query)
        assert got == want and got["statusCode"] == 200, query
        assert fast, query


# (query, the route's status): the fast path declines each; the route answers as it always did
BAD = [
    ({"limit": 0}, 400),
    ({"limit": 201}, 400),
    ({"limit": "05"}, 200),  # the route's int reads these; the fast path takes only plain digits
    ({"limit": " 5"}, 200),
    ({"limit": "five"}, 400),
    ({"limit": ""}, 400),
    ({"sort": "-bogus"}, 400),
    ({"sort": ""}, 400),
    ({"status": "open,bogus"}, 400),
    ({"account": "12345"}, 400),
    ({"cursor": "not-a-cursor"}, 400),
    ({"cursor": "x" * 401}, 400),
    ({"actor": "a" * 201}, 400),
    ({"since": "2026-11-02T12:00:00"}, 400),
    ({"since": "2026-11-02"}, 400),
    ({"since": "yesterday"}, 400),
    ("status=open&status=acknowledged", 200),  # as the local server passes it: the last one
    ("limit=5&limit=6", 200),
]


def test_odd_and_bad_requests_go_to_the_route_and_get_its_answer(world):
    for query, status in BAD:
        got, want, fast = world(query)
        assert got == want and got["statusCode"] == status, query
        assert not fast, query


def test_a_cursor_for_another_sort_bad_credentials_and_api_gateways_repeated_parameters(world):
    got, _, _ = world({"limit": 2})
    cursor = json.loads(got["body"])["next_cursor"]
    got, want, fast = world({"limit": 2, "cursor": cursor, "sort": "score"})
    assert got == want and got["statusCode"] == 400 and not fast
    for key in (None, "dd0c_not_a_key"):
        got, want, fast = world({"limit": 2}, key=key)
        assert got == want and got["statusCode"] == 401 and not fast

    def comma_joined(event):  # API Gateway joins a repeated parameter with commas
        event["queryStringParameters"] = {"status": "open,acknowledged"}

    got, want, fast = world("status=open&status=acknowledged", event_override=comma_joined)
    assert got == want and got["statusCode"] == 400 and not fast
    got, want, fast = world({"limit": 5}, key="b")  # another tenant: its own three rows
    assert got == want and fast and len(json.loads(got["body"])["anomalies"]) == 3


def test_ordinary_rows_build_no_model_and_odd_rows_are_made_by_theirs(world, monkeypatch):
    """The speed is real: ordinary rows skip the models; rows orjson would write differently use them."""
    made: list[str] = []
    model_row = queries._model_row

    def spy(row):
        made.append(row[9])  # detected_at: which inserted row
        return model_row(row)

    monkeypatch.setattr(queries, "_model_row", spy)
    got, want, fast = world({"limit": 200, "sort": "detected_at"})
    assert got == want and fast
    assert len(json.loads(got["body"], parse_constant=str)["anomalies"]) == 24 + len(ODD)
    assert sorted(made) == [_when(24 + j) for j, odd in enumerate(ODD) if odd[2] == "model"]
    rows = json.loads(got["body"], parse_constant=str)["anomalies"]
    states = {(r["delivery_status"], r["delivery_detail"], r["ticket_status"], r["ticket_key"]) for r in rows}
    assert {
        ("pending", None, None, None),
        ("slack", "severity:critical", "created", "OPS-7"),
        ("undelivered", "no_route", "queued", None),
        ("slack", None, "failed", "ÖPS-1"),
    } == states


def test_a_body_or_an_error_in_the_fast_path_leaves_the_answer_to_the_route(world, monkeypatch):
    def with_bad_body(event):
        event["body"], event["isBase64Encoded"] = "not base64!", True

    got, want, fast = world({"limit": 5}, event_override=with_bad_body)
    assert got == want and got["statusCode"] == 400 and not fast

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setattr(queries, "tenant_list_json", broken)
    got, want, fast = world({"limit": 5})
    assert got == want and got["statusCode"] == 200 and not fast


def test_postgresql_writes_ordinary_pages_and_any_odd_row_sends_the_page_back_to_python(world, monkeypatch):
    """Pages of ordinary rows are written by PostgreSQL (``_SQL_ROW``: no row of Python values); a page
    with any row it cannot write exactly as the model would is made again from the rows' values. Both
    are the route's response byte for byte."""
    again: list[int] = []
    rows_json = queries._rows_json

    def spy(*args, **kwargs):
        again.append(kwargs["limit"])
        return rows_json(*args, **kwargs)

    monkeypatch.setattr(queries, "_rows_json", spy)
    for query in ({"limit": 24, "sort": "detected_at"}, {"limit": 3, "sort": "-score", "account": "333333333333"}):
        got, want, fast = world(query)
        assert got == want and fast and not again, query
        assert len(json.loads(got["body"])["anomalies"]) == query["limit"]
    got, want, fast = world({"limit": 3}, key="b")
    assert got == want and fast and not again
    for j, (what, _, _, by_sql) in enumerate(ODD):  # each odd row, on a page of its own
        since = _when(24 + j).isoformat()
        again.clear()
        got, want, fast = world({"limit": 1, "sort": "detected_at", "since": since})
        assert got == want and fast, what
        assert json.loads(got["body"], parse_constant=str)["anomalies"][0]["detected_at"].startswith(since[:19])
        assert bool(again) is not by_sql, f"{what}: written by {'Python' if again else 'PostgreSQL'}"


def test_rows_written_or_changed_by_any_session_read_as_the_route_writes_them(
    world, db_url, operator_conn, monkeypatch
):
    """Each row's JSON is written with the row (migration 014): by whichever session writes it, with its own
    DateStyle and float digits, and again when the row changes (status, snooze, delivery)."""
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    conn = open_connection(db_url)
    conn.execute("SET DateStyle = 'SQL, DMY'; SET extra_float_digits = 0; SET TimeZone = 'Asia/Kolkata'")
    conn.commit()  # the settings stay for the session
    with tenant_transaction(conn, a):
        # 0.1 + 0.2 needs 17 digits: with extra_float_digits = 0 PostgreSQL would write 0.3
        _insert(conn, a, "111111111111", 90, score=0.1 + 0.2, estimated_hourly_usd=2 / 3)
        conn.execute(
            "UPDATE dd0c.anomalies SET status = 'snoozed', snoozed_until = detected_at + interval '90 minutes 7 us',"
            " delivery_status = 'slack', delivery_detail = 'account:111111111111' WHERE detected_at < %s",
            [_when(5)],
        )
        conn.execute(
            "UPDATE dd0c.anomalies SET notify_withheld = 'panic', score = 1 WHERE detected_at = %s", [_when(7)]
        )
    conn.close()
    again: list[int] = []
    rows_json = queries._rows_json
    monkeypatch.setattr(queries, "_rows_json", lambda *a, **k: again.append(1) or rows_json(*a, **k))
    got, want, fast = world({"limit": 24, "sort": "detected_at"})  # the ordinary rows: PostgreSQL writes them
    assert got == want and fast and not again
    rows = json.loads(got["body"])["anomalies"]
    assert rows[0]["status"] == "snoozed" and rows[0]["snoozed_until"] == "2026-11-02T10:30:00.000007Z"
    changed = [r for r in rows if r["status"] == "snoozed" and r["delivery_status"] == "slack"]
    assert len(changed) == 5 and all(r["delivery_detail"] == "account:111111111111" for r in changed)
    assert (rows[7]["notify_withheld"], rows[7]["score"]) == ("panic", 1.0)
    got, want, fast = world({"since": _when(90).isoformat()})  # the row written under the odd settings
    assert got == want and fast and not again
    (row,) = json.loads(got["body"])["anomalies"]
    assert (row["score"], row["estimated_hourly_usd"]) == (0.1 + 0.2, 2 / 3)
    for page in ({"limit": 7, "sort": "-score"}, {"limit": 3, "status": "snoozed"}):
        got, want, fast = world(page)
        assert got == want and fast, page


def test_postgresql_writes_strings_floats_and_attributes_as_json_dumps_does(db_url):
    """The functions behind ``list_json`` (migration 026) against Python's own json.dumps: strings with every
    kind of character, floats across every magnitude, attributes of every shape; NULL only where the two
    formats differ (floats of 1e15 or more) or a value is beyond a float."""
    import random

    rng = random.Random(9)
    conn = open_connection(db_url)
    strings = [
        "plain",
        'quote " backslash \\ slash /',
        "tab\t nl\n cr\r bs\b ff\f nul-ish \x01 \x1f del \x7f",
        "é ß × ≥ 3σ",
        "emoji 😀 beyond the BMP 𝄞",
        "",
        " ",
        "\u2028\u2029",
        "~!@#$%^&*()_+{}|:<>?`-=[];',.",
    ]
    strings += [
        "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x2FFFF)])) for _ in range(12))
        for _ in range(200)
    ]
    strings = [t for t in strings if not any(0xD800 <= ord(c) < 0xE000 or c == "\x00" for c in t)]
    got = [r["j"] for r in conn.execute("SELECT dd0c.json_ascii(s) AS j FROM unnest(%s::text[]) AS s", [strings])]
    assert got == [json.dumps(t) for t in strings]
    floats = [
        0.0,
        -0.0,
        1.0,
        -2.0,
        0.1 + 0.2,
        2 / 3,
        1e-4,
        9.99e-5,
        1e-5,
        1.5e-7,
        123456789.125,
        1e14,
        99999999999999.9,
        1e16,
        1.5e16,
        1e22,
        1e300,
        5e-300,
        2.0**52,
        2.0**53 + 2,
    ]
    floats += [rng.uniform(-1, 1) * 10 ** rng.randrange(-12, 25) for _ in range(2000)]
    rows = conn.execute("SELECT dd0c.json_float(f) AS j FROM unnest(%s::float8[]) AS f", [floats]).fetchall()
    for f, row in zip(floats, rows, strict=True):
        if abs(f) >= 1e15:
            assert row["j"] is None, f
        else:
            assert row["j"] == json.dumps(f), f
    values = [
        {"a": [1, 2.5, None, True, False, {"b": "é\n"}], "": {}, "n": -0.0, "big": 12345678901234567890123},
        {"x": 1e-7, "y": 1e16, "z": "0.1", "w": 0.1000000000000000055511151231257827, "k": [[[]]]},
        {"ключ": "значение", "q": 3},
        {"deep": {"deeper": {"deepest": [1, {"x": "y"}]}}},
    ]
    texts = [json.dumps(v) for v in values] + ['{"f": 1.5e15}', '{"f": 2.5e22}', '{"f": -0}']  # jsonb: integers
    for text in texts:
        (row,) = conn.execute("SELECT %s::jsonb::text AS t, dd0c.json_python(%s::jsonb, 0) AS j", [text, text])
        assert row["j"] == json.dumps(json.loads(row["t"]), separators=(",", ":")), text
    for text in (  # a float from 1e15, beyond a float (json.loads: inf, or 0.0), nested past 20 levels
        '{"f": 1500000000000000.5}',
        '{"f": 1' + "0" * 400 + ".5}",
        '{"f": 0.' + "0" * 400 + "1}",
        '{"d": ' + "[" * 30 + "]" * 30 + "}",
    ):
        (row,) = conn.execute("SELECT dd0c.json_python(%s::jsonb, 0) AS j", [text])
        assert row["j"] is None, text
    conn.close()


def test_a_row_postgresql_cannot_write_is_still_stored_and_listed(world, db_url, operator_conn):
    """list_json never fails a write: attributes beyond a float or nested past its depth only send the page
    to Python, which answers as the route does."""
    a = operator.ensure_tenant(operator_conn, "tenant-a")
    conn = open_connection(db_url)
    with tenant_transaction(conn, a):
        _insert(conn, a, "111111111111", 91, attributes={"d": json.loads("[" * 40 + "]" * 40)})
        conn.execute(
            "INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, event_ids, actor,"
            " detected_at, score, severity, estimated_hourly_usd, summary, attributes) VALUES (%s, '111111111111',"
            " 'us-east-1', 'ec2', 'ec2:instance', '{e-92}', 'ana', %s, 0.5, 'low', 1, 's', %s::jsonb)",
            [a, _when(92), '{"f": 1' + "0" * 400 + ".5}"],
        )
        nulls = conn.execute(
            "SELECT count(*) AS n FROM dd0c.anomalies WHERE list_json IS NULL AND detected_at >= %s", [_when(91)]
        ).fetchone()["n"]
    conn.close()
    assert nulls == 2
    for since in (_when(91), _when(92)):
        got, want, fast = world({"since": since.isoformat(), "limit": 1, "sort": "detected_at"})
        assert got == want and got["statusCode"] == 200 and fast
