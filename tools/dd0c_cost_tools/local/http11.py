"""HTTP/1.1 for ``dd0c-cost serve``: read a request, write its answer, keep the connection alive.

``h11`` (python-hyper's sans-IO HTTP/1.1 state machine) reads the requests and frames the answers:
request line, header fields (names in lower case; a repeated field's last value, as before),
bodies framed by ``Content-Length`` or chunked, ``Expect: 100-continue``, keep-alive by the
version and ``Connection`` (h11 keeps no HTTP/1.0 connection open), and what is not HTTP/1.1
refused with its status. This module moves the bytes: each answer is one write, where
``http.server`` parsed headers with the ``email`` package and wrote each answer in two system
calls (docs/decisions.md, 90).
"""

from __future__ import annotations

import socketserver
import sys
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple

import h11

MAX_HEAD = 65536  # request line and header fields, as http.server's per line
MAX_HEADERS = 100  # as http.client / http.server
_READ = 65536
_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}
_ERRORS = {413: "body_too_large", 431: "header_too_large", 501: "not_implemented"}


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
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self._peer_closed = False
        try:
            while True:
                try:
                    request = self._read_request(connection)
                except Refused as refusal:
                    status, fields, data = self.refused(refusal)
                    self._write(connection, status, fields, data, head_only=False, close=True)
                    self.log("-", "-", status)
                    return
                if request is None:
                    return  # the client closed the connection
                status, fields, data = self.answer(request)
                self._write(connection, status, fields, data, head_only=request.method == "HEAD")
                self.log(request.method, request.target, status)
                if connection.our_state is not h11.DONE:  # MUST_CLOSE: HTTP/1.0 or "Connection: close"
                    return
                connection.start_next_cycle()
        except (ConnectionError, TimeoutError):  # the client went away mid-request: nobody to answer
            return

    def _read_request(self, connection: h11.Connection) -> Request | None:
        head = self._next_event(connection)
        if not isinstance(head, h11.Request):
            return None  # ConnectionClosed
        if len(head.headers) > MAX_HEADERS:
            raise Refused(431, "header_too_large", f"more than {MAX_HEADERS} header fields")
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in head.headers}
        length = int(headers.get("content-length") or 0)  # h11 has checked it is a number
        if length > self.max_body:
            raise Refused(413, "body_too_large", f"request body is {length:,} bytes; the limit is {self.max_body:,}")
        if connection.they_are_waiting_for_100_continue:
            self.wfile.write(
                connection.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")) or b""
            )
        body = b""
        while isinstance(event := self._next_event(connection), h11.Data):
            body += event.data
            if len(body) > self.max_body:  # a chunked body: its length is known as it comes
                raise Refused(413, "body_too_large", f"request body is over the limit of {self.max_body:,} bytes")
        return Request(head.method.decode("ascii"), head.target.decode("latin-1"), headers, body)

    def _next_event(self, connection: h11.Connection) -> h11.Event:
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError as error:
                if self._peer_closed:
                    raise ConnectionResetError(str(error)) from None
                status = error.error_status_hint
                raise Refused(status, _ERRORS.get(status, "bad_request"), str(error)) from None
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]  # not PAUSED: a request is read only when both sides are idle
            data = self.rfile.read1(_READ)
            self._peer_closed = not data
            connection.receive_data(data)

    def _write(
        self,
        connection: h11.Connection,
        status: int,
        fields: list[tuple[str, str]],
        data: bytes,
        *,
        head_only: bool,
        close: bool = False,
    ) -> None:
        headers = [
            ("server", self.server_name),
            ("date", _date()),
            *((k, v) for k, v in fields if k.lower() not in ("content-length", "connection")),
            ("content-length", str(len(data))),
        ]
        if close:  # h11 then keeps the connection no longer
            headers.append(("connection", "close"))
        response = h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, b""))
        parts = [connection.send(response)]
        if data and not head_only:
            parts.append(connection.send(h11.Data(data=data)))
        parts.append(connection.send(h11.EndOfMessage()))
        self.wfile.write(b"".join(p for p in parts if p))
