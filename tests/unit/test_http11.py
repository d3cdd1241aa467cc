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


class _Reads:
    """A client's bytes as the socket hands them over: one piece per read, each read noting what was written before it."""

    def __init__(self, pieces: list[bytes], written: io.BytesIO) -> None:
        self.pieces, self.written, self.seen_before_read = list(pieces), written, []

    def read1(self, size: int) -> bytes:
        self.seen_before_read.append(self.written.getvalue())
        return self.pieces.pop(0)[:size] if self.pieces else b""


def _talk(raw: bytes | list[bytes]) -> tuple[list[tuple[str, dict[str, list[str]], bytes]], list]:
    """Every answer the handler writes for ``raw`` (or its pieces, one per read) on one connection: (status line,
    fields, body)."""
    handler = _Echo.__new__(_Echo)  # no socket: the connection's two streams only
    handler.wfile, handler.logged = io.BytesIO(), []
    handler.rfile = io.BytesIO(raw) if isinstance(raw, bytes) else _Reads(raw, handler.wfile)
    handler.handle()
    return _answers(handler.wfile.getvalue()), handler.logged


def _answers(written: bytes) -> list[tuple[str, dict[str, list[str]], bytes]]:
    out, rest = [], written
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        fields: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(": ")
            fields.setdefault(name.lower(), []).append(value)  # names are case-insensitive
        length = int(fields.get("content-length", ["0"])[0]) if not status.endswith("Continue") else 0
        out.append((status, fields, rest[:length]))
        rest = rest[length:]
    return out


def test_keep_alive_requests_are_answered_in_turn_with_their_bodies_and_fields():
    raw = (
        b"GET /v1/anomalies?limit=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nX-Spaced:  a b \t\r\n\r\n"
        b'POST /v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n{"a":1}'
    )
    answers, logged = _talk(raw)
    assert [a[0] for a in answers] == ["HTTP/1.1 201 Created"] * 2
    first, second = (json.loads(a[2]) for a in answers)
    assert first == {
        "method": "GET",
        "target": "/v1/anomalies?limit=2",
        "headers": {"host": "x", "authorization": "Bearer k", "x-spaced": "a b"},
        "body": "",
    }
    assert (second["body"], second["headers"]["x-twice"]) == ('{"a":1}', "2")  # a repeated field: its last value
    _, fields, body = answers[0]
    assert fields["set-cookie"] == ["a=1", "b=2"] and fields["content-length"] == [str(len(body))]
    assert "connection" not in fields and fields["server"] == ["dd0c-cost-local"] and fields["date"]
    assert logged == [("GET", "/v1/anomalies?limit=2", 201), ("POST", "/v1/ingest", 201)]


