"""The server process from outside: shutting it down by signals (fast, immediate, kill) and, for
ephemeral servers, dying with the process that started them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from dd0c_cost_tools.local.embedded_pg.errors import EmbeddedPostgresError
from dd0c_cost_tools.local.embedded_pg.locking import pid_alive


def shell_quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def shutdown(pid: int, pgdata: Path, *, timeout: float, proc: subprocess.Popen | None) -> None:
    """SIGINT (fast shutdown), then SIGQUIT (immediate), then SIGKILL; wait for the PID to go."""

    def gone() -> bool:
        if proc is not None and proc.pid == pid:
            return proc.poll() is not None
        return not pid_alive(pid)

    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        delay = 0.002
        while time.monotonic() < deadline:
            if gone():
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)
    raise EmbeddedPostgresError(f"postgres (pid {pid}, {pgdata}) did not stop")


# PR_SET_PDEATHSIG: an ephemeral server shuts down (fast) if the process that started it dies
# without calling stop(), e.g. a killed test run. Linux only; only from the main thread, as the
# signal fires when the *thread* that forked exits.
_libc = None


def can_die_with_parent() -> bool:
    global _libc
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return False
    if _libc is None:
        try:
            import ctypes

            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = False
    return bool(_libc)


def die_with_parent() -> None:  # runs in the child between fork and exec
    _libc.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG = 1
