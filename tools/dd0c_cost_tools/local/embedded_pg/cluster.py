"""One cluster's lifecycle: initialise (or copy from the template cache), configure, start (as a
child or detached, adopting a server already running on the directory), wait until ready, stop.
The files (directory, initdb, settings) are ``cluster_files``; signals and shutdown ``process``."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from dd0c_cost_tools.local.embedded_pg.binaries import RunAs, find_pg_bin, run_as, user_env
from dd0c_cost_tools.local.embedded_pg.cluster_files import SUPERUSER, ClusterFiles
from dd0c_cost_tools.local.embedded_pg.databases import create_database, drop_database
from dd0c_cost_tools.local.embedded_pg.errors import (
    EmbeddedPostgresError,
    PortInUseError,
    SharedMemoryInUseError,
    classify_failure,
)
from dd0c_cost_tools.local.embedded_pg.locking import pid_alive, read_pidfile
from dd0c_cost_tools.local.embedded_pg.ports import HOST, free_port, port_in_use
from dd0c_cost_tools.local.embedded_pg.process import can_die_with_parent, die_with_parent, shell_quote, shutdown

DEFAULT_DATABASE = "dd0c"

_LOG_NAME = "server.log"  # inside the cluster directory (writable by the server's user)

# Ephemeral (test) servers: durability off, small memory, quick shutdown.
_EPHEMERAL_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "200",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "checkpoint_timeout": "1d",
    "max_wal_size": "1GB",
    "autovacuum": "off",
    "jit": "off",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
}


def _make_url(port: int, dbname: str) -> str:
    return f"postgresql://{SUPERUSER}@{HOST}:{port}/{dbname}"


class EmbeddedPostgres(ClusterFiles):
    """A PostgreSQL cluster in ``data_dir`` (``data_dir/pgdata``), started and stopped from Python.

    ``start()`` initialises the cluster if needed, starts the server (or adopts the one already
    running on this directory), creates the ``dd0c`` database if missing and returns its URL.
    ``stop()`` stops the server. With ``detached=True`` the server is started through ``pg_ctl``
    and outlives this process; otherwise it is this process's child. ``ephemeral=True`` applies
    speed-over-durability settings; instances from :meth:`ephemeral` also delete their directory
    on ``stop()``.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int | None = None,
        database: str = DEFAULT_DATABASE,
        ephemeral: bool = False,
        detached: bool = False,
        settings: dict[str, str] | None = None,
        bin_dir: Path | str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.database = database
        self.is_ephemeral = ephemeral
        self.detached = detached
        self.startup_timeout = startup_timeout
        self._requested_port = port
        self._port: int | None = port
        self._extra_settings = dict(settings or {})
        self._bin_dir = Path(bin_dir) if bin_dir else None
        self._proc: subprocess.Popen | None = None
        self._pid: int | None = None
        self._owns_dir = False
        self._run_as_cache: tuple[bool, RunAs | None] = (False, None)
        self.start_seconds: float | None = None  # wall time of the last start() call
        self._log_offset = 0

    # ---- construction helpers

    @classmethod
    def ephemeral(cls, *, port: int | None = None, prefix: str = "dd0c-pg-", **kwargs) -> EmbeddedPostgres:
        """A throw-away, fast server in a new temporary directory, removed by ``stop()``."""
        tmp = Path(tempfile.mkdtemp(prefix=prefix))
        pg = cls(tmp, port=port, ephemeral=True, **kwargs)
        pg._owns_dir = True
        run_as = pg._get_run_as()
        if run_as is not None:
            os.chown(tmp, run_as.uid, run_as.gid)
        return pg

    # ---- properties

    @property
    def _pgdata_link(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def pgdata(self) -> Path:
        """The cluster directory: ``data_dir/pgdata``, or where that symlink points (root; see
        the module docstring). The server's user may not be able to traverse the symlink's path."""
        link = self._pgdata_link
        return Path(os.path.realpath(link)) if link.is_symlink() else link

    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = find_pg_bin()
        return self._bin_dir

    @property
    def port(self) -> int:
        if self._port is None:
            self._port = self._configured_port()
        if self._port is None:
            raise EmbeddedPostgresError("server has no port yet: call start()")
        return self._port

    @property
    def url(self) -> str:
        """Superuser URL of the ``dd0c`` database."""
        return _make_url(self.port, self.database)

    def database_url(self, dbname: str) -> str:
        return _make_url(self.port, dbname)

    @property
    def log_path(self) -> Path:
        """The server log: in the cluster dir when detached (pg_ctl opens it as the server's user)."""
        return self.pgdata / _LOG_NAME if self.detached else self.data_dir / _LOG_NAME

    def _get_run_as(self) -> RunAs | None:
        done, value = self._run_as_cache
        if not done:
            value = run_as()
            self._run_as_cache = (True, value)
        return value

    # ---- state

    def _server_pid(self) -> int | None:
        """PID of a live postmaster serving this cluster, according to postmaster.pid."""
        info = read_pidfile(self.pgdata)
        if info is None or not pid_alive(info.pid):
            return None
        if not self._looks_like_postmaster(info.pid):
            return None
        return info.pid

    def _looks_like_postmaster(self, pid: int) -> bool:
        """Guards against a recycled PID in a stale postmaster.pid."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return True  # no /proc (not Linux): trust the PID
        if not cmdline or not cmdline[0]:
            return False
        exe = os.path.basename(cmdline[0].decode(errors="replace"))
        if exe not in ("postgres", "postmaster"):
            return False
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return True
        return os.path.realpath(cwd) == os.path.realpath(self.pgdata)

    def is_running(self) -> bool:
        """Whether a server for this cluster is running and accepting connections."""
        if self._proc is not None and self._proc.poll() is not None:
            self._reap()
        info = read_pidfile(self.pgdata)
        return info is not None and info.status == "ready" and self._server_pid() is not None

    # ---- start / stop

    def start(self) -> str:
        """Start (or adopt) the server and return the superuser URL of the ``dd0c`` database."""
        t0 = time.perf_counter()
        if self._proc is not None and self._proc.poll() is None and self.is_running():
            return self.url
        self.bin_dir  # noqa: B018  # fail early with a clear message
        self._prepare_dirs()
        if not self._initialized():
            self._check_owner()
            self._initdb()
        self._check_owner()

        pid = self._adoptable_pid()
        if pid is not None:
            # Already running (e.g. the detached per-user server): adopt it.
            self._wait_ready(pid, proc=None)
            info = read_pidfile(self.pgdata)
            self._pid = pid
            self._port = (info.port if info else None) or self._configured_port()
        else:
            self._start_new()
        self._ensure_database()
        self.start_seconds = time.perf_counter() - t0
        return self.url

    def _choose_port(self, retry: bool) -> int:
        if self._requested_port is not None:
            return self._requested_port
        if not self.is_ephemeral and not retry:
            remembered = self._configured_port()
            if remembered is not None:
                return remembered
        return free_port()

    def _start_new(self) -> None:
        attempts = 1 if self._requested_port is not None else 3
        last_error: Exception | None = None
        orphan_deadline = time.monotonic() + 10.0
        attempt = 0
        while attempt < attempts:
            port = self._choose_port(retry=attempt > 0)
            if attempt == 0 and not self.is_ephemeral and self._requested_port is None and port_in_use(port):
                port = free_port()  # the remembered port was taken by something else meanwhile
            self._write_conf(port)
            self._port = port
            try:
                self._log_offset = self.log_path.stat().st_size  # only this attempt's lines count
            except OSError:
                self._log_offset = 0
            try:
                if self.detached:
                    self._start_detached()
                else:
                    self._start_child()
                return
            except PortInUseError as e:
                last_error = e
                attempt += 1
            except SharedMemoryInUseError as e:
                # Backends of a crashed (SIGKILLed) postmaster are still exiting: wait for them.
                last_error = e
                if time.monotonic() > orphan_deadline:
                    break
                time.sleep(0.1)
        raise EmbeddedPostgresError(f"could not start PostgreSQL: {last_error}")

    def _server_args(self) -> list[str]:
        args = [str(self.bin_dir / "postgres"), "-D", str(self.pgdata)]
        settings = dict(_EPHEMERAL_SETTINGS) if self.is_ephemeral else {}
        settings.update(self._extra_settings)
        for k, v in settings.items():
            args += ["-c", f"{k}={v}"]
        return args

    def _start_child(self) -> None:
        run_as = self._get_run_as()
        log = open(self.data_dir / _LOG_NAME, "ab")  # noqa: SIM115  # opened by us: works for any server user
        try:
            self._proc = subprocess.Popen(
                self._server_args(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd="/",
                env=user_env(run_as),
                close_fds=True,
                preexec_fn=die_with_parent if self.is_ephemeral and can_die_with_parent() else None,
                **(run_as.popen_kwargs() if run_as else {}),
            )
        finally:
            log.close()
        self._wait_ready(self._proc.pid, proc=self._proc)
        self._pid = self._proc.pid

    def _start_detached(self) -> None:
        """Start through ``pg_ctl`` so the server is not our child and outlives this process."""
        run_as = self._get_run_as()
        opts = " ".join(shell_quote(a) for a in self._server_args()[3:])
        cmd = [
            str(self.bin_dir / "pg_ctl"),
            "start",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-s",
            "-w",
            "-t",
            str(int(self.startup_timeout)),
        ]
        if opts:
            cmd += ["-o", opts]
        r = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd="/",
            env=user_env(run_as),
            start_new_session=True,
            **(run_as.popen_kwargs() if run_as else {}),
        )
        if r.returncode != 0:
            tail = self._log_tail(5)
            kind = classify_failure(tail)
            if kind is not None:
                raise kind(tail)
            raise EmbeddedPostgresError(f"pg_ctl start failed ({r.returncode}): {r.stdout}{r.stderr}\n{tail}")
        info = read_pidfile(self.pgdata)
        if info is None:
            raise EmbeddedPostgresError(f"server started but wrote no postmaster.pid\n{self._log_tail()}")
        self._pid = info.pid

    def _wait_ready(self, pid: int, proc: subprocess.Popen | None) -> None:
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.002
        while True:
            if proc is not None and proc.poll() is not None:
                self._proc = None
                tail = self._log_tail(5)
                kind = classify_failure(tail)
                if kind is not None:
                    raise kind(tail)
                tail = self._log_tail()
                raise EmbeddedPostgresError(f"postgres exited with code {proc.returncode} during startup:\n{tail}")
            if proc is None and not pid_alive(pid):
                raise EmbeddedPostgresError(f"postgres (pid {pid}) is gone:\n{self._log_tail()}")
            info = read_pidfile(self.pgdata)
            if info is not None and info.pid == pid and info.status == "ready":
                return
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(
                    f"postgres did not become ready within {self.startup_timeout:.0f}s:\n{self._log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _log_tail(self, n: int = 30) -> str:
        """The last ``n`` lines the server logged since the current start attempt."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            lines = []
        return "\n".join(lines[-n:]) if lines else f"(nothing in {self.log_path})"

    def _remove_stale_pidfile(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.pgdata / "postmaster.pid").unlink()

    def _adoptable_pid(self) -> int | None:
        """PID of a live server for this cluster, after dealing with a stale postmaster.pid.

        * no pid file: None.
        * the PID is a live postmaster of this cluster: returned (or, if it is shutting down,
          waited for and None).
        * otherwise the file is stale (garbage; the PID is dead, a zombie nobody reaps, or
          was recycled by an unrelated process) and is removed: PostgreSQL itself would refuse
          to start on a live or zombie PID ("lock file already exists"). Removing it is safe:
          backends orphaned by a crashed postmaster are still detected through the shared
          memory segment keyed on the data directory ("pre-existing shared memory block is
          still in use"), and start() waits for them to exit.
        """
        info = read_pidfile(self.pgdata)
        if info is None:
            return None
        if info.pid <= 0 or not pid_alive(info.pid) or not self._looks_like_postmaster(info.pid):
            self._remove_stale_pidfile()
            return None
        if info.status == "stopping":
            deadline = time.monotonic() + self.startup_timeout
            while pid_alive(info.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            return None if not pid_alive(info.pid) else info.pid
        return info.pid

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import errors, sql

        with psycopg.connect(self.database_url("postgres"), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if not exists:
                with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop the server (fast shutdown, then immediate, then SIGKILL); ephemeral: delete its dir."""
        try:
            pid = self._server_pid()
            if pid is None and self._proc is not None and self._proc.poll() is None:
                pid = self._proc.pid
            if pid is not None:
                shutdown(pid, self.pgdata, timeout=timeout, proc=self._proc)
            self._reap()
        finally:
            self._pid = None
            if self._owns_dir:
                self._remove_dir()

    def _reap(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None

    def _remove_dir(self) -> None:
        if self._pgdata_link.is_symlink():
            shutil.rmtree(self.pgdata, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- databases (for tests)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (optionally from ``template``) and return its URL."""
        create_database(self.database_url("postgres"), name, template=template)
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        drop_database(self.database_url("postgres"), name)

    # ---- context manager

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedPostgres({str(self.data_dir)!r}, port={self._port}, ephemeral={self.is_ephemeral})"
