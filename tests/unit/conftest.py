"""Unit tests do no I/O beyond reading files: no servers, databases, subprocesses or network.

Every unit test runs with socket connections and process creation refused, so a test that needs
them fails here and belongs in tests/integration (PostgreSQL, moto, local fakes, subprocesses).
"""

from __future__ import annotations

import socket
import subprocess

import pytest


class UnitTestIO(AssertionError):
    """A unit test tried to reach a server or start a process: move it to tests/integration."""


@pytest.fixture(autouse=True)
def _no_io_in_unit_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(what: str):
        def refused(*args, **kwargs):
            raise UnitTestIO(f"unit tests do no I/O: {what}{args[1:2]!r} (move the test to tests/integration)")

        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("subprocess"))
