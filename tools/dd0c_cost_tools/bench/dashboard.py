"""``dd0c-cost bench dashboard``: GET /v1/anomalies with 1,000,000 anomalies across 100 tenants.

A fresh embedded PostgreSQL is seeded in one statement (10,000 anomalies per tenant over 90
days), the API is served by a local HTTP server of ``--workers`` pre-forked processes (each one
request at a time with its own connection, as concurrent Lambdas), and a load generator in this
process keeps ``--concurrency`` requests in flight: pages of ``--limit`` rows (first pages, status
and severity filters, a largest-$/h sort and second pages through a cursor), with random tenants'
keys. Prints p50 / p99 / req/s per round (median next to best), the server's CPU per request, the
machine load, and the query plans of each request shape (index use).

``--compare`` also serves the same requests through the resolver's generic route (pydantic models
per row, the path every request took before the list's fast path), alternating rounds with the
fast path in the same run, and prints the ratios.

``dd0c-cost bench console`` (the console's first load) is ``bench/console.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

SHAPES = [
    ("first page", "/v1/anomalies?limit={limit}"),
    ("status=open", "/v1/anomalies?limit={limit}&status=open"),
    ("severity=critical,high", "/v1/anomalies?limit={limit}&severity=critical,high"),
    ("largest $/h", "/v1/anomalies?limit={limit}&sort=-estimated_hourly_usd"),
    ("second page (cursor)", None),  # filled per tenant from a first page
]
MODES = {"fast": "the list's fast path", "generic": "the resolver's generic route"}

SEED_SQL = """
INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, resource_ids, event_ids, actor,
    detected_at, score, severity, estimated_hourly_usd, status, summary, components, attributes)
SELECT t.id,
       lpad((100000000000 + t.n * 10 + g %% 3)::text, 12, '0'),
       (ARRAY['us-east-1','eu-west-1','ap-southeast-2','us-west-2'])[1 + g %% 4],
       (ARRAY['ec2','rds','ebs','sagemaker'])[1 + g %% 4],
       (ARRAY['ec2:instance','rds:db-instance','ec2:volume','sagemaker:endpoint'])[1 + g %% 4],
       ARRAY['i-' || md5(t.n || ':' || g)::text],
       ARRAY[md5(g || ':' || t.n)::text],
       'arn:aws:iam::' || lpad((100000000000 + t.n * 10)::text, 12, '0') || ':user/dev' || (g %% 37),
       timestamptz '2026-08-01 00:00Z' + (g * interval '777 seconds'),
       ((g * 7919) %% 1000) / 1000.0,
       (ARRAY['low','medium','high','critical'])[1 + (g * 31) %% 4],
       round((((g * 104729) %% 50000) / 100.0)::numeric, 2),
       (ARRAY['open','open','acknowledged','expected','false_positive','snoozed'])[1 + (g * 13) %% 6],
       'dev' || (g %% 37) || ' launched ' || (1 + g %% 8) || ' × m5.large',
       '[{"name": "zscore", "value": 0.8, "reason": "far above the level"}]'::jsonb,
       '{}'::jsonb
FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM dd0c.tenants) t, generate_series(1, %(per)s) AS g
"""


def _serve_forever(url: str, port_file: str, workers: int, mode: str = "fast") -> None:
    """The bench server: the API resolver in ``workers`` pre-forked processes sharing one listening
    socket, each serving one request at a time (as concurrent Lambda executions do; the
    Powertools resolver keeps per-request state and is not thread-safe). ``mode="generic"``: the
    list's fast path declines every request, so the resolver's route answers them all."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from dd0c_cost.api.app import app
    from dd0c_cost.api.routes import anomalies

    if mode == "generic":
        anomalies.list_fast = lambda event: None
    from dd0c_cost_tools.local.runner import LambdaContext
    from dd0c_cost_tools.local.serve import apigw_v2_event

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            event = apigw_v2_event("GET", self.path, dict(self.headers.items()), b"", self.client_address[0])
            result = app.resolve(event, LambdaContext("api"))
            data = (result.get("body") or "").encode()
            self.send_response(result.get("statusCode", 200))
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.request_queue_size = 256
    server.socket.listen(256)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            try:
                server.serve_forever()
            finally:
                os._exit(0)
        children.append(pid)
    Path(port_file + ".tmp").write_text(" ".join(map(str, [server.server_port, os.getpid(), *children])))
    os.replace(port_file + ".tmp", port_file)  # the port, then the pids whose CPU time the bench reads
    try:
        for pid in children:
            os.waitpid(pid, 0)
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)


