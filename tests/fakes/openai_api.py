"""A local fake of an OpenAI-compatible chat completions endpoint on 127.0.0.1.

``POST /v1/chat/completions`` answers like the API (``choices[0].message.content``) with
``answer``; ``delay_s`` makes it slow, ``fail_next(n, status)`` makes the next n calls fail.
Every request body is kept in ``requests`` (to check what the prompt carried)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-fake-llm-key"


class FakeOpenAI:
    def __init__(self, *, answer: str = "Someone launched GPU instances for training. Stop them if unused.") -> None:
        self.answer = answer
        self.delay_s = 0.0
        self.requests: list[dict] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"{}")
        with self._lock:
            self.requests.append({"path": request.path, "auth": request.headers.get("Authorization"), "body": body})
            failure = self._failures.pop(0) if self._failures else None
        if self.delay_s:
            time.sleep(self.delay_s)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            status, answer = 401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}
        elif failure is not None:
            status, answer = failure, {"error": {"message": "upstream overloaded", "type": "server_error"}}
        else:
            status, answer = (
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": self.answer}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )
        data = json.dumps(answer).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the client gave up (its deadline passed)


__all__ = ["API_KEY", "FakeOpenAI"]
