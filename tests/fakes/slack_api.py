"""A small fake of the Slack Web API on 127.0.0.1, for tests and local runs without network.

    with FakeSlackAPI() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        client.chat_postMessage(channel="#cost-alerts", text="hi")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "hi"

It answers like Slack for the methods dd0c-cost uses, per workspace: each bot token belongs to
one workspace (``add_workspace``; the default token is workspace ``T0FAKE``), and every call is
recorded with the workspace whose token made it (``RecordedCall.team_id``).

* ``chat.postMessage`` -> ``{"ok": true, "channel": "C…", "ts": "…", "message": {…}}``;
  "#name" or "name" is resolved to a stable channel ID, as Slack does.
* ``chat.update`` -> ``{"ok": true, "channel", "ts", "text", "message"}``; like Slack it wants
  the channel *ID* and an existing ``ts`` (``channel_not_found`` / ``message_not_found``).
* ``auth.test`` -> the token's bot identity and workspace.
* ``chat.postEphemeral``, ``views.open`` / ``views.update`` (recorded in ``views``),
  ``usergroups.users.list`` (``set_usergroup``).
* OAuth v2: ``GET /oauth/v2/authorize`` plays the consent screen (302 to the ``redirect_uri``
  with a one-time ``code`` for the workspace set by ``next_install``, or ``error=access_denied``),
  and ``oauth.v2.access`` (HTTP Basic client credentials) exchanges that code for a new bot token.
* ``POST /response/<id>``: stands in for an interaction's ``response_url`` (``responses``).
* ``revoke(token)``: later calls with it answer ``token_revoked``.
* anything else -> ``{"ok": false, "error": "unknown_method"}``.

Auth is checked (``Authorization: Bearer <token>`` or a ``token`` param): ``not_authed`` /
``invalid_auth``. Failures can be scripted with ``fail_next(method, error)`` and
``rate_limit_next(method, retry_after)`` (HTTP 429 with ``Retry-After``, as Slack does).
Requests are accepted as JSON (what slack_sdk sends for chat.*) or form-encoded.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DEFAULT_TOKEN = "xoxb-fake-token"


@dataclass
class RecordedCall:
    """One request the fake received."""

    method: str  # Slack method, e.g. "chat.postMessage"
    params: dict[str, Any]  # decoded body (JSON or form); "blocks" is always a list when present
    headers: dict[str, str]
    response: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    team_id: str | None = None  # the workspace whose token made the call
    at: float = field(default_factory=time.perf_counter)  # when the fake received it (benchmarks)


@dataclass
class Workspace:
    team_id: str
    token: str
    team_name: str = "Fake"
    enterprise_id: str | None = None
    bot_user_id: str = "U0BOT"
    revoked: bool = False


@dataclass
class PendingInstall:
    team_id: str
    team_name: str
    enterprise_id: str | None = None
    is_enterprise_install: bool = False
    channel_id: str | None = "C0DEFAULT"
    channel_name: str | None = "#cost-alerts"
    installer: str = "U0INSTALLER"
    decline: bool = False


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

    def __init__(
        self,
        *,
        token: str | None = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        client_id: str = "1234.5678",
        client_secret: str = "fake-client-secret",
    ) -> None:
        self.token = token  # None: accept any token (but still require one)
        self.host = host
        self.client_id = client_id
        self.client_secret = client_secret
        self.calls: list[RecordedCall] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel_id, ts) -> message
        self.workspaces: dict[str, Workspace] = {}  # token -> workspace
        if token is not None:
            self.workspaces[token] = Workspace("T0FAKE", token)
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view (views.open / views.update)
        self.usergroups: dict[str, list[str]] = {}
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response URLs
        self._next_install: PendingInstall | None = None
        self._codes: dict[str, PendingInstall] = {}
        self._counter = itertools.count(1)
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

    def add_workspace(
        self, team_id: str, *, token: str | None = None, enterprise_id: str | None = None, team_name: str | None = None
    ) -> str:
        """A workspace with its own bot token (returned)."""
        token = token or f"xoxb-{team_id.lower()}-{next(self._counter)}"
        with self._lock:
            self.workspaces[token] = Workspace(team_id, token, team_name or team_id, enterprise_id)
        return token

    def next_install(self, team_id: str, **kwargs: Any) -> None:
        """What the next visit to the consent screen installs into (``decline=True``: the person cancels)."""
        self._next_install = PendingInstall(team_id=team_id, team_name=kwargs.pop("team_name", team_id), **kwargs)

    def revoke(self, token: str) -> None:
        with self._lock:
            self.workspaces[token].revoked = True

    def set_usergroup(self, group_id: str, members: list[str]) -> None:
        self.usergroups[group_id] = list(members)

    @property
    def authorize_url(self) -> str:
        """What to pass as SLACK_AUTHORIZE_URL."""
        return f"http://{self.host}:{self.port}/oauth/v2/authorize"

    def response_url(self, name: str = "1") -> str:
        return f"http://{self.host}:{self.port}/response/{name}"

    def token_of(self, team_id: str) -> str:
        return next(w.token for w in self.workspaces.values() if w.team_id == team_id and not w.revoked)

    def rate_limit_next(self, method: str, *, retry_after: int = 1) -> None:
        self.fail_next(method, "ratelimited", status=429, headers={"Retry-After": str(retry_after)})

    def calm(self) -> None:
        """Drop the scripted failures not yet used (a storm ends); the recorded calls stay."""
        with self._lock:
            self._failures.clear()

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self._failures.clear()
            self.views.clear()
            self.responses.clear()

    # -- request handling -------------------------------------------------------------------
    def _next_ts(self) -> str:
        with self._lock:
            self._ts_counter += 1
            return f"{int(time.time())}.{self._ts_counter:06d}"

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = dict(request.headers.items())
        if url.path.startswith("/oauth/v2/authorize"):
            self._consent(request, parse_qs(url.query))
            return
        if url.path.startswith("/response/"):
            with self._lock:
                self.responses.append({"path": url.path, **json.loads(raw.decode() or "{}")})
            self._send(request, 200, {}, {"ok": True})
            return
        method = url.path.rsplit("/", 1)[-1]
        params = self._decode(raw, request.headers.get("Content-Type", ""), url.query)

        status, extra_headers, response = self._respond(method, params, headers)
        workspace = self._workspace_of(params, headers)
        with self._lock:
            self.calls.append(
                RecordedCall(method, params, headers, response, status, workspace.team_id if workspace else None)
            )
        self._send(request, status, extra_headers, response)

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler, status: int, extra_headers: dict[str, str], response: dict[str, Any]
    ) -> None:
        body = json.dumps(response).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        for key, value in extra_headers.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    def _consent(self, request: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        """Slack's consent screen, clicked through: back to redirect_uri with a code (or an error)."""
        redirect_uri = (query.get("redirect_uri") or [""])[0]
        state = (query.get("state") or [""])[0]
        pending = self._next_install
        if (query.get("client_id") or [""])[0] != self.client_id or not redirect_uri or pending is None:
            self._send(
                request, 400, {}, {"ok": False, "error": "invalid_client_id" if pending else "no_install_scripted"}
            )
            return
        self._next_install = None
        if pending.decline:
            target = f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}"
        else:
            code = f"code-{next(self._counter)}"
            with self._lock:
                self._codes[code] = pending
                self._codes[code + ":redirect"] = redirect_uri  # type: ignore[assignment]
                self._codes[code + ":scope"] = (query.get("scope") or [""])[0]  # type: ignore[assignment]
            target = f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"
        request.send_response(302)
        request.send_header("Location", target)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _oauth_access(self, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        client_id = client_secret = None
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        client_id = client_id or params.get("client_id")
        client_secret = client_secret or params.get("client_secret")
        if client_id != self.client_id or client_secret != self.client_secret:
            return {"ok": False, "error": "invalid_client"}
        code = params.get("code")
        with self._lock:
            pending = self._codes.pop(code, None) if isinstance(code, str) else None
            redirect = self._codes.pop(f"{code}:redirect", None)
            scope = self._codes.pop(f"{code}:scope", None)
        if pending is None:
            return {"ok": False, "error": "invalid_code"}
        if params.get("redirect_uri") != redirect:
            return {"ok": False, "error": "bad_redirect_uri"}
        token = self.add_workspace(pending.team_id, enterprise_id=pending.enterprise_id, team_name=pending.team_name)
        bot_user = f"U0BOT{pending.team_id}"
        with self._lock:
            self.workspaces[token].bot_user_id = bot_user
        response: dict[str, Any] = {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": scope or "",
            "bot_user_id": bot_user,
            "app_id": "A0DD0C",
            "team": None if pending.is_enterprise_install else {"id": pending.team_id, "name": pending.team_name},
            "enterprise": {"id": pending.enterprise_id, "name": "Grid"} if pending.enterprise_id else None,
            "is_enterprise_install": pending.is_enterprise_install,
            "authed_user": {"id": pending.installer},
        }
        if pending.channel_id:
            response["incoming_webhook"] = {
                "channel": pending.channel_name,
                "channel_id": pending.channel_id,
                "configuration_url": "https://fake.slack.com/",
                "url": "https://hooks.slack.com/x",
            }
        return response

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

    @staticmethod
    def _bearer(params: dict[str, Any], headers: dict[str, str]) -> str | None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        return auth[7:] if auth.startswith("Bearer ") else params.get("token")

    def _workspace_of(self, params: dict[str, Any], headers: dict[str, str]) -> Workspace | None:
        token = self._bearer(params, headers)
        return self.workspaces.get(token) if token else None

    def _authorised(self, params: dict[str, Any], headers: dict[str, str]) -> str | None:
        """None if authorised, else Slack's error code."""
        token = self._bearer(params, headers)
        if not token:
            return "not_authed"
        workspace = self.workspaces.get(token)
        if workspace is not None and workspace.revoked:
            return "token_revoked"
        if self.token is not None and workspace is None:
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
        if method == "oauth.v2.access":
            return 200, {}, self._oauth_access(params, headers)
        auth_error = self._authorised(params, headers)
        if auth_error:
            return 200, {}, {"ok": False, "error": auth_error}
        workspace = self._workspace_of(params, headers)
        handler = {
            "auth.test": self._auth_test,
            "chat.postEphemeral": self._post_ephemeral,
            "views.open": self._view,
            "views.update": self._view,
            "usergroups.users.list": self._usergroup,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
        }.get(method)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        return 200, {}, handler(method, params, workspace.team_id if workspace else "T0FAKE", workspace)

    def _auth_test(self, method: str, params: dict[str, Any], team_id: str, workspace: Workspace | None) -> dict:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "dd0c-cost",
            "team_id": team_id,
            "enterprise_id": workspace.enterprise_id if workspace else None,
            "user_id": workspace.bot_user_id if workspace else "U0BOT",
            "bot_id": "B0BOT",
        }

    def _post_ephemeral(self, method: str, params: dict[str, Any], team_id: str, workspace: Workspace | None) -> dict:
        if not params.get("channel") or not params.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _view(self, method: str, params: dict[str, Any], team_id: str, workspace: Workspace | None) -> dict:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if method == "views.open" and not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view_id = params.get("view_id") or f"V{next(self._counter):08d}"
        if method == "views.update" and view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        with self._lock:
            self.views[view_id] = {**view, "id": view_id, "team_id": team_id}
        return {"ok": True, "view": self.views[view_id]}

    def _usergroup(self, method: str, params: dict[str, Any], team_id: str, workspace: Workspace | None) -> dict:
        group = params.get("usergroup")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _post_message(self, method: str, params: dict[str, Any], team_id: str, workspace: Workspace | None) -> dict:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        channel_id = channel if _looks_like_id(channel) else channel_id_for(channel)
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": "U0BOT",
            "bot_id": "B0BOT",
            "ts": ts,
            "team": team_id,
            "text": params.get("text", ""),
            "blocks": params.get("blocks", []),
        }
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        with self._lock:
            self.messages[(channel_id, ts)] = message
        return {"ok": True, "channel": channel_id, "ts": ts, "message": message}

    def _update_message(self, method: str, params: dict[str, Any], team_id: str, workspace: Workspace | None) -> dict:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel or not _looks_like_id(channel):
            return {"ok": False, "error": "channel_not_found"}
        with self._lock:
            message = self.messages.get((channel, str(ts)))
            if message is not None and message.get("team") != team_id:
                return {"ok": False, "error": "channel_not_found"}  # another workspace's channel
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.update(
                text=params.get("text", message["text"]),
                blocks=params.get("blocks", message["blocks"]),
                edited={"user": "U0BOT", "ts": f"{time.time():.6f}"},
            )
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}


def _looks_like_id(channel: str) -> bool:
    return channel[:1] in {"C", "G", "D"} and channel[1:].isalnum() and channel.upper() == channel


__all__ = ["DEFAULT_TOKEN", "FakeSlackAPI", "RecordedCall", "Workspace", "channel_id_for"]
