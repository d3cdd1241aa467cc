"""`dd0c-cost serve` holds 32 concurrent keep-alive clients: every request answered (no refused
or reset connections), and each client sees only its own tenant's anomalies while others'
requests are in flight."""

from __future__ import annotations

import http.client
import json
import threading
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
    start = threading.Barrier(CLIENTS, timeout=120)

    def client(n: int) -> list[tuple[int, bool]]:
        name = "serve-a" if n % 2 else "serve-b"
        key, own = seeded[name]
        conn = http.client.HTTPConnection("127.0.0.1", port[0], timeout=120)
        start.wait()  # all 32 connect and ask at once
        seen = []
        cursor = None
        for _ in range(REQUESTS_EACH):
            path = "/v1/anomalies?limit=7" + (f"&cursor={cursor}" if cursor else "")
            conn.request("GET", path, headers={"authorization": f"Bearer {key}"})
            resp = conn.getresponse()
            body = json.loads(resp.read())
            ids = {a["id"] for a in body.get("anomalies", [])}
            seen.append((resp.status, bool(ids) and ids <= own))
            cursor = body.get("next_cursor")
        conn.close()
        return seen

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [r for rs in pool.map(client, range(CLIENTS)) for r in rs]
    finally:
        stop.set()
        thread.join(timeout=60)
    assert len(results) == CLIENTS * REQUESTS_EACH
    assert all(status == 200 for status, _ in results)
    assert all(own for _, own in results), "a client saw another tenant's anomalies"
