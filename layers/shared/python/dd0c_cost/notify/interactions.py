"""Verify and parse Slack interaction requests (button clicks / select choices on our messages).

``parse_interaction`` is the only door: it checks Slack's request signature first, then the
payload, and returns a typed ``SlackAction`` or raises ``InteractionRejected`` with the HTTP
status to answer (401: not provably from Slack; 400: from Slack but not something we handle).

It does not decide whether ``team_id`` may act on ``tenant_id``: the caller must check that
the Slack workspace is the one installed for that tenant before changing anything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qs
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.signature import Clock, SignatureVerifier

from dd0c_cost.notify.message import (
    ACTION_ACKNOWLEDGE,
    ACTION_EXPECTED,
    ACTION_IDS,
    ACTION_SNOOZE,
    DEFAULT_SNOOZE_SECONDS,
)

MAX_TIMESTAMP_SKEW_S = 5 * 60
MAX_SNOOZE_SECONDS = 30 * 24 * 3600
MAX_BODY_BYTES = 1_000_000  # Slack interaction payloads are a few kB; refuse anything absurd before hashing it

ActionId = Literal["anomaly_acknowledge", "anomaly_snooze", "anomaly_expected"]


class InteractionRejected(Exception):
    """The request is refused. ``status`` is the HTTP status to answer, ``reason`` says why."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(f"{status}: {reason}")
        self.reason = reason
        self.status = status


class SlackAction(BaseModel):
    """One verified action a person took on an anomaly message."""

    model_config = ConfigDict(frozen=True)

    action_id: ActionId
    anomaly_id: UUID
    tenant_id: UUID
    user_id: str = Field(min_length=1)
    user_name: str | None = None
    team_id: str = Field(min_length=1)
    channel_id: str | None = None
    message_ts: str | None = None
    snooze_seconds: int | None = Field(default=None, gt=0, le=MAX_SNOOZE_SECONDS)
    response_url: str | None = None

    @property
    def user_mention(self) -> str:
        """``<@U123>``: renders as the person's name in Slack (for ``SlackNotifier.update(status_by=...)``)."""
        return f"<@{self.user_id}>"


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    name = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name:
            if isinstance(value, (list, tuple)):  # API Gateway v1 multiValueHeaders
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def _check_signature_headers(
    headers: Mapping[str, Any] | None, signing_secret: str, now: float | None
) -> tuple[str, str, float]:
    if not signing_secret or not signing_secret.strip():
        # Fail closed: without a secret nothing can be verified. 500: it is our configuration.
        raise InteractionRejected("Slack signing secret is not configured (SLACK_SIGNING_SECRET)", 500)
    signature = _header(headers, "X-Slack-Signature")
    timestamp = _header(headers, "X-Slack-Request-Timestamp")
    if not signature:
        raise InteractionRejected("missing X-Slack-Signature header", 401)
    if not timestamp:
        raise InteractionRejected("missing X-Slack-Request-Timestamp header", 401)
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InteractionRejected("X-Slack-Request-Timestamp is not a Unix timestamp", 401) from None
    current = time.time() if now is None else now
    skew = current - sent_at
    if abs(skew) > MAX_TIMESTAMP_SKEW_S:
        when = "old" if skew > 0 else "in the future"
        raise InteractionRejected(
            f"stale request: X-Slack-Request-Timestamp is {abs(int(skew))} s {when} (limit {MAX_TIMESTAMP_SKEW_S} s)",
            401,
        )
    return signature, timestamp, current


