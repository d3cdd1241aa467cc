"""`dd0c-cost serve` holds 32 concurrent keep-alive clients: every request answered (no refused
or reset connections), and each client sees only its own tenant's anomalies while others'
requests are in flight: on the list (the resolver's fast path) and on an anomaly's own route (the
Powertools resolver, which keeps the current request in a class attribute: `serve` resolves one
request at a time per process). Both in one process and with `--workers 2` (worker processes
accepting on one socket, each with its own resolver and connections)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.scoring import store
from dd0c_cost.scoring.models import Anomaly, Severity

CLIENTS = 32
REQUESTS_EACH = 6


def _seed(db_url: str) -> dict[str, tuple[str, set[str]]]:
    op = operator.open_operator_connection(db_url)
    tenants = {name: operator.ensure_tenant(op, name) for name in ("serve-a", "serve-b")}
    keys = {name: operator.create_api_key(op, t) for name, t in tenants.items()}
    op.close()
    conn = open_connection(db_url)
    out = {}
    for n, (name, tenant) in enumerate(tenants.items()):
        ids = set()
        with tenant_transaction(conn, tenant):
            for i in range(30):
                a = Anomaly(
                    id=uuid.UUID(int=n * 1000 + i + 1),
                    tenant_id=tenant,
                    account_id="111111111111",
                    region="us-east-1",
                    service="ec2",
                    resource_type="ec2:instance",
                    resource_ids=[],
                    event_ids=[f"{name}-{i}"],
                    actor="ana",
                    detected_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i),
                    score=0.9,
                    severity=Severity.HIGH,
                    estimated_hourly_usd=3.0,
                    summary="x",
                )
                store.insert_anomaly(conn, a)
                ids.add(str(a.id))
        out[name] = (keys[name], ids)
    conn.close()
    return out


def _clients(port: int, seeded: dict[str, tuple[str, set[str]]]) -> list[tuple[int, bool]]:
    """32 clients at once, half of each tenant, each walking its list and reading its own anomalies:
    (status, only its own tenant's rows) per request."""
    start = threading.Barrier(CLIENTS, timeout=120)

    def client(n: int) -> list[tuple[int, bool]]:
        name = "serve-a" if n % 2 else "serve-b"
        key, own = seeded[name]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start.wait()  # all 32 connect and ask at once
        seen = []
        cursor = None
        for i in range(REQUESTS_EACH):
            if i % 2:  # one anomaly, through the resolver's route: this client's own, by id
                wanted = sorted(own)[(n + i) % len(own)]
                conn.request("GET", f"/v1/anomalies/{wanted}", headers={"authorization": f"Bearer {key}"})
                resp = conn.getresponse()
                body = json.loads(resp.read())
                seen.append((resp.status, body.get("id") == wanted))
                continue
            path = "/v1/anomalies?limit=7" + (f"&cursor={cursor}" if cursor else "")
            conn.request("GET", path, headers={"authorization": f"Bearer {key}"})
            resp = conn.getresponse()
            body = json.loads(resp.read())
            ids = {a["id"] for a in body.get("anomalies", [])}
            seen.append((resp.status, bool(ids) and ids <= own))
            cursor = body.get("next_cursor")
        conn.close()
        return seen

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [r for rs in pool.map(client, range(CLIENTS)) for r in rs]


def _check(results: list[tuple[int, bool]]) -> None:
    assert len(results) == CLIENTS * REQUESTS_EACH
    assert all(status == 200 for status, _ in results), sorted({status for status, _ in results})
    assert all(own for _, own in results), "a client saw another tenant's anomalies"


def test_32_concurrent_clients_all_answered_each_sees_its_own_tenant(app_env, db_url):
    from dd0c_cost_tools.local.serve import serve

    seeded = _seed(db_url)
    ready = threading.Event()
    stop = threading.Event()
    port: list[int] = []

    def on_ready(p: int) -> None:
        port.append(p)
        ready.set()

    thread = threading.Thread(
        target=serve, kwargs={"port": 0, "ready": on_ready, "quiet": True, "stop_when": stop}, daemon=True
    )
    thread.start()
    assert ready.wait(120), "serve did not start"
    try:
        results = _clients(port[0], seeded)
    finally:
        stop.set()
        thread.join(timeout=60)
    _check(results)


def test_worker_processes_share_the_port_and_never_mix_tenants(app_env, db_url, tmp_path):
    """`serve --workers 2`: two worker processes under the serve process, the same answers."""
    seeded = _seed(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dd0c_cost_tools.cli", "serve", "--port", "0", "--quiet", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        found = re.search(r"http://127\.0\.0\.1:(\d+)/ \(2 worker processes", line)
        assert found, line
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_children(proc.pid)) == 2, "serve --workers 2 runs two worker processes"
        _check(_clients(int(found.group(1)), seeded))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not _children(proc.pid)


def test_worker_processes_take_connections_in_turn(app_env, db_url, tmp_path):
    """`serve --workers 3`: 30 keep-alive clients are spread 10/10/10 (give or take one), however the kernel
    wakes the workers (unbalanced, a worker with 18 of 32 clients, or none, was the list's p99). The banner
    says when every worker serves; the clients connect after it."""
    env = {**os.environ, "DATABASE_URL": db_url, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dd0c_cost_tools.cli", "serve", "--port", "0", "--quiet", "--workers", "3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    clients: list[http.client.HTTPConnection] = []
    try:
        found = re.search(r"http://127\.0\.0\.1:(\d+)/ \(3 worker processes", _line(proc))
        assert found
        assert "all 3 worker processes serving" in _line(proc)
        for _ in range(30):  # all connect at once, then each is answered once and kept open
            clients.append(http.client.HTTPConnection("127.0.0.1", int(found.group(1)), timeout=120))
            clients[-1].connect()
        for client in clients:
            client.request("GET", "/health")
            assert client.getresponse().read() == b'{"status":"ok"}'
        spread = sorted(_connections_of(pid, int(found.group(1))) for pid in _children(proc.pid))
        assert sum(spread) == 30 and spread[-1] - spread[0] <= 1, spread
    finally:
        for client in clients:
            client.close()
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def _line(proc: subprocess.Popen) -> str:
    """The next line serve writes to stderr ("" if none within two minutes)."""
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(proc.stderr.readline() if proc.stderr else ""), daemon=True)
    reader.start()
    reader.join(120)
    return got[0] if got else ""


def _connections_of(pid: int, port: int) -> int:
    """Established connections to ``port`` that process ``pid`` holds (its socket inodes in /proc/net/tcp)."""
    inodes = set()
    with open("/proc/net/tcp") as fh:
        for line in fh.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # local port; ESTABLISHED
                inodes.add(fields[9])
    held = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except OSError:
                continue
    return out
