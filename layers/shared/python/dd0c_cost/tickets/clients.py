"""Create one ticket in a target: Jira Cloud (REST v3), GitHub Issues (REST), or a webhook
signed with HMAC-SHA256. Standard library HTTP only; a refusal raises ``TargetRefused`` with the
target's own words (shown in the Slack thread) and whether trying again may help."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from dd0c_cost.crypto import Redacted
from dd0c_cost.tickets.targets import GitHubConfig, JiraConfig, Target, WebhookConfig

HTTP_TIMEOUT_S = 10
USER_AGENT = "dd0c-cost-tickets/1"


@dataclass(frozen=True)
class TicketDraft:
    id: str  # the ticket row's id: the webhook's Idempotency-Key
    title: str
    body: str  # plain text / markdown
    project: str | None = None  # overrides the target's project / repo
    subject_kind: str = "anomaly"
    subject_id: str = ""
    link: str | None = None
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Created:
    key: str  # PROJ-123, #42, …
    url: str | None


class TargetRefused(Exception):
    """The target said no (or could not be reached). ``message`` is shown in Slack."""

    def __init__(
        self, message: str, *, status: int | None = None, retryable: bool = False, retry_after: int | None = None
    ):
        super().__init__(message)
        self.message, self.status, self.retryable, self.retry_after = message, status, retryable, retry_after


def _request(method: str, url: str, body: dict | None, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            raw = response.read()
            return response.status, dict(response.headers.items()), _json(raw)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), _json(exc.read())
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TargetRefused(f"could not reach {url.split('/')[2]}: {reason}", retryable=True) from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")[:500]


def _refusal(what: str, status: int, headers: dict[str, str], detail: str) -> TargetRefused:
    retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    retryable = status == 429 or status >= 500
    return TargetRefused(
        f"{what} answered HTTP {status}: {detail}"[:500],
        status=status,
        retryable=retryable,
        retry_after=int(retry_after) if str(retry_after or "").isdigit() else None,
    )


# --- Jira Cloud --------------------------------------------------------------------------------
def _adf(draft: TicketDraft) -> dict:
    """The description as an Atlassian Document Format document: the paragraphs, then the facts."""
    content: list[dict] = [
        {"type": "paragraph", "content": [{"type": "text", "text": paragraph}]}
        for paragraph in draft.body.split("\n\n")
        if paragraph.strip()
    ]
    if draft.link:
        content.append(
            {
                "type": "paragraph",
                "content": [
                    {
                        "type": "text",
                        "text": "Open in dd0c/cost",
                        "marks": [{"type": "link", "attrs": {"href": draft.link}}],
                    }
                ],
            }
        )
    return {"type": "doc", "version": 1, "content": content or [{"type": "paragraph", "content": []}]}


def create_jira(config: JiraConfig, credential: Redacted, draft: TicketDraft) -> Created:
    if config.auth == "basic":
        if not config.email:
            raise TargetRefused("the Jira target has no email for its API token (basic auth)")
        pair = f"{config.email}:{credential.reveal()}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    else:
        auth = f"Bearer {credential.reveal()}"
    body = {
        "fields": {
            "project": {"key": draft.project or config.project},
            "summary": draft.title[:255],
            "description": _adf(draft),
            "issuetype": {"name": config.issue_type},
            "labels": config.labels,
        }
    }
    base = str(config.base_url).rstrip("/")
    status, headers, answer = _request("POST", f"{base}/rest/api/3/issue", body, {"Authorization": auth})
    if status != 201 or not isinstance(answer, dict) or "key" not in answer:
        detail = answer
        if isinstance(answer, dict):
            detail = "; ".join(
                [*answer.get("errorMessages", []), *(f"{k}: {v}" for k, v in answer.get("errors", {}).items())]
            )
        raise _refusal("Jira", status, headers, str(detail) or "no detail")
    site = str(config.site_url or config.base_url).rstrip("/")
    return Created(key=answer["key"], url=f"{site}/browse/{answer['key']}")


# --- GitHub ----------------------------------------------------------------------------------
_app_tokens: dict[tuple[str, int], tuple[str, float]] = {}
_app_lock = threading.Lock()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def app_jwt(app_id: int, private_key_pem: str, *, now: float | None = None) -> str:
    """A GitHub App JWT (RS256, valid 9 minutes, backdated 60 s for clock drift)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    issued = int(now if now is not None else time.time()) - 60
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(
        json.dumps({"iat": issued, "exp": issued + 600, "iss": str(app_id)}, separators=(",", ":")).encode()
    )
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    return f"{header}.{payload}.{_b64url(signature)}"


