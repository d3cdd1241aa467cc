"""HTTP/1.1 for ``dd0c-cost serve``: read a request, write its answer, keep the connection alive.

``httptools`` (llhttp, Node's HTTP/1.1 parser, in C) reads the requests: request line, header
fields (names in lower case; a repeated field's last value, as before), bodies framed by
``Content-Length`` or chunked, keep-alive by the version and ``Connection``, pipelined requests in
turn, and what is not HTTP/1.1 refused. This module adds what a server must decide itself: limits
(head, header count, body), ``Host`` required in HTTP/1.1, ``Expect: 100-continue``, transfer
codings other than chunked refused with 501, and no HTTP/1.0 connection kept open; it writes each
answer in one write. h11 read them before, at about seven times the CPU (docs/decisions.md, 90, 93).
"""

from __future__ import annotations

import collections
import socketserver
import sys
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple

import httptools

MAX_HEAD = 65536  # request line and header fields, as http.server's per line
MAX_HEADERS = 100  # as http.client / http.server
_READ = 65536
_REASONS = {s.value: s.phrase for s in HTTPStatus}


class Request(NamedTuple):
    method: str
    target: str  # as sent: path and query
    headers: dict[str, str]  # names in lower case
    body: bytes


class Refused(Exception):
    """A request that cannot be read: answered with ``status`` in the API's error shape, then the connection closes."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


class _Date:
    """The ``Date`` header's value, written once a second."""

    def __init__(self) -> None:
        self._second, self._text = -1, ""

    def __call__(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._text = now, formatdate(now, usegmt=True)
        return self._text


_date = _Date()


class _Requests:
    """httptools' callbacks for one connection: the requests read so far, in order, each with whether the
    connection stays open after it; then what stopped the reading (a refusal), if anything did."""

    def __init__(self, max_body: int) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.max_body = max_body
        self.ready: collections.deque[tuple[Request, bool]] = collections.deque()
        self.refusal: Refused | None = None
        self.wants_continue = False  # a head that asked for "100 Continue" and whose body has not come
        self.in_head = False
        self._head_read = 0  # bytes read while the head is incomplete (from the read in which it began)
        self.on_message_begin()
        self.in_head = False

    def feed(self, data: bytes) -> None:
        began_in_head = self.in_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # the rest is another protocol: the connection closes after the answer
            if self.ready:
                self.ready[-1] = (self.ready[-1][0], False)
            else:
                self.refusal = Refused(400, "bad_request", "an upgrade without a request")
        except httptools.HttpParserCallbackError as error:
            if not isinstance(error.__context__, Refused):
                raise
            self.refusal = error.__context__
        except httptools.HttpParserError as error:
            self.refusal = Refused(400, "bad_request", str(error))
        if self.in_head:  # a field still incomplete is held by httptools: its size is bounded here
            self._head_read = self._head_read + len(data) if began_in_head else len(data)
            if self._head_read > MAX_HEAD + _READ and self.refusal is None:
                self.refusal = Refused(431, "header_too_large", f"the request's head is over {MAX_HEAD:,} bytes")

    def on_message_begin(self) -> None:
        self.in_head, self._head_read, self._head_size, self._fields = True, 0, 0, 0
        self._target, self._headers, self._body, self._body_size = b"", {}, [], 0
        self._keep_alive = False

    def on_url(self, url: bytes) -> None:
        self._grow_head(len(url))
        self._target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._grow_head(len(name) + len(value) + 4)
        self._fields += 1
        if self._fields > MAX_HEADERS:
            raise Refused(431, "header_too_large", f"more than {MAX_HEADERS} header fields")
        self._headers[name.decode("latin-1").lower()] = value.rstrip(b" \t").decode("latin-1")

    def on_headers_complete(self) -> None:
        self.in_head = False
        version, headers = self.parser.get_http_version(), self._headers
        if version not in ("1.0", "1.1"):
            status = 400 if version == "0.9" else 505  # 0.9: no version at all
            raise Refused(status, _error_name(status), f"HTTP/1.1 or HTTP/1.0 only, not {version}")
        if version == "1.1" and "host" not in headers:
            raise Refused(400, "bad_request", "an HTTP/1.1 request needs a Host field")
        codings = headers.get("transfer-encoding")
        if codings is not None and codings.rsplit(",", 1)[-1].strip().lower() != "chunked":
            raise Refused(501, "not_implemented", f"transfer coding {codings!r}: only chunked is read")
        length = int(headers.get("content-length") or 0)  # llhttp has checked it is a number
        if length > self.max_body:
            raise Refused(413, "body_too_large", f"request body is {length:,} bytes; the limit is {self.max_body:,}")
        self._keep_alive = version == "1.1" and self.parser.should_keep_alive()
        self.wants_continue = version == "1.1" and headers.get("expect", "").lower() == "100-continue"

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self.max_body:  # a chunked body: its length is known as it comes
            raise Refused(413, "body_too_large", f"request body is over the limit of {self.max_body:,} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.wants_continue = False
        method = self.parser.get_method().decode("ascii")
        request = Request(method, self._target.decode("latin-1"), self._headers, b"".join(self._body))
        self.ready.append((request, self._keep_alive))

    def _grow_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD:
            raise Refused(431, "header_too_large", f"the request's head is over {MAX_HEAD:,} bytes")


def _error_name(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "_")


class Http11Handler(socketserver.StreamRequestHandler):
    """One connection: requests answered in turn by ``answer`` until either side closes it."""

    disable_nagle_algorithm = True  # each answer is one write: nothing to coalesce
    server_name = "dd0c-cost-local"
    max_body = 10 * 1024 * 1024

    def answer(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:  # pragma: no cover - overridden
        """(status, headers, body) for ``request``."""
        raise NotImplementedError

    def refused(self, refusal: Refused) -> tuple[int, list[tuple[str, str]], bytes]:  # pragma: no cover - overridden
        raise NotImplementedError

    def log(self, method: str, target: str, status: int) -> None:
        print(f"{method} {target} -> {status}", file=sys.stderr)

    def handle(self) -> None:
        requests = _Requests(self.max_body)
        try:
            while True:
                try:
                    read = self._next_request(requests)
                except Refused as refusal:
                    status, fields, data = self.refused(refusal)
                    self._write(status, fields, data, keep_alive=False, head_only=False)
                    self.log("-", "-", status)
                    return
                if read is None:
                    return  # the client closed the connection
                request, keep_alive = read
                status, fields, data = self.answer(request)
                self._write(status, fields, data, keep_alive=keep_alive, head_only=request.method == "HEAD")
                self.log(request.method, request.target, status)
                if not keep_alive:  # HTTP/1.0, "Connection: close" or an upgrade
                    return
        except (ConnectionError, TimeoutError):  # the client went away mid-request: nobody to answer
            return

    def _next_request(self, requests: _Requests) -> tuple[Request, bool] | None:
        """The next request read whole (pipelined ones were read with it), or None when the client closed first."""
        while not requests.ready:
            if requests.refusal is not None:
                raise requests.refusal
            if requests.wants_continue:  # asked only now: the requests before it have been answered
                requests.wants_continue = False
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            data = self.rfile.read1(_READ)
            if not data:
                return None
            requests.feed(data)
        return requests.ready.popleft()

    def _write(
        self, status: int, fields: list[tuple[str, str]], data: bytes, *, keep_alive: bool, head_only: bool
    ) -> None:
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, '')}",
            f"server: {self.server_name}",
            f"date: {_date()}",
            *(f"{k}: {v}" for k, v in fields if k.lower() not in ("content-length", "connection")),
            f"content-length: {len(data)}",
        ]
        if not keep_alive:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if head_only else head + data)
