"""A small fake of the Slack Web API on 127.0.0.1, for tests and local runs without network.

    with FakeSlackAPI() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        client.chat_postMessage(channel="#cost-alerts", text="hi")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "hi"

It answers like Slack for the methods dd0c-cost uses:

* ``chat.postMessage`` -> ``{"ok": true, "channel": "C…", "ts": "…", "message": {…}}``;
  "#name" or "name" is resolved to a stable channel ID, as Slack does.
* ``chat.update`` -> ``{"ok": true, "channel", "ts", "text", "message"}``; like Slack it wants
  the channel *ID* and an existing ``ts`` (``channel_not_found`` / ``message_not_found``).
* ``auth.test`` -> a bot identity.
* anything else -> ``{"ok": false, "error": "unknown_method"}``.

Auth is checked (``Authorization: Bearer <token>`` or a ``token`` param): ``not_authed`` /
``invalid_auth``. Failures can be scripted with ``fail_next(method, error)`` and
``rate_limit_next(method, retry_after)`` (HTTP 429 with ``Retry-After``, as Slack does).
Requests are accepted as JSON (what slack_sdk sends for chat.*) or form-encoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_TOKEN = "xoxb-fake-token"


@dataclass
class RecordedCall:
    """One request the fake received."""

    method: str  # Slack method, e.g. "chat.postMessage"
    params: dict[str, Any]  # decoded body (JSON or form); "blocks" is always a list when present
    headers: dict[str, str]
    response: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class _ScriptedFailure:
    error: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def channel_id_for(name: str) -> str:
    """The stable fake channel ID for a channel name ("#cost-alerts" and "cost-alerts" agree)."""
    digest = hashlib.sha1(name.lstrip("#").encode()).hexdigest().upper()
    return "C" + digest[:10]


class FakeSlackAPI:
    """Threaded HTTP server on a free port; use as a context manager or call start()/stop()."""

    def __init__(self, *, token: str | None = DEFAULT_TOKEN, host: str = "127.0.0.1") -> None:
        self.token = token  # None: accept any token (but still require one)
        self.host = host
        self.calls: list[RecordedCall] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel_id, ts) -> message
        self._failures: dict[str, list[_ScriptedFailure]] = {}
        self._lock = threading.Lock()
        self._ts_counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeSlackAPI:
        if self._server is not None:
            return self
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-slack-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSlackAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlackAPI is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What to pass as WebClient(base_url=...) / SLACK_API_BASE_URL (trailing slash included)."""
        return f"http://{self.host}:{self.port}/api/"

    # -- scripting & inspection -------------------------------------------------------------
    def fail_next(self, method: str, error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """The next call to ``method`` answers ``{"ok": false, "error": error}`` (Slack uses HTTP 200 for these)."""
        with self._lock:
            self._failures.setdefault(method, []).append(_ScriptedFailure(error, status, dict(headers or {})))

    def rate_limit_next(self, method: str, *, retry_after: int = 1) -> None:
        self.fail_next(method, "ratelimited", status=429, headers={"Retry-After": str(retry_after)})

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self._failures.clear()

    # -- request handling -------------------------------------------------------------------
    def _next_ts(self) -> str:
        with self._lock:
            self._ts_counter += 1
            return f"{int(time.time())}.{self._ts_counter:06d}"

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        method = url.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = dict(request.headers.items())
        params = self._decode(raw, request.headers.get("Content-Type", ""), url.query)

        status, extra_headers, response = self._respond(method, params, headers)
        with self._lock:
            self.calls.append(RecordedCall(method, params, headers, response, status))

        body = json.dumps(response).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        for key, value in extra_headers.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    @staticmethod
    def _decode(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
        params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
        if raw:
            text = raw.decode("utf-8")
            if "json" in content_type:
                loaded = json.loads(text)
                params.update(loaded if isinstance(loaded, dict) else {"_body": loaded})
            else:
                params.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
        if isinstance(params.get("blocks"), str):  # form-encoded callers send blocks as a JSON string
            with contextlib.suppress(json.JSONDecodeError):
                params["blocks"] = json.loads(params["blocks"])
        return params

    def _authorised(self, params: dict[str, Any], headers: dict[str, str]) -> str | None:
        """None if authorised, else Slack's error code."""
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = auth[7:] if auth.startswith("Bearer ") else params.get("token")
        if not token:
            return "not_authed"
        if self.token is not None and token != self.token:
            return "invalid_auth"
        return None

    def _respond(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            queue = self._failures.get(method)
            failure = queue.pop(0) if queue else None
        if failure is not None:
            return failure.status, failure.headers, {"ok": False, "error": failure.error}
        auth_error = self._authorised(params, headers)
        if auth_error:
            return 200, {}, {"ok": False, "error": auth_error}

        if method == "auth.test":
            return (
                200,
                {},
                {
                    "ok": True,
                    "url": "https://fake.slack.com/",
                    "team": "Fake",
                    "user": "dd0c-cost",
                    "team_id": "T0FAKE",
                    "user_id": "U0BOT",
                    "bot_id": "B0BOT",
                },
            )
        if method == "chat.postMessage":
            channel = params.get("channel")
            if not channel:
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            if not params.get("text") and not params.get("blocks"):
                return 200, {}, {"ok": False, "error": "no_text"}
            channel_id = channel if _looks_like_id(channel) else channel_id_for(channel)
            ts = self._next_ts()
            message = {
                "type": "message",
                "user": "U0BOT",
                "bot_id": "B0BOT",
                "ts": ts,
                "text": params.get("text", ""),
                "blocks": params.get("blocks", []),
            }
            with self._lock:
                self.messages[(channel_id, ts)] = message
            return 200, {}, {"ok": True, "channel": channel_id, "ts": ts, "message": message}
        if method == "chat.update":
            channel, ts = params.get("channel"), params.get("ts")
            if not channel or not _looks_like_id(channel):
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            with self._lock:
                message = self.messages.get((channel, str(ts)))
                if message is None:
                    return 200, {}, {"ok": False, "error": "message_not_found"}
                message.update(
                    text=params.get("text", message["text"]),
                    blocks=params.get("blocks", message["blocks"]),
                    edited={"user": "U0BOT", "ts": f"{time.time():.6f}"},
                )
            return 200, {}, {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}
        return 200, {}, {"ok": False, "error": "unknown_method"}


def _looks_like_id(channel: str) -> bool:
    return channel[:1] in {"C", "G", "D"} and channel[1:].isalnum() and channel.upper() == channel


__all__ = ["DEFAULT_TOKEN", "FakeSlackAPI", "RecordedCall", "channel_id_for"]