def _github_token(config: GitHubConfig, credential: Redacted) -> str:
    if config.auth == "token":
        return credential.reveal()
    if not config.app_id or not config.installation_id:
        raise TargetRefused("the GitHub App target needs app_id and installation_id")
    cache_key = (str(config.api_url), config.installation_id)
    with _app_lock:
        cached = _app_tokens.get(cache_key)
        if cached and cached[1] > time.time() + 60:
            return cached[0]
    jwt = app_jwt(config.app_id, credential.reveal())
    url = f"{str(config.api_url).rstrip('/')}/app/installations/{config.installation_id}/access_tokens"
    status, headers, answer = _request("POST", url, None, _github_headers(jwt))
    if status != 201 or not isinstance(answer, dict) or "token" not in answer:
        raise _refusal("GitHub (App installation token)", status, headers, _github_detail(answer))
    with _app_lock:
        _app_tokens[cache_key] = (answer["token"], time.time() + 3000)  # GitHub: valid one hour
    return answer["token"]


def _github_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def _github_detail(answer: Any) -> str:
    if isinstance(answer, dict):
        errors = answer.get("errors") or []
        extra = "; ".join(
            str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e) for e in errors
        )
        return " — ".join(filter(None, [str(answer.get("message") or ""), extra])) or "no detail"
    return str(answer or "no detail")


def create_github(config: GitHubConfig, credential: Redacted, draft: TicketDraft) -> Created:
    token = _github_token(config, credential)
    repo = draft.project or config.repo
    body = draft.body + (f"\n\n[Open in dd0c/cost]({draft.link})" if draft.link else "")
    url = f"{str(config.api_url).rstrip('/')}/repos/{repo}/issues"
    status, headers, answer = _request(
        "POST", url, {"title": draft.title[:255], "body": body, "labels": config.labels}, _github_headers(token)
    )
    if status != 201 or not isinstance(answer, dict) or "number" not in answer:
        refusal = _refusal("GitHub", status, headers, _github_detail(answer))
        if status == 403 and str(headers.get("x-ratelimit-remaining", headers.get("X-RateLimit-Remaining", ""))) == "0":
            refusal.retryable = True  # primary rate limit: try again after the reset
        raise refusal
    return Created(key=f"{repo}#{answer['number']}", url=answer.get("html_url"))


# --- webhook ---------------------------------------------------------------------------------
def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def create_webhook(
    config: WebhookConfig, credential: Redacted, draft: TicketDraft, *, now: float | None = None
) -> Created:
    payload = {
        "id": draft.id,
        "title": draft.title,
        "body": draft.body,
        "subject": {"kind": draft.subject_kind, "id": draft.subject_id},
        "facts": dict(draft.facts),
        "link": draft.link,
    }
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(now if now is not None else time.time()))
    request = urllib.request.Request(
        str(config.url),
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Dd0c-Timestamp": timestamp,
            "X-Dd0c-Signature": sign_webhook(credential.reveal(), timestamp, raw),
            "Idempotency-Key": draft.id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            answer = _json(response.read())
    except urllib.error.HTTPError as exc:
        raise _refusal(
            "the webhook", exc.code, dict(exc.headers.items()), str(_json(exc.read()) or "no detail")
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TargetRefused(f"could not reach the webhook: {getattr(exc, 'reason', exc)}", retryable=True) from None
    answer = answer if isinstance(answer, dict) else {}
    return Created(
        key=str(answer.get("key") or draft.id[:8]),
        url=answer.get("url") if isinstance(answer.get("url"), str) else None,
    )


def create_ticket(target: Target, credential: Redacted, draft: TicketDraft) -> Created:
    config = target.config
    if isinstance(config, JiraConfig):
        return create_jira(config, credential, draft)
    if isinstance(config, GitHubConfig):
        return create_github(config, credential, draft)
    return create_webhook(config, credential, draft)


__all__ = ["Created", "TargetRefused", "TicketDraft", "app_jwt", "create_ticket", "sign_webhook"]
