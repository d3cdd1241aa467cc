"""Local fakes of the ticket targets on 127.0.0.1: Jira Cloud (REST v3 create issue), GitHub
(create issue; App installation tokens) and a generic webhook receiver that checks dd0c's
HMAC-SHA256 signature. One server answers all three, by path:

* ``POST /rest/api/3/issue`` (Basic email:token or Bearer) -> 201 ``{"id", "key": "OPS-1", "self"}``;
  an unknown project -> 400 ``{"errorMessages": [], "errors": {"project": "valid project is required"}}``.
* ``POST /repos/{owner}/{repo}/issues`` (Bearer) -> 201 ``{"number", "html_url", …}``.
* ``POST /app/installations/{id}/access_tokens`` (Bearer JWT, RS256, checked with the App's
  public key) -> 201 ``{"token", "expires_at"}``.
* ``POST /hooks/{name}`` -> checks ``X-Dd0c-Signature`` over ``"<X-Dd0c-Timestamp>.<body>"``;
  201 ``{"key", "url"}``; remembers ``Idempotency-Key`` and answers the same ticket again.

``fail_next(path_prefix, status, body, headers)`` scripts failures; ``created`` lists what was made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JIRA_EMAIL = "bot@acme.example"
JIRA_TOKEN = "jira-api-token-123"
GITHUB_TOKEN = "github_pat_fake_123"
WEBHOOK_SECRET = "webhook-signing-secret"


@dataclass
class Created:
    kind: str
    path: str
    body: dict
    headers: dict
    answer: dict


@dataclass
class _Failure:
    prefix: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeTicketTargets:
    def __init__(self, *, jira_projects: tuple[str, ...] = ("OPS",), app_public_key_pem: bytes | None = None) -> None:
        self.jira_projects = set(jira_projects)
        self.app_public_key_pem = app_public_key_pem
        self.app_tokens: set[str] = set()
        self.created: list[Created] = []
        self.requests: list[tuple[str, str]] = []  # (path, status)
        self._failures: list[_Failure] = []
        self._idempotent: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FakeTicketTargets:
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
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, prefix: str, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._failures.append(_Failure(prefix, status, body, dict(headers or {})))

    def of_kind(self, kind: str) -> list[Created]:
        return [c for c in self.created if c.kind == kind]

    # -- handling --------------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in request.headers.items()}
        path = request.path
        with self._lock:
            failure = next((f for f in self._failures if path.startswith(f.prefix)), None)
            if failure is not None:
                self._failures.remove(failure)
        if failure is not None:
            status, extra, answer = failure.status, failure.headers, failure.body or {}
        else:
            status, extra, answer = self._answer(path, raw, headers)
        with self._lock:
            self.requests.append((path, str(status)))
        body = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _record(self, kind: str, path: str, body: dict, headers: dict, answer: dict) -> None:
        with self._lock:
            self.created.append(Created(kind, path, body, headers, answer))

    def _answer(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict, dict]:
        if path == "/rest/api/3/issue":
            return self._jira(path, raw, headers)
        if path.startswith("/app/installations/") and path.endswith("/access_tokens"):
            return self._app_token(headers)
        if path.startswith("/repos/") and path.endswith("/issues"):
            return self._github(path, raw, headers)
        if path.startswith("/hooks/"):
            return self._webhook(path, raw, headers)
        return 404, {}, {"message": "Not Found"}

    def _jira(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict, dict]:
        expected = "Basic " + base64.b64encode(f"{JIRA_EMAIL}:{JIRA_TOKEN}".encode()).decode()
        if headers.get("authorization") not in (expected, f"Bearer {JIRA_TOKEN}"):
            return 401, {}, {"errorMessages": ["You are not authenticated."], "errors": {}}
        body = json.loads(raw)
        fields = body.get("fields", {})
        if fields.get("project", {}).get("key") not in self.jira_projects:
            return 400, {}, {"errorMessages": [], "errors": {"project": "valid project is required"}}
        if fields.get("description", {}).get("type") != "doc":
            return (
                400,
                {},
                {"errorMessages": [], "errors": {"description": "Operation value must be an Atlassian Document"}},
            )
        n = self._next()
        key = f"{fields['project']['key']}-{n}"
        answer = {"id": str(10000 + n), "key": key, "self": f"{self.url}/rest/api/3/issue/{10000 + n}"}
        self._record("jira", path, body, headers, answer)
        return 201, {}, answer

    def _app_token(self, headers: dict[str, str]) -> tuple[int, dict, dict]:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        token = (headers.get("authorization") or "")[7:]
        try:
            header, payload, signature = token.split(".")
            key = serialization.load_pem_public_key(self.app_public_key_pem or b"")
            pad = "=" * (-len(signature) % 4)
            key.verify(  # type: ignore[union-attr]
                base64.urlsafe_b64decode(signature + pad),
                f"{header}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:  # noqa: BLE001 - any malformed or badly signed JWT is a 401, like GitHub
            return 401, {}, {"message": "A JSON web token could not be decoded"}
        app_token = f"ghs_installation_{self._next()}"
        self.app_tokens.add(app_token)
        return 201, {}, {"token": app_token, "expires_at": "2099-01-01T00:00:00Z"}

    def _github(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict, dict]:
        token = (headers.get("authorization") or "")[7:]
        if token != GITHUB_TOKEN and token not in self.app_tokens:
            return 401, {}, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        if headers.get("x-github-api-version") != "2022-11-28":
            return 400, {}, {"message": "missing X-GitHub-Api-Version"}
        body = json.loads(raw)
        if not body.get("title"):
            return (
                422,
                {},
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}],
                },
            )
        n = self._next()
        repo = path[len("/repos/") : -len("/issues")]
        answer = {"number": n, "html_url": f"https://github.com/{repo}/issues/{n}", "title": body["title"]}
        self._record("github", path, body, headers, answer)
        return 201, {}, answer

    def _webhook(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict, dict]:
        timestamp = headers.get("x-dd0c-timestamp") or ""
        expected = (
            "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(headers.get("x-dd0c-signature") or "", expected):
            return 401, {}, {"error": "bad signature"}
        key = headers.get("idempotency-key") or ""
        with self._lock:
            if key in self._idempotent:
                return 200, {}, self._idempotent[key]
        n = self._next()
        answer = {"key": f"HOOK-{n}", "url": f"https://tickets.example/HOOK-{n}"}
        with self._lock:
            self._idempotent[key] = answer
        self._record("webhook", path, json.loads(raw), headers, answer)
        return 201, {}, answer


__all__ = ["GITHUB_TOKEN", "JIRA_EMAIL", "JIRA_TOKEN", "WEBHOOK_SECRET", "FakeTicketTargets"]
