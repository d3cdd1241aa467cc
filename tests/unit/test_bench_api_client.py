"""`bench api`'s load generator reads responses whole however they arrive (its own buffer, the head parsed once)."""

from __future__ import annotations

import http.client
import json

import pytest

from dd0c_cost_tools.bench.api import _Client, _next_cursor


class _Pieces:
    """A socket's ``recv_into`` that hands ``data`` out ``size`` bytes at a time, then b"" (closed)."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size, self.at = data, size, 0

    def recv_into(self, view: memoryview) -> int:
        n = min(self.size, len(view), len(self.data) - self.at)
        view[:n] = self.data[self.at : self.at + n]
        self.at += n
        return n


def _response(status: int, body: bytes) -> bytes:
    return f"HTTP/1.1 {status} X\r\nserver: t\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body


def _page(rows: int, cursor: str | None) -> bytes:
    row = {"id": "x" * 700}
    return json.dumps({"anomalies": [row] * rows, "next_cursor": cursor}, separators=(",", ":")).encode()


def _read_all(client: _Client) -> list[tuple[int, bytes]]:
    got = []
    while True:
        try:
            client.receive()
        except ConnectionResetError:
            return got
        while (whole := client.response()) is not None:
            got.append(whole)


@pytest.mark.parametrize("size", [1, 7, 1000, 65536, 1 << 20])
def test_responses_are_read_whole_in_any_pieces(size: int) -> None:
    big = _page(500, "c2")  # ~350 KB: the buffer grows past its first size
    stream = _response(200, _page(100, "c1")) + _response(200, big) + _response(401, b'{"error":"unauthorized"}')
    client = _Client(1, b"")
    client.sock = _Pieces(stream, size)  # type: ignore[assignment]
    got = _read_all(client)
    assert [s for s, _ in got] == [200, 200, 401]
    assert [_next_cursor(b) for _, b in got[:2]] == ["c1", "c2"]
    assert got[1][1] == big and got[2][1] == b'{"error":"unauthorized"}'
    assert client.filled == 0  # nothing left over


def test_a_response_without_length_is_refused_and_a_closed_connection_raises() -> None:
    client = _Client(1, b"")
    client.sock = _Pieces(b"HTTP/1.1 200 OK\r\nserver: t\r\n\r\n{}", 5)  # type: ignore[assignment]
    with pytest.raises(http.client.HTTPException):
        while client.response() is None:
            client.receive()
    client = _Client(1, b"")
    client.sock = _Pieces(_response(200, b"{}")[:20], 64)  # type: ignore[assignment]
    client.receive()
    assert client.response() is None
    with pytest.raises(ConnectionResetError):
        client.receive()
