"""Credentials: scoped API keys (read | write; revocable, expiring, last use recorded) and console
sessions (an HttpOnly, SameSite=Strict cookie plus a CSRF token for writes).

``check_credentials`` is the one check: the Lambda authorizer runs it in AWS (with a short
in-process cache), ``dd0c-cost serve`` and the API function run it when no authorizer has.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from uuid import UUID

from dd0c_cost.db.connection import Connection

SESSION_COOKIE = "dd0c_session"
SESSION_TTL_S = 3600
CACHE_TTL_S = 60.0
_CACHE_MAX = 4096


class AuthError(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@dataclass(frozen=True)
class Principal:
    tenant_id: UUID
    scope: str  # "read" | "write"
    key_id: UUID
    via: str  # "key" | "session"
    csrf_token: str | None = None  # sessions only

    def context(self) -> dict[str, str]:
        """What the authorizer hands the API function (``requestContext.authorizer.lambda``)."""
        return {
            "tenant_id": str(self.tenant_id),
            "scope": self.scope,
            "key_id": str(self.key_id),
            "via": self.via,
            "csrf_token": self.csrf_token or "",
        }

    @classmethod
    def from_context(cls, ctx: dict) -> Principal:
        return cls(UUID(ctx["tenant_id"]), ctx["scope"], UUID(ctx["key_id"]), ctx["via"], ctx.get("csrf_token") or None)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def bearer_secret(headers: dict[str, str]) -> str | None:
    secret = headers.get("x-api-key") or ""
    authorization = headers.get("authorization") or ""
    if not secret and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    return secret or None


def session_secret(headers: dict[str, str], cookies: list[str] | None = None) -> str | None:
    for raw in [*(cookies or []), headers.get("cookie") or ""]:
        try:
            jar = SimpleCookie()
            jar.load(raw)
        except CookieError:
            continue
        if SESSION_COOKIE in jar and jar[SESSION_COOKIE].value:
            return jar[SESSION_COOKIE].value
    return None


def _lookup_key(conn: Connection, secret: str) -> Principal | None:
    with conn.transaction():
        row = conn.execute("SELECT * FROM dd0c.authenticate_api_key(%s) LIMIT 1", [digest(secret)]).fetchone()
    return Principal(row["tenant_id"], row["scope"], row["key_id"], "key") if row else None


def _lookup_session(conn: Connection, secret: str) -> Principal | None:
    with conn.transaction():
        row = conn.execute("SELECT * FROM dd0c.authenticate_console_session(%s)", [digest(secret)]).fetchone()
    return Principal(row["tenant_id"], row["scope"], row["key_id"], "session", row["csrf_token"]) if row else None


class _Cache:
    """A small TTL cache of credential digests -> principal, so a warm authorizer answers without
    the database; a revoked key or ended session stops working within ``CACHE_TTL_S``."""

    def __init__(self) -> None:
        self._data: dict[bytes, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()
        self.ttl = CACHE_TTL_S

    def get(self, key: bytes):
        with self._lock:
            hit = self._data.get(key)
        if hit and hit[0] > time.monotonic():
            return hit
        return None

    def put(self, key: bytes, principal: Principal | None) -> None:
        with self._lock:
            if len(self._data) >= _CACHE_MAX:
                self._data.clear()
            self._data[key] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


CACHE = _Cache()


def check_credentials(
    conn: Connection, headers: dict[str, str], cookies: list[str] | None = None, *, use_cache: bool = False
) -> Principal:
    """The caller's principal from a bearer key (``Authorization: Bearer`` / ``x-api-key``) or the
    console session cookie; AuthError 401 otherwise."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    key = bearer_secret(headers)
    if key:
        kind, secret, lookup = "k", key, _lookup_key
    else:
        secret = session_secret(headers, cookies)
        if not secret:
            raise AuthError(
                401, "missing_credentials", "send an API key as 'Authorization: Bearer <key>' or sign in to the console"
            )
        kind, lookup = "s", _lookup_session
    cache_key = kind.encode() + digest(secret)
    hit = CACHE.get(cache_key) if use_cache else None
    principal = hit[1] if hit else lookup(conn, secret)
    if use_cache and not hit:
        CACHE.put(cache_key, principal)
    if principal is None:
        raise AuthError(
            401,
            "invalid_api_key" if kind == "k" else "invalid_session",
            "the API key is unknown, revoked or expired"
            if kind == "k"
            else "the console session ended or expired; sign in again",
        )
    return principal


def require_write(principal: Principal, headers: dict[str, str]) -> None:
    """Writes need a write-scoped credential; with a session cookie, also the session's CSRF token
    in ``x-csrf-token`` (a cross-site page can send the cookie but cannot read the token)."""
    if principal.scope != "write":
        raise AuthError(403, "read_only_key", "this credential is read-only; use a write key")
    if principal.via == "session":
        sent = {k.lower(): v for k, v in (headers or {}).items()}.get("x-csrf-token") or ""
        if not principal.csrf_token or not hmac.compare_digest(sent.encode(), principal.csrf_token.encode()):
            raise AuthError(403, "csrf_token_mismatch", "send the session's CSRF token as x-csrf-token")


@dataclass(frozen=True)
class Session:
    secret: str
    csrf_token: str
    tenant_id: UUID
    scope: str
    expires_at: datetime


def open_session(conn: Connection, key_secret: str, *, ttl_s: int = SESSION_TTL_S) -> Session:
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    with conn.transaction():
        row = conn.execute(
            "SELECT * FROM dd0c.open_console_session(%s, %s, %s, %s)", [digest(key_secret), digest(secret), csrf, ttl_s]
        ).fetchone()
    if row is None:
        raise AuthError(401, "invalid_api_key", "the API key is unknown, revoked or expired")
    return Session(secret, csrf, row["tenant_id"], row["scope"], row["expires_at"])


def end_session(conn: Connection, secret: str) -> None:
    with conn.transaction():
        conn.execute("SELECT dd0c.end_console_session(%s)", [digest(secret)])
    CACHE.clear()


def session_cookie(value: str, *, max_age: int, secure: bool):
    """The session cookie: HttpOnly (scripts cannot read it), SameSite=Strict (no cross-site
    requests carry it), Secure over HTTPS, one hour."""
    from aws_lambda_powertools.shared.cookies import Cookie, SameSite

    return Cookie(
        SESSION_COOKIE, value, path="/", secure=secure, http_only=True, max_age=max_age, same_site=SameSite.STRICT_MODE
    )