def _seed(url: str, tenants: int, per_tenant: int) -> dict[str, str]:
    import psycopg

    from dd0c_cost.auth import keys
    from dd0c_cost.db import operator

    op = operator.open_operator_connection(url)
    ids = [operator.ensure_tenant(op, f"bench-{i:03d}") for i in range(tenants)]
    secrets = {str(t): keys.create_key(op, t, scope="read")[0] for t in ids}
    op.close()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(SEED_SQL, {"per": per_tenant})
        admin.execute("VACUUM ANALYZE dd0c.anomalies")
    return secrets


def _breakdown(url: str, tenant_id: str, limit: int, repeat: int = 200) -> dict[str, dict[str, float]]:
    """One first page at a time, in this process: the query (execute and fetch, as the fast path reads
    it) against writing the page, by the fast path and by the models (the generic route's work: a model
    per row, the page dumped in JSON mode, json.dumps). Median CPU and wall milliseconds."""
    import json as stdlib_json

    from psycopg.rows import tuple_row
    from pydantic import TypeAdapter

    from dd0c_cost.dashboard import anomalies as queries
    from dd0c_cost.dashboard.models import AnomalyPage, AnomalyRow
    from dd0c_cost.db.connection import open_connection, tenant_transaction

    conn = open_connection(url)
    query, params, _ = queries._page_query(queries.Filters(), "-detected_at", limit, None, queries._JSON_LIST_COLUMNS)
    dict_query, _, _ = queries._page_query(queries.Filters(), "-detected_at", limit, None)
    page_adapter = TypeAdapter(AnomalyPage)
    samples: dict[str, list[tuple[float, float]]] = {"query": [], "write (fast path)": [], "write (models)": []}

    def timed(name: str, fn):
        c0, w0 = time.thread_time(), time.perf_counter()
        out = fn()
        samples[name].append(((time.thread_time() - c0) * 1000, (time.perf_counter() - w0) * 1000))
        return out

    with tenant_transaction(conn, tenant_id):
        dict_rows = conn.execute(dict_query, params).fetchall()[:limit]
        for _ in range(repeat):
            rows = timed(
                "query", lambda: conn.cursor(row_factory=tuple_row, binary=True).execute(query, params).fetchall()
            )
            timed(
                "write (fast path)",
                lambda rows=rows: orjson_dumps(
                    {
                        "anomalies": [queries._plain_row(r) or queries._model_row(r) for r in rows[:limit]],
                        "next_cursor": None,
                    }
                ),
            )
            timed(
                "write (models)",
                lambda: stdlib_json.dumps(
                    page_adapter.dump_python(
                        AnomalyPage(anomalies=[AnomalyRow.model_validate(r) for r in dict_rows], next_cursor=None),
                        mode="json",
                    ),
                    separators=(",", ":"),
                ),
            )
    conn.close()
    return {
        name: {"cpu_ms": statistics.median(c for c, _ in values), "wall_ms": statistics.median(w for _, w in values)}
        for name, values in samples.items()
    }


