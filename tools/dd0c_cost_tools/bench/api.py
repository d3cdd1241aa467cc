"""Latency of the local API (``dd0c-cost bench api``): ``GET /v1/anomalies`` pages of 100 rows
at concurrency 1 and 32, against ``dd0c-cost serve`` in its own process(es).

Setup: an ephemeral embedded PostgreSQL (fsync off: this measures the API, not the disk), the
migrations, one tenant with ``--anomalies`` anomalies (default 20,000) and a key. The server is
``dd0c-cost serve`` (the threaded server and the same resolver as Lambda) in a separate process, with
``--workers`` worker processes (each is one server, measured in turn in one run: default 1, 2 and 3 -- one
resolver; one per core; one more than the cores);
the clients are connections of this process (one thread, a selector), each keep-alive with one request
in flight at a time, each walking pages with the cursor (the first page, then ``next_cursor``, starting again at the end), for
``--seconds`` per concurrency level after a warm-up. Reported per level: requests, errors (any
non-200 or connection failure), p50, p99 and max latency, requests/s, the server's CPU time per
request (from /proc, the serve process and its workers: the machine's other work does not inflate
it), the database's (the postmaster and its backends) and the load generator's (this process: the
clients share the machine's cores with the server; they read each whole body but parse only its
``next_cursor``). A last line splits one
page's work in this process as the server's list path does it: the query (one round trip, the rows
loaded) and the page's JSON made from its rows.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

TARGET_P99_MS = 50.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _family(pid: int) -> list[int]:
    """``pid`` and its living children (serve's worker processes; the postmaster's backends)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if int(entry) == pid or parent == pid:
            found.append(int(entry))
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its living children."""
    total = 0.0
    for process in _family(pid):
        try:
            with open(f"/proc/{process}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _waits(pid: int) -> int:
    """Times the threads of ``pid`` and its children blocked (voluntary context switches): each is a wake-up
    later (a socket read or write that had to wait, a lock handed over, the database's answer)."""
    total = 0
    for process in _family(pid):
        try:
            tasks = os.listdir(f"/proc/{process}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{process}/task/{task}/status") as fh:
                    for line in fh:
                        if line.startswith("voluntary_ctxt_switches:"):
                            total += int(line.split()[1])
            except OSError:
                continue
    return total


def seed(url: str, n: int) -> tuple[str, str]:
    """One tenant with ``n`` anomalies (COPY); returns (tenant id, API key)."""
    import psycopg

    from dd0c_cost.db import operator

    op = operator.open_operator_connection(url)
    tenant = operator.ensure_tenant(op, "bench-api")
    key = operator.create_api_key(op, tenant)
    op.close()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    comps = json.dumps([{"name": "zscore", "value": 0.9, "reason": "far above the usual spend rate"}])
    with psycopg.connect(url, autocommit=True) as conn:  # superuser: outside RLS
        with conn.cursor().copy(
            "COPY dd0c.anomalies (id, tenant_id, account_id, region, service, resource_type, resource_ids, event_ids,"
            " actor, detected_at, score, severity, estimated_hourly_usd, status, summary, components, attributes)"
            " FROM STDIN"
        ) as copy:
            for i in range(n):
                copy.write_row(
                    (
                        uuid.UUID(int=i + 1),
                        tenant,
                        f"{100000000000 + i % 7:012d}",
                        "us-east-1",
                        "ec2",
                        "ec2:instance",
                        [f"i-{i:017x}"],
                        [uuid.UUID(int=i + 1).hex],
                        "arn:aws:iam::100000000000:user/ana",
                        t0 + timedelta(minutes=7 * i),
                        0.8,
                        "high",
                        12.5,
                        "open" if i % 3 else "acknowledged",
                        f"ana launched {1 + i % 9} × m5.large in us-east-1",
                        comps,
                        json.dumps({"instance_type": "m5.large", "quantity": 1 + i % 9}),
                    )
                )
        conn.execute("VACUUM ANALYZE dd0c.anomalies")
    return str(tenant), key


_READ = 1 << 16  # room a read is given at least (one loopback segment)


class _Client:
    """One keep-alive HTTP/1.1 connection of the load generator, walking pages with the cursor. Reads go into
    one buffer of its own (``recv_into``: no bytes object per read, no copy into a second buffer) and a
    response's head is parsed once, when it is whole: the generator shares the two cores with the server."""

    def __init__(self, port: int, request_head: bytes) -> None:
        self.port, self.head = port, request_head
        self.sock: socket.socket | None = None
        self.cursor: str | None = None
        self.buf = bytearray(4 * _READ)  # grows for a larger response
        self.filled = 0  # bytes of ``buf`` read
        self.status = self.body_at = 0  # of the response being read, once its head is read
        self.ends = 0  # where the response being read ends in ``buf``, once its head is read
        self.started = 0.0
        self.busy = False

    def connect(self, selector: selectors.BaseSelector) -> None:
        self.close(selector)
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        selector.register(self.sock, selectors.EVENT_READ, self)

    def close(self, selector: selectors.BaseSelector) -> None:
        if self.sock is not None:
            selector.unregister(self.sock)
            self.sock.close()
            self.sock = None
        self.filled = self.ends = 0
        self.busy = False

    def send(self, limit: int) -> None:
        path = f"/v1/anomalies?limit={limit}" + (f"&cursor={self.cursor}" if self.cursor else "")
        assert self.sock is not None
        self.started = time.perf_counter()
        self.busy = True
        self.sock.send(b"GET " + path.encode() + self.head)  # far smaller than an empty socket buffer

    def receive(self) -> None:
        """What has come on the connection, into the buffer."""
        if len(self.buf) - self.filled < _READ:
            self.buf.extend(bytes(len(self.buf)))
        assert self.sock is not None
        with memoryview(self.buf) as view:
            n = self.sock.recv_into(view[self.filled :])
        if not n:
            raise ConnectionResetError("closed by the server")
        self.filled += n

    def response(self) -> tuple[int, bytes] | None:
        """(status, body) once a whole response is in the buffer (Content-Length framing), else None."""
        if not self.ends:
            end = self.buf.find(b"\r\n\r\n", 0, self.filled)
            if end < 0:
                return None
            head = self.buf[:end].decode("latin-1").split("\r\n")
            length = None
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                raise http.client.HTTPException("response without Content-Length")
            self.status, self.body_at, self.ends = int(head[0].split(" ", 2)[1]), end + 4, end + 4 + length
        if self.filled < self.ends:
            return None
        body = bytes(self.buf[self.body_at : self.ends])
        rest = self.filled - self.ends  # nothing, unless the server sent more than it was asked for
        self.buf[:rest] = self.buf[self.ends : self.filled]
        self.filled, self.ends = rest, 0
        return self.status, body


def _drive(port: int, key: str, clients: int, seconds: float, limit: int, out: list, errors: list) -> None:
    """``clients`` connections, each with one request in flight at a time, all from one thread (a
    selector): the load generator shares the machine's cores with the server, so it spends as little as
    it can. Each response is read whole (Content-Length) and checked: a status other than 200, a reset
    or closed connection, or no answer within 60 s is an error, and the connection is opened again."""
    head = f" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
    selector = selectors.DefaultSelector()
    pool = [_Client(port, head) for _ in range(clients)]
    deadline = time.perf_counter() + seconds
    for c in pool:
        c.connect(selector)
        _send(c, selector, errors, limit)
    looked = time.perf_counter()
    while any(c.busy for c in pool):
        if time.perf_counter() - looked > 1.0:  # once a second is often enough to find a 60 s timeout
            looked = time.perf_counter()
            for c in pool:
                if c.busy and looked - c.started > 60:
                    _failed(c, selector, errors, "timeout", limit, deadline)
        for ready, _ in selector.select(timeout=1.0):
            c = ready.data
            try:
                c.receive()
                got = c.response()
            except (OSError, http.client.HTTPException, ValueError) as exc:
                _failed(c, selector, errors, type(exc).__name__, limit, deadline)
                continue
            if got is None:
                continue
            elapsed = time.perf_counter() - c.started
            c.busy = False
            status, body = got
            if status == 200:
                out.append(elapsed)
                c.cursor = _next_cursor(body)
            else:
                errors.append(f"HTTP {status}")
                c.cursor = None
            if time.perf_counter() < deadline:
                _send(c, selector, errors, limit)
    for c in pool:
        c.close(selector)
    selector.close()


def _failed(c: _Client, selector: selectors.BaseSelector, errors: list, what: str, limit: int, deadline: float) -> None:
    errors.append(what)
    c.cursor = None
    c.close(selector)
    if time.perf_counter() < deadline:
        c.connect(selector)
        _send(c, selector, errors, limit)


def _send(c: _Client, selector: selectors.BaseSelector, errors: list, limit: int) -> None:
    try:
        c.send(limit)
    except OSError as exc:  # the server closed or reset the connection: an error, and a new connection
        errors.append(type(exc).__name__)
        c.connect(selector)
        c.send(limit)


def _next_cursor(body: bytes) -> str | None:
    """The page's ``next_cursor`` (its last member) without parsing the rows: the load generator shares
    the machine's cores with the server, so it reads the whole body but parses only what it needs."""
    return json.loads(b"{" + body[body.rindex(b'"next_cursor":') :])["next_cursor"]


def run_level(
    port: int, key: str, clients: int, seconds: float, limit: int, server_pid: int, db_pid: int | None = None
) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    cpu0, waits0 = _cpu_seconds(server_pid), _waits(server_pid)
    db0 = _cpu_seconds(db_pid) if db_pid else 0.0
    client0 = time.process_time()
    t0 = time.perf_counter()
    _drive(port, key, clients, seconds, limit, latencies, errors)
    wall = time.perf_counter() - t0
    client_cpu = time.process_time() - client0
    cpu, waits = _cpu_seconds(server_pid) - cpu0, _waits(server_pid) - waits0
    db = _cpu_seconds(db_pid) - db0 if db_pid else None
    lat = sorted(latencies)
    n = len(lat)
    return {
        "clients": clients,
        "requests": n,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "p50_ms": round(1e3 * lat[n // 2], 2) if n else None,
        "p99_ms": round(1e3 * lat[min(n - 1, int(n * 0.99))], 2) if n else None,
        "max_ms": round(1e3 * lat[-1], 2) if n else None,
        "requests_per_s": round(n / wall, 1),
        "server_cpu_ms_per_request": round(1e3 * cpu / n, 3) if n else None,
        "client_cpu_ms_per_request": round(1e3 * client_cpu / n, 3) if n else None,
        "database_cpu_ms_per_request": round(1e3 * db / n, 3) if n and db is not None else None,
        "server_waits_per_request": round(waits / n, 1) if n else None,
    }


def split_server_time(url: str, tenant: str, limit: int, repeat: int = 200) -> dict:
    """Median (and best) time of the page query and of writing its JSON, in this process, walking pages
    with the cursor as the clients do, through the functions the server's list path runs
    (``dashboard.anomalies.tenant_list_json``'s two halves: its round trip with the rows loaded, and the
    page's JSON made from them)."""
    from dd0c_cost.dashboard import anomalies as queries
    from dd0c_cost.db.connection import open_connection
    from dd0c_cost.db.one_trip import tenant_rows

    conn = open_connection(url)
    filters, sort, cursor = queries.Filters(), "-detected_at", None
    queries_s, writes = [], []
    for _ in range(repeat):
        query, params, column = queries._json_page_query(filters, sort, limit, cursor)
        t0 = time.perf_counter()
        rows = tenant_rows(conn, tenant, query, params)
        t1 = time.perf_counter()
        body = queries._joined(rows, sort, limit, column, conn.info.timezone)
        t2 = time.perf_counter()
        if body is None:
            raise RuntimeError("a row the list's fast path cannot write: the bench's rows are meant to be plain")
        queries_s.append(t1 - t0)
        writes.append(t2 - t1)
        cursor = _next_cursor(body.encode())
    conn.close()
    return {
        "query_ms": round(1e3 * statistics.median(queries_s), 3),
        "query_best_ms": round(1e3 * min(queries_s), 3),
        "json_ms": round(1e3 * statistics.median(writes), 3),
        "json_best_ms": round(1e3 * min(writes), 3),
    }


def _start_serve(url: str, data_home: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "XDG_DATA_HOME": data_home}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dd0c_cost_tools.cli",
            "serve",
            "--port",
            str(port),
            "--quiet",
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}") from None
            time.sleep(0.2)
    while workers > 1:  # measure once every worker serves (the kernel hands the clients' connections out at once)
        line = proc.stderr.readline() if proc.stderr else ""
        if not line:
            raise RuntimeError("serve stopped before its workers served")
        if "worker processes serving" in line:
            break
    return proc, port


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def measure(a: argparse.Namespace) -> dict:
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres
    from dd0c_cost_tools.local.embedded_pg.locking import read_pidfile

    server = EmbeddedPostgres.ephemeral(prefix="dd0c-bench-api-")
    url = server.start()
    pidfile = read_pidfile(server.pgdata)
    db_pid = pidfile.pid if pidfile else None  # the postmaster: its backends are its children
    levels = []
    try:
        migrate(url)
        tenant, key = seed(url, a.anomalies)
        for workers in a.workers:
            proc, port = _start_serve(url, server.data_dir.parent.as_posix(), workers)
            try:
                # warm-up: connections, plans, caches, every worker's connection
                run_level(port, key, 4 * workers, min(2.0, a.seconds), a.limit, proc.pid)
                for clients in a.concurrency:
                    level = run_level(port, key, clients, a.seconds, a.limit, proc.pid, db_pid)
                    levels.append({"workers": workers, **level})
            finally:
                _stop(proc)
        split = split_server_time(url, tenant, a.limit)
    finally:
        server.stop()
    return {"anomalies": a.anomalies, "limit": a.limit, "levels": levels, "split": split, "loadavg": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dd0c-cost bench api", description=__doc__.split("\n\n")[0])
    ap.add_argument("--anomalies", type=int, default=20_000, help="anomalies of the one tenant (default 20,000)")
    ap.add_argument("--limit", type=int, default=100, help="rows per page (default 100)")
    ap.add_argument("--seconds", type=float, default=10.0, help="per concurrency level (default 10)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 32], help="clients per level (default 1 32)")
    ap.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2, 3],
        help="serve's worker processes, one server each (default 1 2 3: one resolver, one per core, one more)",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args(argv)
    load0 = os.getloadavg()
    result = measure(a)
    if a.json:
        print(json.dumps(result))
        return 0
    _print(a, result, load0)
    return 0


def _print(a: argparse.Namespace, result: dict, load0: tuple[float, float, float]) -> None:
    load, levels, split = result["loadavg"], result["levels"], result["split"]
    print(
        f"GET /v1/anomalies?limit={a.limit} (cursor paging) against `dd0c-cost serve --workers N` in its own "
        f"processes; {a.anomalies:,} anomalies; {a.seconds:.0f} s per level; load average {load0[0]:.1f} before, "
        f"{load[0]:.1f} after, on {os.cpu_count()} CPUs"
    )
    print(
        f"{'workers':>7s} {'clients':>7s} {'requests':>9s} {'errors':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} "
        f"{'req/s':>7s} {'CPU ms/req: server':>18s} {'database':>9s} {'clients':>8s} {'server waits/req':>16s}"
    )
    for r in levels:
        print(
            f"{r['workers']:7d} {r['clients']:7d} {r['requests']:9d} {r['errors']:6d} {r['p50_ms']:8.1f} "
            f"{r['p99_ms']:8.1f} {r['max_ms']:8.1f} {r['requests_per_s']:7.1f} "
            f"{r['server_cpu_ms_per_request']:18.2f} {r['database_cpu_ms_per_request'] or 0:9.2f} "
            f"{r['client_cpu_ms_per_request']:8.2f} {r['server_waits_per_request']:16.1f}"
        )
    print(
        f"one page, in process: query {split['query_ms']:.2f} ms (best {split['query_best_ms']:.2f}), "
        f"JSON of its rows {split['json_ms']:.2f} ms (best {split['json_best_ms']:.2f}): "
        f"JSON/query {split['json_ms'] / split['query_ms']:.2f}"
    )
    most = max(r["clients"] for r in levels)
    verdicts = [
        f"{r['workers']} workers "
        + ("meets" if r["p99_ms"] is not None and r["p99_ms"] <= TARGET_P99_MS and not r["errors"] else "MISSES")
        for r in levels
        if r["clients"] == most
    ]
    print(f"target p99 <= {TARGET_P99_MS:.0f} ms at {most} clients with no errors: {', '.join(verdicts)}")


if __name__ == "__main__":
    sys.exit(main())
