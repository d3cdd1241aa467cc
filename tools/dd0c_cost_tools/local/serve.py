"""``dd0c-cost serve``: the HTTP API on localhost, as API Gateway would invoke it, with the
pipeline behind it pumped between requests (single thread: one DB connection, no races)."""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

from dd0c_cost.topology import TOPOLOGY
from dd0c_cost_tools.local.runner import LambdaContext, LocalPipeline

# API Gateway HTTP APIs accept payloads up to 10 MB; the API refuses bodies past its own limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024


def apigw_v2_event(method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str) -> dict:
    """An API Gateway HTTP API (payload v2.0) event, as the api Lambda receives it."""
    headers = {k.lower(): v for k, v in headers.items()}
    parts = urlsplit(raw_path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    is_text = body == b"" or headers.get("content-type", "").startswith(
        ("application/json", "application/x-www-form-urlencoded", "text/")
    )
    if is_text:
        try:
            body.decode()
        except UnicodeDecodeError:
            is_text = False  # API Gateway base64-encodes what it cannot pass as text; so do we
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": query or None,
        # API Gateway hands cookies over separately (payload 2.0)
        "cookies": [c.strip() for c in headers.get("cookie", headers.get("Cookie", "")).split(";") if c.strip()]
        or None,
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
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": body.decode() if is_text else base64.b64encode(body).decode(),
        "isBase64Encoded": not is_text,
    }


class _AnsweringHandler(BaseHTTPRequestHandler):
    """Every request gets an answer: a bad length, a body too large, an error escaping the API
    handler or a method nothing serves is still answered, in the API's error shape, as API Gateway
    would answer it."""

    server_version = "dd0c-cost-local"

    def _answer(self, status: int, data: bytes, headers: dict | None = None, result: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        for key, values in ((result or {}).get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(key, value)
        for cookie in (result or {}).get("cookies") or []:  # API Gateway turns these into Set-Cookie headers
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, error: str, message: str) -> None:
        body = json.dumps({"error": error, "message": message}).encode()
        self._answer(status, body, {"content-type": "application/json"})

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering why it cannot be read."""
        try:
            length = int(self.headers.get("content-length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            self._error(400, "bad_content_length", "Content-Length is not a number of bytes")
            return None
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True  # the unread body must not be taken for the next request
            self._error(413, "body_too_large", f"request body is {length:,} bytes; the limit is {MAX_REQUEST_BYTES:,}")
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:  # pragma: no cover - replaced by make_handler_class
        raise NotImplementedError

    def __getattr__(self, name: str):
        # Every method reaches the API, as with API Gateway's $default route: the resolver answers
        # what it does not serve (404/405 in the error shape), never a bare 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, fmt: str, *args) -> None:
        print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", file=sys.stderr)


def make_handler_class(pipeline: LocalPipeline):
    api = pipeline.handler(TOPOLOGY.api_function)

    class ApiRequestHandler(_AnsweringHandler):
        def _serve(self) -> None:
            # reads enqueue nothing: only a write needs the pipeline pumped afterwards
            self.server.pending_writes = getattr(self.server, "pending_writes", False) or self.command not in (
                "GET",
                "HEAD",
            )
            body = self._read_body()
            if body is None:
                return
            try:
                event = apigw_v2_event(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                )
                result = api(event, LambdaContext(TOPOLOGY.api_function))
                payload = result.get("body") or ""
                data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            except Exception as exc:  # noqa: BLE001 - answered, and printed for the developer
                import traceback

                traceback.print_exc(file=sys.stderr)
                return self._error(500, "internal_error", type(exc).__name__)
            self._answer(result.get("statusCode", 200), data, result.get("headers"), result)

    return ApiRequestHandler


def serve(port: int = 8080, *, max_requests: int | None = None, ready=None) -> int:
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    with LocalPipeline(extra_env={"DATABASE_URL": url}) as pipeline:
        server = HTTPServer(("127.0.0.1", port), make_handler_class(pipeline))
        server.timeout = 0.2
        print(
            f"dd0c-cost API and console on http://127.0.0.1:{server.server_port}/ (API viewer: /docs; Ctrl-C to stop)",
            file=sys.stderr,
        )
        if ready:
            ready(server.server_port)
        handled = 0
        try:
            while max_requests is None or handled < max_requests:
                server.handle_request()
                handled += 1
                if getattr(server, "pending_writes", False):
                    server.pending_writes = False
                    pipeline.drain()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0