def orjson_dumps(value) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _plans(url: str, tenant_id: str, limit: int = 100) -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE of each request shape, as the API runs it (dd0c_app, the tenant set)."""
    from dd0c_cost.dashboard import anomalies as queries
    from dd0c_cost.db.connection import open_connection, tenant_transaction

    conn = open_connection(url)
    shapes = {
        "first page": (queries.Filters(), "-detected_at"),
        "status=open": (queries.Filters(status=("open",)), "-detected_at"),
        "severity=critical,high": (queries.Filters(severity=("critical", "high")), "-detected_at"),
        "largest $/h": (queries.Filters(), "-estimated_hourly_usd"),
    }
    out = []
    captured: list[str] = []
    real_execute = conn.execute

    def capture(sql, params=None, **kw):
        if "FROM dd0c.anomalies" in str(sql) and "ORDER BY" in str(sql):
            rows = real_execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + str(sql), params).fetchall()
            captured.append("\n".join(r["QUERY PLAN"] for r in rows))
        return real_execute(sql, params, **kw)

    conn.execute = capture  # type: ignore[method-assign]
    for name, (filters, sort) in shapes.items():
        captured.clear()
        with tenant_transaction(conn, tenant_id):
            page = queries.list_anomalies(conn, filters, sort=sort, limit=limit)
            if name == "first page":
                queries.list_anomalies(conn, filters, sort=sort, limit=limit, cursor=page.next_cursor)
        out.append((name, captured[0]))
        if name == "first page":
            out.append(("second page (cursor)", captured[1]))
    conn.close()
    return out


def _load(port: int, requests: list[tuple[str, str]], concurrency: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    it = iter(requests)

    def worker() -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                break
            path, key = item
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", path, headers={"authorization": f"Bearer {key}"})
                response = conn.getresponse()
                response.read()
                bad += response.status != 200
            except OSError:
                bad += 1
            finally:
                conn.close()
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - t0, errors


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _start_server(url: str, workers: int, mode: str, data_dir: Path) -> tuple[subprocess.Popen, int, list[int]]:
    port_file = data_dir / f"bench-port-{os.getpid()}-{mode}"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from dd0c_cost_tools.bench.dashboard import _serve_forever; "
            f"_serve_forever({url!r}, {str(port_file)!r}, {workers}, {mode!r})",
        ],
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not port_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    port, *pids = map(int, port_file.read_text().split())
    return proc, port, pids


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _round(port: int, pids: list[int], plan: list[tuple[str, str]], concurrency: int) -> dict:
    server0, client0 = _cpu_s(pids), time.process_time()
    lat, wall, errors = _load(port, plan, concurrency)
    server_s, client_s = _cpu_s(pids) - server0, time.process_time() - client0
    return {
        "p50_ms": _pct(lat, 50) * 1000,
        "p99_ms": _pct(lat, 99) * 1000,
        "rps": len(lat) / wall,
        "errors": errors,
        "server_cpu_ms": server_s / len(lat) * 1000,
        "client_cpu_ms": client_s / len(lat) * 1000,
        "load": os.getloadavg()[0],
    }


def _summary(results: list[dict]) -> dict:
    def med_best(name: str, best=min) -> dict:
        return {"median": statistics.median(r[name] for r in results), "best": best(r[name] for r in results)}

    return {
        "rounds": results,
        "p50_ms": med_best("p50_ms"),
        "p99_ms": med_best("p99_ms"),
        "rps": med_best("rps", max),
        "server_cpu_ms": med_best("server_cpu_ms"),
    }


def _second_page_cursors(port: int, tenant_keys: list[str], limit: int) -> dict[str, str]:
    """Second pages: a cursor per tenant from its first page."""
    cursors = {}
    for key in tenant_keys:
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        warm.request("GET", f"/v1/anomalies?limit={limit}", headers={"authorization": f"Bearer {key}"})
        cursors[key] = json.loads(warm.getresponse().read())["next_cursor"]
        warm.close()
    return cursors


def _request_plan(
    rng: random.Random, tenant_keys: list[str], cursors: dict[str, str], n_requests: int, limit: int
) -> list[tuple[str, str]]:
    """One round's requests: (path, tenant key), request shapes drawn by their weights."""
    plan = []
    for _ in range(n_requests):
        key = rng.choice(tenant_keys)
        _, path = rng.choices(SHAPES, weights=[40, 20, 15, 15, 10])[0]
        plan.append(((path or "/v1/anomalies?limit={limit}&cursor=" + cursors[key]).format(limit=limit), key))
    return plan


def run(
    tenants: int,
    per_tenant: int,
    n_requests: int,
    concurrency: int,
    rounds: int,
    as_json: bool,
    workers: int = 4,
    limit: int = 100,
    modes: tuple[str, ...] = ("fast",),
) -> int:
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres

    server = EmbeddedPostgres.ephemeral(prefix="dd0c-bench-dash-")
    url = server.start()
    servers: dict[str, tuple[subprocess.Popen, int, list[int]]] = {}
    try:
        migrate(url)
        t0 = time.perf_counter()
        keys_by_tenant = _seed(url, tenants, per_tenant)
        seeded_s = time.perf_counter() - t0
        data_dir = Path(getattr(server, "data_dir", "/tmp"))
        for mode in modes:
            servers[mode] = _start_server(url, workers, mode, data_dir)
        tenant_keys = list(keys_by_tenant.values())
        cursors = _second_page_cursors(servers[modes[0]][1], tenant_keys, limit)
        rng = random.Random(13)
        results: dict[str, list[dict]] = {mode: [] for mode in modes}
        for _ in range(rounds):  # the same requests for every mode, modes alternating round by round
            plan = _request_plan(rng, tenant_keys, cursors, n_requests, limit)
            for mode in modes:
                _, port, pids = servers[mode]
                results[mode].append(_round(port, pids, plan, concurrency))
        plans = _plans(url, next(iter(keys_by_tenant)), limit)
        breakdown = _breakdown(url, next(iter(keys_by_tenant)), limit)
    finally:
        for proc, _, _ in servers.values():
            os.killpg(proc.pid, signal.SIGTERM)  # the server and its workers
            proc.wait(timeout=20)
        server.stop()
    summary = {
        "anomalies": tenants * per_tenant,
        "tenants": tenants,
        "seed_s": round(seeded_s, 1),
        "requests": n_requests,
        "concurrency": concurrency,
        "limit": limit,
        "workers": workers,
        "cpus": os.cpu_count(),
        **{mode: _summary(results[mode]) for mode in modes},
        "in_process_ms": breakdown,
    }
    if as_json:
        print(json.dumps({**summary, "plans": dict(plans)}, indent=2))
        return 0
    _print(summary, modes, plans)
    return 0


