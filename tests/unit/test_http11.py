"""``dd0c-cost serve``'s HTTP/1.1 (``local.http11``): requests framed and answered as clients expect, keep-alive
as the version and ``Connection`` say, and what it cannot read refused in the API's error shape."""

from __future__ import annotations

import io
import json

from dd0c_cost_tools.local.http11 import Http11Handler, Refused, Request


class _Echo(Http11Handler):
    max_body = 100

    def answer(self, request: Request):
        seen = {"method": request.method, "target": request.target, "headers": request.headers}
        seen["body"] = request.body.decode()
        return (
            201,
            [("content-type", "application/json"), ("set-cookie", "a=1"), ("set-cookie", "b=2")],
            json.dumps(seen).encode(),
        )

    def refused(self, refusal: Refused):
        return refusal.status, [("content-type", "application/json")], json.dumps({"error": refusal.error}).encode()

    def log(self, method: str, target: str, status: int) -> None:
        self.logged.append((method, target, status))


def _talk(raw: bytes) -> tuple[list[tuple[str, dict[str, list[str]], bytes]], list]:
    """Every answer the handler writes for ``raw`` on one connection: (status line, fields, body)."""
    handler = _Echo.__new__(_Echo)  # no socket: the connection's two streams only
    handler.rfile, handler.wfile, handler.logged = io.BytesIO(raw), io.BytesIO(), []
    handler.handle()
    out, rest = [], handler.wfile.getvalue()
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        fields: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
        length = int(fields.get("content-length", ["0"])[0]) if not status.endswith("Continue") else 0
        out.append((status, fields, rest[:length]))
        rest = rest[length:]
    return out, handler.logged


def test_keep_alive_requests_are_answered_in_turn_with_their_bodies_and_fields():
    raw = (
        b"GET /v1/anomalies?limit=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nX-Folded: a\r\n  b\r\n\r\n"
        b'POST /v1/ingest HTTP/1.1\r\nContent-Length: 7\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n{"a":1}'
    )
    answers, logged = _talk(raw)
    assert [a[0] for a in answers] == ["HTTP/1.1 201 Created"] * 2
    first, second = (json.loads(a[2]) for a in answers)
    assert first == {
        "method": "GET",
        "target": "/v1/anomalies?limit=2",
        "headers": {"host": "x", "authorization": "Bearer k", "x-folded": "a b"},
        "body": "",
    }
    assert (second["body"], second["headers"]["x-twice"]) == ('{"a":1}', "2")  # a repeated field: its last value
    _, fields, body = answers[0]
    assert fields["set-cookie"] == ["a=1", "b=2"] and fields["content-length"] == [str(len(body))]
    assert "connection" not in fields and fields["server"] == ["dd0c-cost-local"] and fields["date"]
    assert logged == [("GET", "/v1/anomalies?limit=2", 201), ("POST", "/v1/ingest", 201)]


def test_connection_close_http_1_0_and_head():
    answers, _ = _talk(b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    assert len(answers) == 1 and answers[0][1]["connection"] == ["close"]
    answers, _ = _talk(b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    assert len(answers) == 1 and answers[0][1]["connection"] == ["close"]
    answers, _ = _talk(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    assert len(answers) == 2
    handler = _Echo.__new__(_Echo)
    handler.rfile, handler.wfile, handler.logged = io.BytesIO(b"HEAD /a HTTP/1.1\r\n\r\n"), io.BytesIO(), []
    handler.handle()
    head = handler.wfile.getvalue()
    assert head.endswith(b"\r\n\r\n") and b"content-length: " in head  # the length of the body it does not send


def test_expect_100_continue_is_answered_before_the_body():
    answers, _ = _talk(b"PUT /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
    assert [a[0] for a in answers] == ["HTTP/1.1 100 Continue", "HTTP/1.1 201 Created"]
    assert json.loads(answers[1][2])["body"] == "hi"


def test_what_cannot_be_read_is_refused_and_the_connection_closes():
    cases = {
        b"GET /a HTTP/1.1\r\nContent-Length: nope\r\n\r\n": (400, "bad_content_length"),
        b"GET /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n": (400, "bad_content_length"),
        b"POST /a HTTP/1.1\r\nContent-Length: 101\r\n\r\n" + b"x" * 101: (413, "body_too_large"),
        b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n": (411, "length_required"),
        b"GET /a\r\n\r\n": (400, "bad_request"),
        b"HELLO\r\n\r\n": (400, "bad_request"),
        b"GET /a HTTP/1.1\r\nno colon here\r\n\r\n": (400, "bad_request"),
        b"GET /a HTTP/1.1\r\n" + b"x: y\r\n" * 101 + b"\r\n": (431, "header_too_large"),
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n": (414, "uri_too_long"),
    }
    for raw, (status, error) in cases.items():
        answers, logged = _talk(raw + b"GET /next HTTP/1.1\r\n\r\n")
        assert len(answers) == 1, raw[:40]
        _, fields, body = answers[0]
        assert (int(answers[0][0].split()[1]), json.loads(body)["error"]) == (status, error), raw[:40]
        assert fields["connection"] == ["close"] and logged == [("-", "-", status)]


def test_a_client_that_goes_away_mid_request_gets_nothing_and_raises_nothing():
    for raw in (b"", b"\r\n", b"GET /a HTTP/1.1\r\nHost: x\r\n", b"POST /a HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"):
        answers, logged = _talk(raw)
        assert answers == [] and logged == []
