"""The embedded PostgreSQL server, against the real server binaries (never skipped)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from dd0c_cost_tools.local import embedded_pg
from dd0c_cost_tools.local.embedded_pg import (
    EmbeddedPostgres,
    PostgresNotFoundError,
    binaries,
    ensure_default_server,
    locking,
    stop_default_server,
)

TESTS_DIR = Path(__file__).resolve().parents[1]


def _query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])


def _proc_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def _wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not locking.pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def _ensure_in_subprocess(data_dir: Path) -> subprocess.Popen:
    code = "import sys; from dd0c_cost_tools.local.embedded_pg import ensure_default_server as e; print(e(sys.argv[1]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture
def app_dir():
    """An app data dir the server's user can reach (pytest's tmp_path is 0700 under root)."""
    d = Path(tempfile.mkdtemp(prefix="dd0c-test-app-"))
    d.chmod(0o755)
    yield d
    stop_default_server(d, remove=True)
    shutil.rmtree(d, ignore_errors=True)


# --- ephemeral mode -------------------------------------------------------------------------


def test_ephemeral_start_connect_query_stop():
    pg = EmbeddedPostgres.ephemeral()
    url = pg.start()
    try:
        print(f"ephemeral start(): {pg.start_seconds:.3f}s")
        assert url == f"postgresql://postgres@127.0.0.1:{pg.port}/dd0c"
        assert pg.url == url
        assert pg.is_running()
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (41), (1)")
            assert conn.execute("SELECT sum(x), current_database(), current_user FROM t").fetchone() == (
                42,
                "dd0c",
                "postgres",
            )
            # tuned for speed
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("off",)
            assert conn.execute("SHOW full_page_writes").fetchone() == ("off",)
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
            assert conn.execute("SHOW unix_socket_directories").fetchone() == ("",)
        pid = _postmaster_pid(pg.pgdata)
        # PostgreSQL refuses root: as root the server runs as an unprivileged user.
        uid = _proc_uid(pid)
        assert uid != 0 if os.geteuid() == 0 else uid == os.geteuid()
        assert pg.start_seconds is not None and pg.start_seconds < 30
    finally:
        pg.stop()
    assert not pg.is_running()
    assert not _port_open(pg.port)
    assert not pg.data_dir.exists()


def test_ephemeral_context_manager_and_no_template_cache(monkeypatch):
    monkeypatch.setenv("DD0C_PG_TEMPLATE_CACHE", "0")  # plain initdb path
    with EmbeddedPostgres.ephemeral() as pg:
        assert _query(pg.url, "SELECT 1") == [(1,)]
        data_dir = pg.data_dir
    assert not data_dir.exists()


def test_ephemeral_server_dies_with_its_process():
    """A test run killed without teardown does not leave its server behind."""
    script = textwrap.dedent(
        """
        import sys, time
        from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres
        pg = EmbeddedPostgres.ephemeral()
        pg.start()
        print(pg.data_dir, flush=True)
        time.sleep(120)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    data_dir = None
    try:
        data_dir = Path(child.stdout.readline().strip())
        pid = _postmaster_pid(data_dir / "pgdata")
        child.kill()
        child.wait()
        assert _wait_gone(pid), "the ephemeral server outlived the process that started it"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


# --- a managed (child) server on a kept directory ----------------------------------------


def test_class_data_persists_across_stop_start(app_dir):
    d = app_dir / "pg"
    with EmbeddedPostgres(d) as pg:
        _query(pg.url, "CREATE TABLE kept AS SELECT 7 AS v")
        port = pg.port
    assert not pg.is_running()
    with EmbeddedPostgres(d) as pg2:
        assert pg2.port == port
        assert _query(pg2.url, "SELECT v FROM kept") == [(7,)]


# --- persistent per-user server ---------------------------------------------------------


def test_persistent_data_survives_stop_and_start(app_dir):
    url = ensure_default_server(app_dir)
    _query(url, "CREATE TABLE kept (v text)")
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO kept VALUES ('still here')")
    assert stop_default_server(app_dir) is True
    pg = embedded_pg.default_server(app_dir)
    assert not pg.is_running()
    assert stop_default_server(app_dir) is False  # already stopped

    url2 = ensure_default_server(app_dir)
    assert url2 == url  # the port was chosen once and remembered
    assert _query(url2, "SELECT v FROM kept") == [("still here",)]


def test_second_ensure_reuses_running_server_after_cli_exit(app_dir):
    # First "CLI" process starts it and exits: the server stays up (detached).
    first = _ensure_in_subprocess(app_dir)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    url = out.strip()
    pgdata = embedded_pg.default_server(app_dir).pgdata
    pid = _postmaster_pid(pgdata)
    assert locking.pid_alive(pid)
    assert _query(url, "SELECT 1") == [(1,)]

    # A second call reuses it: same URL, same postmaster.
    assert ensure_default_server(app_dir) == url
    assert _postmaster_pid(pgdata) == pid
    (backend_start,) = _query(url, "SELECT pg_postmaster_start_time()")[0]
    assert ensure_default_server(app_dir) == url
    assert _query(url, "SELECT pg_postmaster_start_time()")[0] == (backend_start,)


