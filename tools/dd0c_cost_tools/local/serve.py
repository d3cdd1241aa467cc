"""``dd0c-cost serve``: the HTTP API on localhost, as API Gateway would invoke it, with the
pipeline behind it.

Concurrency. Connections are accepted with a deep backlog and served by a pool of threads
(HTTP/1.1 keep-alive), so 32 or more concurrent clients are held, none refused or reset. The
resolver is Powertools', the same one Lambda runs, and it keeps the current request in a class
attribute: so requests are resolved one at a time (``resolve_lock``) on the API's own database
connection, while reading, parsing and writing of other requests go on in their threads. A request
that may have queued something (any method but GET/HEAD/OPTIONS) drains the pipeline (moto's SQS
and the handlers, on a connection of their own, under ``sqs_lock``) before it is answered, so the
caller's next request sees the result, as it did when the server handled one request at a time.

Processes. With ``workers`` > 1 (``dd0c-cost serve --workers N``) the server listens once and forks
N worker processes that accept on that socket, as concurrent Lambda executions of the api function
run side by side: each has its own resolver, database connections and pipeline (its own in-memory
queues: a write drains the queues of the worker that took it before it is answered, so nothing is
left queued between requests), and within a worker everything above holds. The database is shared.
The parent process only waits, and stops the workers when it is stopped.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import mmap
import os
import random
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import HTTPServer
from urllib.parse import parse_qsl, urlsplit

from dd0c_cost.topology import TOPOLOGY
from dd0c_cost_tools.local.http11 import Http11Handler, Refused, Request
from dd0c_cost_tools.local.runner import LambdaContext, LocalPipeline

# API Gateway HTTP APIs accept payloads up to 10 MB; the API refuses bodies past its own limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024


def _request_id() -> str:
    """A random id in a UUID's form (API Gateway's are opaque): ``uuid4`` costs a system call and a UUID object."""
    digits = f"{random.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{digits[16:20]}-{digits[20:]}"


def apigw_v2_event(method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str) -> dict:
    """An API Gateway HTTP API (payload v2.0) event, as the api Lambda receives it."""
    headers = {k.lower(): v for k, v in headers.items()}  # as API Gateway hands them over
    parts = urlsplit(raw_path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    text = None
    if body == b"" or headers.get("content-type", "").startswith(
        ("application/json", "application/x-www-form-urlencoded", "text/")
    ):
        with contextlib.suppress(UnicodeDecodeError):  # else base64, as API Gateway passes what is not text
            text = body.decode()
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": headers,
        "queryStringParameters": query or None,
        # API Gateway hands cookies over separately (payload 2.0)
        "cookies": [c.strip() for c in headers.get("cookie", "").split(";") if c.strip()] or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": _request_id(),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode() if text is None else text,
        "isBase64Encoded": text is None,
    }


class FairLock:
    """A lock handed to its waiters in the order they asked (``threading.Lock`` wakes any of them, and
    a thread that arrives just as it is released can take it before all who waited): requests are
    resolved in the order they were read, so none waits for many others that came after it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: collections.deque[threading.Lock] = collections.deque()
        self._held = False

    def __enter__(self) -> FairLock:
        with self._guard:
            if not self._held:
                self._held = True
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder before us, which hands the lock over without freeing it
        return self

    def __exit__(self, *exc) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False


class _Shared:
    """What the request threads share: the locks and the API's and the pipeline's connections."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self.resolve_lock = FairLock()
        self.sqs_lock = threading.RLock()
        self._conns: dict[tuple[str, str], object] = {}

    def connection(self, user: str, role: str | None = None):
        """The API's ("api") or the pipeline's ("pipeline") connection for a database role (default:
        the application role), reopened if it broke."""
        from dd0c_cost.db.connection import open_connection
        from dd0c_cost.settings import get_settings

        settings = get_settings()
        role = role or settings.database_app_role
        conn = self._conns.get((user, role))
        if conn is None or conn.closed or conn.broken:
            conn = self._conns[(user, role)] = open_connection(self.database_url or settings.database_url, role)
        return conn

    def drain(self, pipeline: LocalPipeline) -> None:
        from dd0c_cost.db.connection import NORMALIZER_ROLE, bound_connection

        normalizer = self.connection("pipeline", NORMALIZER_ROLE)  # the normalise stage's own role
        with (
            self.sqs_lock,
            bound_connection(self.connection("pipeline")),
            bound_connection(normalizer, role=NORMALIZER_ROLE),
        ):
            pipeline.drain()

    def close(self) -> None:
        for conn in self._conns.values():
            if not conn.closed:
                conn.close()


def _error(status: int, error: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("content-type", "application/json")], json.dumps({"error": error, "message": message}).encode()


def _fields(result: dict) -> list[tuple[str, str]]:
    """The answer's header fields as API Gateway writes them: headers, multi-value headers, cookies as Set-Cookie."""
    fields = list((result.get("headers") or {}).items())
    for key, values in (result.get("multiValueHeaders") or {}).items():
        fields.extend((key, value) for value in values)
    fields.extend(("set-cookie", cookie) for cookie in result.get("cookies") or ())
    return fields