def _print(summary: dict, modes: tuple[str, ...], plans: list[tuple[str, str]]) -> None:
    print(
        f"GET /v1/anomalies, {summary['limit']} rows per page: {summary['anomalies']:,} anomalies across "
        f"{summary['tenants']} tenants (seeded in {summary['seed_s']:.0f} s), {summary['requests']} requests per "
        f"round at concurrency {summary['concurrency']}, {summary['workers']} server processes, "
        f"{summary['cpus']} cores"
    )
    for mode in modes:
        s = summary[mode]
        print(f"{mode} ({MODES[mode]}):")
        for i, r in enumerate(s["rounds"], 1):
            print(
                f"  round {i}: p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  {r['rps']:.0f} req/s  "
                f"server CPU {r['server_cpu_ms']:.2f} ms/req  load generator CPU {r['client_cpu_ms']:.2f} ms/req  "
                f"errors {r['errors']}  load avg {r['load']:.1f}"
            )
        print(
            f"  p50 {s['p50_ms']['median']:.1f} ms (best {s['p50_ms']['best']:.1f})   "
            f"p99 {s['p99_ms']['median']:.1f} ms (best {s['p99_ms']['best']:.1f})   "
            f"{s['rps']['median']:.0f} req/s (best {s['rps']['best']:.0f})   "
            f"server CPU {s['server_cpu_ms']['median']:.2f} ms/req (best {s['server_cpu_ms']['best']:.2f})   "
            f"[median of {len(s['rounds'])} rounds]"
        )
    if len(modes) == 2:
        fast, generic = (summary[m] for m in modes)
        print(
            "fast vs generic (medians): "
            f"p50 {generic['p50_ms']['median'] / fast['p50_ms']['median']:.1f}x lower, "
            f"p99 {generic['p99_ms']['median'] / fast['p99_ms']['median']:.1f}x lower, "
            f"req/s {fast['rps']['median'] / generic['rps']['median']:.1f}x, "
            f"server CPU per request {generic['server_cpu_ms']['median'] / fast['server_cpu_ms']['median']:.1f}x less"
        )
    b = summary["in_process_ms"]
    print(
        f"in process, one first page of {summary['limit']} rows at a time (median CPU / wall ms): "
        + ", ".join(f"{name} {v['cpu_ms']:.2f} / {v['wall_ms']:.2f}" for name, v in b.items())
        + f"; writing the page costs {b['write (fast path)']['cpu_ms'] / b['query']['wall_ms']:.2f}x the query's wall time "
        f"({b['write (models)']['cpu_ms'] / b['query']['wall_ms']:.2f}x by the models)"
    )
    print("\nquery plans (as dd0c_app, one tenant, EXPLAIN ANALYZE):")
    for name, text in plans:
        print(f"--- {name}")
        print("\n".join("    " + line for line in text.splitlines()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dd0c-cost bench dashboard")
    parser.add_argument("--tenants", type=int, default=100, help="tenants to seed")
    parser.add_argument("--per-tenant", type=int, default=10_000, help="anomalies per tenant")
    parser.add_argument("--requests", type=int, default=4000, help="requests per round")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (median and best are reported)")
    parser.add_argument("--workers", type=int, default=4, help="server processes (like concurrent Lambdas)")
    parser.add_argument("--limit", type=int, default=100, help="rows per page")
    parser.add_argument(
        "--compare", action="store_true", help="also measure the resolver's generic route, alternating rounds"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    return run(
        args.tenants,
        args.per_tenant,
        args.requests,
        args.concurrency,
        args.rounds,
        args.json,
        args.workers,
        args.limit,
        ("fast", "generic") if args.compare else ("fast",),
    )