def test_concurrent_ensure_calls_share_one_server(app_dir):
    procs = [_ensure_in_subprocess(app_dir) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    urls = {out.strip() for out, _ in results}
    assert len(urls) == 1
    assert _query(urls.pop(), "SELECT current_database()") == [("dd0c",)]


def test_remembered_port_taken_meanwhile_gets_a_new_one(app_dir):
    url = ensure_default_server(app_dir)
    port = embedded_pg.default_server(app_dir).port
    stop_default_server(app_dir)
    squatter = socket.socket()
    # The stopped server's port may still have TIME_WAIT connections; the squatter must not care.
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        url2 = ensure_default_server(app_dir)
        assert url2 != url
        assert _query(url2, "SELECT 1") == [(1,)]
        stop_default_server(app_dir)
    finally:
        squatter.close()
    assert ensure_default_server(app_dir) == url2  # the new port is the one remembered now


def _stale_pidfile(app_dir: Path, pid: int) -> Path:
    """Start and stop the server, then put back its postmaster.pid naming ``pid``."""
    ensure_default_server(app_dir)
    pgdata = embedded_pg.default_server(app_dir).pgdata
    lines = (pgdata / "postmaster.pid").read_text().split("\n")
    stop_default_server(app_dir)
    assert not (pgdata / "postmaster.pid").exists()
    lines[0] = str(pid)
    pidfile = pgdata / "postmaster.pid"
    pidfile.write_text("\n".join(lines))
    st = os.stat(pgdata)
    os.chown(pidfile, st.st_uid, st.st_gid)
    pidfile.chmod(0o600)
    return pgdata


def test_stale_pidfile_with_dead_pid_is_recovered(app_dir):
    dead = subprocess.Popen(["true"])
    dead.wait()
    pgdata = _stale_pidfile(app_dir, dead.pid)
    url = ensure_default_server(app_dir)
    assert _query(url, "SELECT 1") == [(1,)]
    assert _postmaster_pid(pgdata) != dead.pid


def test_stale_pidfile_with_recycled_pid_is_recovered(app_dir):
    # The PID now belongs to an unrelated live process: PostgreSQL alone would refuse to start.
    other = subprocess.Popen(["sleep", "60"])
    try:
        pgdata = _stale_pidfile(app_dir, other.pid)
        url = ensure_default_server(app_dir)
        assert _query(url, "SELECT 1") == [(1,)]
        assert _postmaster_pid(pgdata) != other.pid
        assert other.poll() is None  # left alone
    finally:
        other.kill()
        other.wait()


def test_crashed_server_is_restarted(app_dir):
    url = ensure_default_server(app_dir)
    _query(url, "CREATE TABLE kept AS SELECT 1 AS v")
    pgdata = embedded_pg.default_server(app_dir).pgdata
    pid = _postmaster_pid(pgdata)
    os.kill(pid, signal.SIGKILL)
    assert _wait_gone(pid)
    assert (pgdata / "postmaster.pid").exists()  # stale
    assert ensure_default_server(app_dir) == url
    assert _query(url, "SELECT v FROM kept") == [(1,)]  # crash recovery kept committed data


def test_unreachable_data_dir_uses_symlinked_cluster(tmp_path):
    """Under root, a data dir the server's user cannot traverse (pytest's 0700 tmp dirs, /root)
    still works: the cluster lives elsewhere and is symlinked. As non-root it is a plain run."""
    app = tmp_path / "app"
    try:
        url = ensure_default_server(app)
        assert _query(url, "SELECT 1") == [(1,)]
        link = embedded_pg.default_server(app).data_dir / "pgdata"
        assert link.is_symlink() == (os.geteuid() == 0 and not binaries.can_reach(binaries.run_as(), app))
    finally:
        target = os.path.realpath(embedded_pg.default_server(app).pgdata)
        stop_default_server(app, remove=True)
    assert not os.path.exists(target)


# --- binaries --------------------------------------------------------------------------


def test_bad_pg_bin_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DD0C_PG_BIN", str(tmp_path))
    with pytest.raises(PostgresNotFoundError, match="DD0C_PG_BIN"):
        binaries.find_pg_bin()


def test_no_binaries_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("DD0C_PG_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(binaries, "Path", _NoSystemPg)
    monkeypatch.setattr(binaries.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(PostgresNotFoundError, match="apt-get install postgresql"):
        binaries.find_pg_bin()


class _NoSystemPg(type(Path())):  # type: ignore[misc]
    def glob(self, pattern):  # /usr/lib/postgresql/*/bin finds nothing
        return iter(())


def test_find_pg_bin_finds_real_binaries():
    bin_dir = embedded_pg.find_pg_bin()
    assert (bin_dir / "postgres").is_file() and (bin_dir / "initdb").is_file()


# --- the pytest fixtures (tests/pg_fixture.py), in a child pytest run ------------------------


def test_pg_fixtures_end_to_end(tmp_path):
    (tmp_path / "test_uses_fixtures.py").write_text(
        textwrap.dedent(
            """
            import psycopg

            seen = []

            def test_a(fresh_database, pg_server):
                assert fresh_database != pg_server
                with psycopg.connect(fresh_database) as c:
                    c.execute("CREATE TABLE t (x int)")
                    assert c.execute("SELECT count(*) FROM pg_tables WHERE schemaname='public'").fetchone() == (1,)
                seen.append(fresh_database)

            def test_b(fresh_database, make_database):
                other = make_database()
                assert other != fresh_database
                with psycopg.connect(fresh_database) as c:  # empty again: a new database
                    assert c.execute("SELECT count(*) FROM pg_tables WHERE schemaname='public'").fetchone() == (0,)
                seen.extend([fresh_database, other])

            def test_c(pg_server):
                assert len(set(seen)) == 3
                with psycopg.connect(pg_server) as c:
                    names = {r[0] for r in c.execute("SELECT datname FROM pg_database")}
                assert "dd0c" in names
                assert not names & {u.rsplit("/", 1)[1] for u in seen}, "databases were not dropped"
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))}
    env.pop("DD0C_TEST_DATABASE_URL", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "pg_fixture",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 passed" in r.stdout