def make_handler_class(pipeline: LocalPipeline, shared: _Shared | None = None):
    """The request handler of ``serve`` (a ``socketserver`` handler class): every request reaches the API, as
    with API Gateway's $default route, and gets an answer: a bad length, a body too large or an error escaping
    the API handler is answered in the API's error shape, as API Gateway would answer it."""
    api = pipeline.handler(TOPOLOGY.api_function)

    def resolve(event: dict) -> dict:
        context = LambdaContext(TOPOLOGY.api_function, aws_request_id=event["requestContext"]["requestId"])
        if shared is None:
            return api(event, context)
        from dd0c_cost.db.connection import bound_connection

        reads_only = event["requestContext"]["http"]["method"] in {"GET", "HEAD", "OPTIONS"}
        with shared.resolve_lock:
            if reads_only:
                with bound_connection(shared.connection("api")):
                    return api(event, context)
            with shared.sqs_lock, bound_connection(shared.connection("api")):
                result = api(event, context)
        shared.drain(pipeline)  # it may have queued records: the pipeline runs before the answer
        return result

    class ApiRequestHandler(Http11Handler):
        max_body = MAX_REQUEST_BYTES

        def answer(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
            try:
                event = apigw_v2_event(
                    request.method, request.target, request.headers, request.body, self.client_address[0]
                )
                result = resolve(event)
                payload = result.get("body") or ""
                data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            except Exception as exc:  # noqa: BLE001 - answered, and printed for the developer
                import traceback

                traceback.print_exc(file=sys.stderr)
                return _error(500, "internal_error", type(exc).__name__)
            return result.get("statusCode", 200), _fields(result), data

        def refused(self, refusal: Refused) -> tuple[int, list[tuple[str, str]], bytes]:
            return _error(refusal.status, refusal.error, refusal.message)

        def log(self, method: str, target: str, status: int) -> None:
            if not getattr(self.server, "quiet", False):
                super().log(method, target, status)

    return ApiRequestHandler


class Balance:
    """The open connections of each worker process, in memory the workers share (mapped before they are
    forked): a worker accepts only while no other has fewer, so keep-alive connections are spread evenly
    (the kernel wakes every worker for each connection and any may take it: 32 clients had been split
    30/2 or 18/10/4, and requests of one worker are resolved one at a time)."""

    NOT_SERVING = 1 << 30  # a worker still starting (or stopped) is never the one with fewer connections

    def __init__(self, workers: int) -> None:
        self._memory = mmap.mmap(-1, 4 * workers)  # anonymous and shared: the forked workers see one array
        self.counts = memoryview(self._memory).cast("i")
        for i in range(workers):
            self.counts[i] = self.NOT_SERVING
        self.index = -1  # set in each worker
        self._lock = threading.Lock()

    def serving(self, yes: bool) -> None:
        with self._lock:
            self.counts[self.index] = 0 if yes else self.NOT_SERVING

    def wait_all_serving(self, done: threading.Event) -> bool:
        """Waits (in the parent) until every worker serves, or ``done`` is set; True if they all serve."""
        while self.NOT_SERVING in self.counts:
            if done.wait(0.05):
                return False
        return True

    def may_accept(self) -> bool:
        return self.counts[self.index] <= min(self.counts)

    def add(self, n: int) -> None:
        with self._lock:  # only this worker writes its own count; its threads take turns
            self.counts[self.index] += n


class PooledHTTPServer(HTTPServer):
    """An HTTP server whose connections are served by a fixed pool of threads (one connection at
    a time per thread, kept alive), with a listen backlog deep enough for bursts of clients."""

    request_queue_size = 512
    daemon_threads = True

    def __init__(
        self,
        address,
        handler_class,
        *,
        workers: int = 64,
        quiet: bool = False,
        listening: socket.socket | None = None,
        balance: Balance | None = None,
    ) -> None:
        super().__init__(address, handler_class, bind_and_activate=listening is None)
        if listening is not None:  # a worker process: accept on the socket its parent listens on
            self.socket.close()
            self.socket = listening
            self.server_address = listening.getsockname()
            self.server_port = self.server_address[1]
        self.quiet = quiet
        self.balance = balance
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dd0c-serve")

    def get_request(self):
        if self.balance is not None and not self.balance.may_accept():
            time.sleep(0.002)  # another worker has fewer connections: it takes this one
            raise BlockingIOError("left to a worker with fewer connections")  # an OSError: the loop goes on
        request, address = super().get_request()
        request.setblocking(True)  # the shared listening socket is non-blocking; connections are not
        if self.balance is not None:
            self.balance.add(1)
        return request, address

    def process_request(self, request, client_address) -> None:
        self.pool.submit(self._serve_connection, request, client_address)

    def _serve_connection(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - one broken connection must not stop the server
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            if self.balance is not None:
                self.balance.add(-1)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def serve(
    port: int = 8080,
    *,
    workers: int = 1,
    max_requests: int | None = None,
    ready=None,
    quiet: bool = False,
    stop_when: threading.Event | None = None,
) -> int:
    """Serve until Ctrl-C (or ``max_requests`` connections, or ``stop_when`` is set); ``ready(port)``
    is called once the socket listens. ``workers`` > 1: that many worker processes (not with
    ``max_requests``)."""
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    if workers > 1:
        if max_requests is not None:
            raise ValueError("max_requests counts the connections of one process: use workers=1")
        return _serve_forked(url, port, workers, ready=ready, quiet=quiet, stop_when=stop_when)
    with LocalPipeline(extra_env={"DATABASE_URL": url}) as pipeline:
        shared = _Shared(url)
        server = PooledHTTPServer(("127.0.0.1", port), make_handler_class(pipeline, shared), quiet=quiet)
        server.timeout = 0.2
        print(
            f"dd0c-cost API and console on http://127.0.0.1:{server.server_port}/ (API viewer: /docs; Ctrl-C to stop)",
            file=sys.stderr,
        )
        if stop_when is not None:
            threading.Thread(target=lambda: (stop_when.wait(), server.shutdown()), daemon=True).start()
        if ready:
            ready(server.server_port)
        try:
            if max_requests is None:
                server.serve_forever(poll_interval=0.2)
            else:
                server.timeout = None  # count connections, not polling timeouts
                for _ in range(max_requests):
                    server.handle_request()
                server.pool.shutdown(wait=True)  # the last request is answered before we stop
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            shared.drain(pipeline)
            shared.close()
    return 0


def _serve_forked(url: str, port: int, workers: int, *, ready=None, quiet: bool, stop_when=None) -> int:
    """Listen once, fork ``workers`` processes that serve on that socket, wait; stop them on Ctrl-C,
    SIGTERM or ``stop_when``. Forks before any pipeline, database connection or thread of its own."""
    listening = socket.create_server(("127.0.0.1", port), backlog=PooledHTTPServer.request_queue_size)
    listening.setblocking(False)  # the workers race to accept; the losers must not block
    bound = listening.getsockname()[1]
    print(
        f"dd0c-cost API and console on http://127.0.0.1:{bound}/ ({workers} worker processes; API viewer: /docs; "
        "Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
    children = []
    balance = Balance(workers)
    for index in range(workers):
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which exits here
            status = 1
            balance.index = index
            try:
                status = _serve_worker(url, listening, quiet, balance)
            finally:
                os._exit(status)
        children.append(pid)
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set()) if _main_thread() else None
    if stop_when is not None:
        threading.Thread(target=lambda: (stop_when.wait(), done.set()), daemon=True).start()
    threading.Thread(target=lambda: (_wait_any(children), done.set()), daemon=True).start()
    try:
        if balance.wait_all_serving(done):
            print(f"dd0c-cost: all {workers} worker processes serving", file=sys.stderr, flush=True)
        if ready:
            ready(bound)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        listening.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _wait_any(children: list[int]) -> None:
    """Returns when any worker has exited (the others are then stopped too)."""
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _ = os.waitpid(-1, 0)
            if pid in children:
                return


def _serve_worker(url: str, listening: socket.socket, quiet: bool, balance: Balance) -> int:  # pragma: no cover
    """One worker: its own pipeline, connections and resolver, serving on the parent's socket until SIGTERM."""

    def stop(*_) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with LocalPipeline(extra_env={"DATABASE_URL": url}) as pipeline:
        shared = _Shared(url)
        server = PooledHTTPServer(
            listening.getsockname(),
            make_handler_class(pipeline, shared),
            quiet=quiet,
            listening=listening,
            balance=balance,
        )
        balance.serving(True)
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            balance.serving(False)
            server.server_close()  # idle keep-alive connections are not waited for
            shared.drain(pipeline)
            shared.close()
    return 0
