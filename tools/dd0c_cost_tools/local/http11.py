"""HTTP/1.1 for ``dd0c-cost serve``: read a request, write its answer, keep the connection alive.

``http.server.BaseHTTPRequestHandler`` parsed each request's headers with the ``email`` package and
wrote each answer in two system calls (headers, then body): about 0.2 ms of CPU per request, as
much as the rest of the local server and a fifth of what a list request costs (docs/decisions.md,
90). ``Http11Handler`` does what ``serve`` needs of HTTP/1.1 and no more: a request line, header
fields (names case-insensitive; a repeated field's last value, as before; obsolete line folding
joined), a body framed by ``Content-Length`` (``Expect: 100-continue`` answered; a chunked body is
refused with 411), keep-alive by the version's default and ``Connection``; each answer is one write.
"""

from __future__ import annotations

import socketserver
import sys
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple

MAX_LINE = 65536  # as http.client / http.server
MAX_HEADERS = 100
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
        try:
            while True:
                try:
                    head = self._read_head()
                    if head is None:
                        return  # the client closed the connection
                    method, target, version, headers = head
                    keep_alive = _keeps_alive(version, headers.get("connection", ""))
                    body = self._read_body(version, headers)
                except Refused as refusal:
                    status, fields, data = self.refused(refusal)
                    self._write(status, fields, data, keep_alive=False, head_only=False)
                    self.log("-", "-", status)
                    return
                status, fields, data = self.answer(Request(method, target, headers, body))
                self._write(status, fields, data, keep_alive=keep_alive, head_only=method == "HEAD")
                self.log(method, target, status)
                if not keep_alive:
                    return
        except (ConnectionError, TimeoutError):  # the client went away mid-request: nobody to answer
            return

    def _read_head(self) -> tuple[str, str, str, dict[str, str]] | None:
        line = self.rfile.readline(MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):  # an empty line before a request is ignored (RFC 9112, 2.2)
            line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE:
            raise Refused(414, "uri_too_long", "the request line is too long")
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise Refused(400, "bad_request", "not an HTTP/1.x request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        name = ""
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise Refused(431, "header_too_large", "a header line is too long")
            if line in (b"\r\n", b"\n"):
                return method, target, version, headers
            if not line:
                raise ConnectionResetError("the connection closed in the request's header")
            text = line.decode("latin-1")
            if text[0] in " \t" and name:  # obsolete line folding: part of the previous field
                headers[name] += " " + text.strip()
                continue
            field, colon, value = text.partition(":")
            name = field.strip().lower()
            if not colon or not name:
                raise Refused(400, "bad_request", "a header line without a field name")
            headers[name] = value.strip()
        raise Refused(431, "header_too_large", f"more than {MAX_HEADERS} header fields")

    def _read_body(self, version: str, headers: dict[str, str]) -> bytes:
        if "transfer-encoding" in headers:
            raise Refused(411, "length_required", "send the body with a Content-Length, not chunked")
        try:
            length = int(headers.get("content-length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            raise Refused(400, "bad_content_length", "Content-Length is not a number of bytes") from None
        if length > self.max_body:
            raise Refused(413, "body_too_large", f"request body is {length:,} bytes; the limit is {self.max_body:,}")
        if not length:
            return b""
        if headers.get("expect", "").lower() == "100-continue" and version != "HTTP/1.0":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionResetError("the body ended early")
        return body

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


def _keeps_alive(version: str, connection: str) -> bool:
    """HTTP/1.1 keeps a connection unless it says ``close``; HTTP/1.0 only if it asks for ``keep-alive``."""
    options = {o.strip().lower() for o in connection.split(",")}
    return "close" not in options if version != "HTTP/1.0" else "keep-alive" in options
