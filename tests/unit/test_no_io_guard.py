"""The unit folder's guard (tests/unit/conftest.py) really refuses network and processes."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.unit.conftest import UnitTestIO


def test_a_socket_connection_is_refused():
    with pytest.raises(UnitTestIO), socket.create_connection(("127.0.0.1", 9), timeout=1):
        pass


def test_a_subprocess_is_refused():
    with pytest.raises(UnitTestIO):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