def verify_signature(
    headers: Mapping[str, Any] | None, body: str, signing_secret: str, *, now: float | None = None
) -> None:
    """Raise ``InteractionRejected(401)`` unless Slack signed ``body`` within the last 5 minutes."""
    signature, timestamp, current = _check_signature_headers(headers, signing_secret, now)
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(current))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise InteractionRejected("invalid X-Slack-Signature (wrong signing secret or altered body)", 401)


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_interaction(  # noqa: C901 - each Slack payload check is one early return; to be split into verify/parse steps (issue 8)
    headers: Mapping[str, Any] | None,
    body: str | bytes,
    signing_secret: str,
    now: float | None = None,
) -> SlackAction:
    """Verify a Slack interaction request and return the action it carries.

    ``body`` is the raw request body exactly as received (``application/x-www-form-urlencoded``,
    ``payload=<json>``); base64-decode it first if API Gateway marked it ``isBase64Encoded``.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
    if len(raw) > MAX_BODY_BYTES:
        raise InteractionRejected(f"body too large ({len(raw)} bytes)", 413)
    _check_signature_headers(headers, signing_secret, now)  # cheap 401s before touching the body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InteractionRejected("body is not UTF-8 (Slack always sends UTF-8)", 400) from None
    verify_signature(headers, text, signing_secret, now=now)

    # --- from here on the request is from Slack; problems are 400s ---
    form = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    payloads = form.get("payload")
    if not payloads or len(payloads) != 1:
        raise InteractionRejected("form field 'payload' missing (or repeated)", 400)
    try:
        payload = json.loads(payloads[0])
    except json.JSONDecodeError as exc:
        raise InteractionRejected(f"payload is not JSON: {exc.msg}", 400) from None
    if not isinstance(payload, dict):
        raise InteractionRejected("payload is not a JSON object", 400)
    if payload.get("type") != "block_actions":
        raise InteractionRejected(f"unsupported interaction type {payload.get('type')!r} (want 'block_actions')", 400)

    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise InteractionRejected("payload has no actions", 400)
    action = actions[0]
    action_id = action.get("action_id")
    if action_id not in ACTION_IDS:
        raise InteractionRejected(f"unknown action_id {action_id!r}", 400)

    # Buttons carry "value"; selects/overflows carry "selected_option": {"value": ...}.
    value = action.get("value") if "value" in action else _dig(action, "selected_option", "value")
    if not isinstance(value, str) or not value:
        raise InteractionRejected(f"action {action_id!r} carries no value", 400)
    try:
        ref = json.loads(value)
    except json.JSONDecodeError:
        raise InteractionRejected(f"action {action_id!r} value is not JSON", 400) from None
    if not isinstance(ref, dict):
        raise InteractionRejected(f"action {action_id!r} value is not a JSON object", 400)

    ids: dict[str, UUID] = {}
    for key in ("anomaly_id", "tenant_id"):
        try:
            ids[key] = UUID(str(ref[key]))
        except KeyError:
            raise InteractionRejected(f"action value has no {key}", 400) from None
        except ValueError:
            raise InteractionRejected(f"action value {key} is not a UUID: {str(ref[key])[:64]!r}", 400) from None

    snooze_seconds: int | None = None
    if action_id == ACTION_SNOOZE:
        raw_seconds = ref.get("snooze_seconds", DEFAULT_SNOOZE_SECONDS)
        if (
            isinstance(raw_seconds, bool)
            or not isinstance(raw_seconds, int)
            or not 0 < raw_seconds <= MAX_SNOOZE_SECONDS
        ):
            raise InteractionRejected(f"snooze_seconds must be 1..{MAX_SNOOZE_SECONDS}, got {raw_seconds!r}", 400)
        snooze_seconds = raw_seconds

    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    team_id = _str_or_none(_dig(payload, "team", "id")) or _str_or_none(user.get("team_id"))
    try:
        return SlackAction(
            action_id=action_id,
            anomaly_id=ids["anomaly_id"],
            tenant_id=ids["tenant_id"],
            user_id=user.get("id") or "",
            user_name=_str_or_none(user.get("username")) or _str_or_none(user.get("name")),
            team_id=team_id or "",
            channel_id=_str_or_none(_dig(payload, "channel", "id"))
            or _str_or_none(_dig(payload, "container", "channel_id")),
            message_ts=_str_or_none(_dig(payload, "container", "message_ts"))
            or _str_or_none(_dig(payload, "message", "ts")),
            snooze_seconds=snooze_seconds,
            response_url=_str_or_none(payload.get("response_url")),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InteractionRejected(f"payload is missing fields: {problems}", 400) from None


__all__ = [
    "ACTION_ACKNOWLEDGE",
    "ACTION_EXPECTED",
    "ACTION_SNOOZE",
    "InteractionRejected",
    "SlackAction",
    "parse_interaction",
    "verify_signature",
]