def test_connection_close_http_1_0_and_head():
    answers, _ = _talk(b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(answers) == 1 and answers[0][1]["connection"] == ["close"]
    answers, _ = _talk(b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    assert len(answers) == 1 and answers[0][1]["connection"] == ["close"]
    answers, _ = _talk(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    assert len(answers) == 1 and answers[0][1]["connection"] == ["close"]  # no HTTP/1.0 connection is kept
    handler = _Echo.__new__(_Echo)
    handler.rfile, handler.wfile, handler.logged = io.BytesIO(b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"), io.BytesIO(), []
    handler.handle()
    head = handler.wfile.getvalue()
    assert head.endswith(b"\r\n\r\n") and b"content-length: " in head  # the length of the body it does not send


def test_expect_100_continue_is_answered_before_the_body_is_read():
    head = b"PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    handler = _Echo.__new__(_Echo)
    handler.wfile, handler.logged = io.BytesIO(), []
    handler.rfile = reads = _Reads([b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + head, b"h", b"i"], handler.wfile)
    handler.handle()
    answers = _answers(handler.wfile.getvalue())
    assert [a[0] for a in answers] == ["HTTP/1.1 201 Created", "HTTP/1.1 100 Continue", "HTTP/1.1 201 Created"]
    assert json.loads(answers[2][2])["body"] == "hi"
    before_body = _answers(reads.seen_before_read[1])  # written when the body's first byte was asked for
    assert [a[0] for a in before_body] == ["HTTP/1.1 201 Created", "HTTP/1.1 100 Continue"]  # after /first's answer
    answers, _ = _talk(head + b"hi")  # the body came with the head: nothing to wait for (RFC 9110, 10.1.1)
    assert [a[0] for a in answers] == ["HTTP/1.1 201 Created"]


def test_what_cannot_be_read_is_refused_and_the_connection_closes():
    cases = {
        b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n": (400, "bad_request"),
        b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n": (400, "bad_request"),
        b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx": (400, "bad_request"),
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n" + b"x" * 101: (413, "body_too_large"),
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" + b"x" * 101 + b"\r\n0\r\n\r\n": (
            413,
            "body_too_large",
        ),
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n": (501, "not_implemented"),
        b"GET /a HTTP/1.1\r\n\r\n": (400, "bad_request"),  # HTTP/1.1 without Host
        b"GET /a\r\n\r\n": (400, "bad_request"),
        b"HELLO\r\n\r\n": (400, "bad_request"),
        b"GET /a HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n": (400, "bad_request"),
        b"GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n": (400, "bad_request"),  # RFC 9112, 5.2
        b"GET /a HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n": (400, "bad_request"),
        b"GET /a?\xff HTTP/1.1\r\nHost: x\r\n\r\n": (400, "bad_request"),
        b"get /a HTTP/1.1\r\nHost: x\r\n\r\n": (400, "bad_request"),
        b"GET /a HTTP/2.0\r\nHost: x\r\n\r\n": (505, "http_version_not_supported"),
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n": (
            400,
            "bad_request",
        ),
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n": (400, "bad_request"),
        b"GET /a HTTP/1.1\r\nHost: x\r\n" + b"x: y\r\n" * 101 + b"\r\n": (431, "header_too_large"),
        b"GET /" + b"a" * 140_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": (431, "header_too_large"),  # a head over 64 KiB
        b"GET /a HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 70_000 + b"\r\n\r\n": (
            431,
            "header_too_large",
        ),
    }
    for raw, (status, error) in cases.items():
        answers, logged = _talk(raw + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        assert len(answers) == 1, raw[:40]
        _, fields, body = answers[0]
        assert (int(answers[0][0].split()[1]), json.loads(body)["error"]) == (status, error), raw[:40]
        assert fields["connection"] == ["close"] and logged == [("-", "-", status)]


def test_a_chunked_body_is_read_whole():
    answers, _ = _talk(
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n3;x=y\r\n th\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert [json.loads(a[2])["body"] for a in answers] == ["hi th", ""]


def test_a_client_that_goes_away_mid_request_gets_nothing_and_raises_nothing():
    for raw in (b"", b"GET /a HTTP/1.1\r\nHost: x\r\n", b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc"):
        answers, logged = _talk(raw)
        assert answers == [] and logged == []


def test_pipelined_requests_are_answered_in_turn_however_the_bytes_arrive():
    raw = (
        b"\r\nPOST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"  # an empty line before: skipped
        b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
        b"GET /c?d=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    whole, logged = _talk(raw)
    assert [(json.loads(a[2])["target"], json.loads(a[2])["body"]) for a in whole] == [
        ("/a", "abc"),
        ("/b", "de"),
        ("/c?d=1", ""),
    ]
    assert [entry[1] for entry in logged] == ["/a", "/b", "/c?d=1"]
    for size in (1, 7, 50):  # the same requests cut anywhere: in the request line, a field, a chunk
        pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
        assert [json.loads(a[2]) for a in _talk(pieces)[0]] == [json.loads(a[2]) for a in whole], size


def test_a_bad_request_after_good_ones_is_refused_after_they_are_answered():
    answers, logged = _talk(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nbad\r\n\r\n")
    assert [a[0] for a in answers] == ["HTTP/1.1 201 Created", "HTTP/1.1 400 Bad Request"]
    assert "connection" not in answers[0][1] and answers[1][1]["connection"] == ["close"]
    assert logged == [("GET", "/a", 201), ("-", "-", 400)]


def test_an_upgrade_is_answered_as_http_and_the_connection_closes():
    answers, _ = _talk(b"GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x05hello")
    assert [a[0] for a in answers] == ["HTTP/1.1 201 Created"] and answers[0][1]["connection"] == ["close"]


def test_a_header_field_that_never_ends_is_refused_without_reading_it_all():
    pieces = [b"GET /a HTTP/1.1\r\nHost: x\r\nX: "] + [b"y" * 65536] * 100
    handler = _Echo.__new__(_Echo)
    handler.wfile, handler.logged = io.BytesIO(), []
    handler.rfile = reads = _Reads(pieces, handler.wfile)
    handler.handle()
    answers = _answers(handler.wfile.getvalue())
    assert [a[0] for a in answers] == ["HTTP/1.1 431 Request Header Fields Too Large"]
    assert len(reads.seen_before_read) <= 4  # refused once the head passed 64 KiB + one read, not at the end
