"""Who owns a cluster: the file lock that serialises processes starting the per-user server, the
``postmaster.pid`` a running server writes, and whether a process is alive."""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        state = stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3]
        return state not in (b"Z", b"X")
    except (OSError, ValueError):
        return True


@dataclass(frozen=True)
class PidFile:
    pid: int
    datadir: str
    port: int | None
    status: str  # "starting", "stopping", "ready", "standby" or "" (PostgreSQL 10+)


def read_pidfile(pgdata: Path) -> PidFile | None:
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return PidFile(-1, "", None, "")  # partially written or garbage: treated as stale
    port = None
    with contextlib.suppress(IndexError, ValueError):
        port = int(lines[3])
    status = lines[7].strip() if len(lines) > 7 else ""
    return PidFile(pid, lines[1] if len(lines) > 1 else "", port, status)
