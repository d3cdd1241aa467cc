"""Verify and parse Slack interaction requests (button clicks / select choices on our messages).

``parse_interaction`` is the only door: it checks Slack's request signature first, then the
payload, and returns a typed ``SlackAction`` or raises ``InteractionRejected`` with the HTTP
status to answer (401: not provably from Slack; 400: from Slack but not something we handle).

It does not decide whether ``team_id`` may act on ``tenant_id``: the caller checks that the Slack
workspace is the one installed for that tenant (``notify.delivery.authorize_workspace``) before
changing anything.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Collection, Mapping
from typing import Any, Literal
from urllib.parse import parse_qs
from uuid import UUID

from pydantic import ConfigDict, Field, ValidationError
from slack_sdk.signature import Clock, SignatureVerifier

from dd0c_cost.model import Model
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


class InteractionRejected(Exception):
    """The request is refused. ``status`` is the HTTP status to answer, ``reason`` says why."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(f"{status}: {reason}")
        self.reason = reason
        self.status = status


class SlackAction(Model):
    """One verified action a person took: a click on one of our messages (``block_actions``) or
    the submission of one of our modals (``view_submission``). Verified means Slack sent it; it
    does not mean the workspace may act on the tenant (``notify.delivery.authorize_workspace``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["block_actions", "view_submission"] = "block_actions"
    action_id: str = Field(min_length=1)
    subject_kind: str = "anomaly"
    subject_id: str = Field(min_length=1)
    tenant_id: UUID
    value: dict = Field(default_factory=dict, description="the element's JSON value, or the modal's private metadata")
    user_id: str = Field(min_length=1)
    user_name: str | None = None
    team_id: str = Field(min_length=1)
    enterprise_id: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    snooze_seconds: int | None = Field(default=None, gt=0, le=MAX_SNOOZE_SECONDS)
    response_url: str | None = None
    trigger_id: str | None = None
    view_id: str | None = None
    view_values: dict = Field(default_factory=dict)

    @property
    def anomaly_id(self) -> UUID:
        if self.subject_kind != "anomaly":
            raise AttributeError(f"{self.action_id} acts on a {self.subject_kind}, not an anomaly")
        return UUID(self.subject_id)

    # sha256 of "timestamp:signature": the same signed request delivered twice has the same key,
    # so it is acted on once (dd0c.slack_requests, migration 008).
    request_key: str | None = Field(default=None, min_length=64, max_length=64)
    slack_timestamp: int | None = None

    @property
    def user_mention(self) -> str:
        """``<@U123>``: renders as the person's name in Slack (for ``MessageContext.status_by``)."""
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


def _subject(ref: dict, action_id: str, kinds: Collection[str]) -> tuple[str, str]:
    """(kind, id) of the thing the element acts on: its value names it as ``<kind>_id``."""
    for kind in kinds:
        key = f"{kind}_id"
        if key in ref:
            raw = str(ref[key])
            if kind == "anomaly":  # anomaly ids are UUIDs; other kinds define their own ids
                try:
                    raw = str(UUID(raw))
                except ValueError:
                    raise InteractionRejected(f"action value {key} is not a UUID: {raw[:64]!r}", 400) from None
            if not raw or len(raw) > 200:
                raise InteractionRejected(f"action value {key} is empty or too long", 400)
            return kind, raw
    wanted = " or ".join(f"{k}_id" for k in kinds)
    raise InteractionRejected(f"action value has no {wanted}", 400)


def _json_object(text: Any, what: str) -> dict:
    if not isinstance(text, str) or not text:
        raise InteractionRejected(f"{what} carries no value", 400)
    try:
        ref = json.loads(text)
    except json.JSONDecodeError:
        raise InteractionRejected(f"{what} value is not JSON", 400) from None
    if not isinstance(ref, dict):
        raise InteractionRejected(f"{what} value is not a JSON object", 400)
    return ref


def _verified_text(headers: Mapping[str, Any] | None, body: str | bytes, signing_secret: str, now: float | None) -> str:
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
    if len(raw) > MAX_BODY_BYTES:
        raise InteractionRejected(f"body too large ({len(raw)} bytes)", 413)
    _check_signature_headers(headers, signing_secret, now)  # cheap 401s before touching the body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InteractionRejected("body is not UTF-8 (Slack always sends UTF-8)", 400) from None
    verify_signature(headers, text, signing_secret, now=now)
    return text


def _request_key(headers: Mapping[str, Any] | None) -> str:
    """sha256 of "timestamp:signature": the same signed request delivered twice has the same key."""
    stamp = f"{_header(headers, 'X-Slack-Request-Timestamp')}:{_header(headers, 'X-Slack-Signature')}"
    return hashlib.sha256(stamp.encode()).hexdigest()


def _payload(text: str) -> dict:
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
    if payload.get("type") not in ("block_actions", "view_submission"):
        raise InteractionRejected(
            f"unsupported interaction type {payload.get('type')!r} (want 'block_actions' or 'view_submission')", 400
        )
    return payload


def _element(payload: dict, known: Mapping[str, Collection[str]]) -> tuple[str, dict, str | None, dict]:
    """(action id, the element's JSON value, view id, view state values) of a click or a submission."""
    if payload["type"] == "block_actions":
        elements = payload.get("actions")
        if not isinstance(elements, list) or not elements or not isinstance(elements[0], dict):
            raise InteractionRejected("payload has no actions", 400)
        element = elements[0]
        action_id = element.get("action_id")
        if action_id not in known:
            raise InteractionRejected(f"unknown action_id {action_id!r}", 400)
        # Buttons carry "value"; selects/overflows carry "selected_option": {"value": ...}.
        value = element.get("value") if "value" in element else _dig(element, "selected_option", "value")
        return action_id, _json_object(value, f"action {action_id!r}"), None, {}
    view = payload.get("view") if isinstance(payload.get("view"), dict) else {}
    action_id = view.get("callback_id")
    if action_id not in known:
        raise InteractionRejected(f"unknown modal callback_id {action_id!r}", 400)
    ref = _json_object(view.get("private_metadata"), f"modal {action_id!r}")
    view_values = _dig(view, "state", "values") or {}
    if not isinstance(view_values, dict):
        raise InteractionRejected("modal state is not an object", 400)
    return action_id, ref, _str_or_none(view.get("id")), view_values


def _tenant(ref: dict) -> UUID:
    try:
        return UUID(str(ref["tenant_id"]))
    except KeyError:
        raise InteractionRejected("action value has no tenant_id", 400) from None
    except ValueError:
        raise InteractionRejected(
            f"action value tenant_id is not a UUID: {str(ref['tenant_id'])[:64]!r}", 400
        ) from None


def _snooze_seconds(action_id: str, ref: dict) -> int | None:
    if action_id != ACTION_SNOOZE:
        return None
    raw_seconds = ref.get("snooze_seconds", DEFAULT_SNOOZE_SECONDS)
    if isinstance(raw_seconds, bool) or not isinstance(raw_seconds, int) or not 0 < raw_seconds <= MAX_SNOOZE_SECONDS:
        raise InteractionRejected(f"snooze_seconds must be 1..{MAX_SNOOZE_SECONDS}, got {raw_seconds!r}", 400)
    return raw_seconds


def parse_interaction(
    headers: Mapping[str, Any] | None,
    body: str | bytes,
    signing_secret: str,
    now: float | None = None,
    *,
    actions: Mapping[str, Collection[str]] | None = None,
) -> SlackAction:
    """Verify a Slack interaction request and return the action it carries.

    ``body`` is the raw request body exactly as received (``application/x-www-form-urlencoded``,
    ``payload=<json>``); base64-decode it first if API Gateway marked it ``isBase64Encoded``.
    ``actions`` maps each action id (button/select ``action_id`` or modal ``callback_id``) we
    handle to the subject kinds it acts on; the default is the three status actions.
    """
    known = dict(actions) if actions is not None else dict.fromkeys(ACTION_IDS, ("anomaly",))
    text = _verified_text(headers, body, signing_secret, now)
    # --- from here on the request is from Slack; problems are 400s ---
    payload = _payload(text)
    kind = payload["type"]
    action_id, ref, view_id, view_values = _element(payload, known)
    tenant_id = _tenant(ref)
    subject_kind, subject_id = _subject(ref, action_id, known[action_id])
    snooze_seconds = _snooze_seconds(action_id, ref)

    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    team_id = _str_or_none(_dig(payload, "team", "id")) or _str_or_none(user.get("team_id"))
    enterprise_id = _str_or_none(_dig(payload, "enterprise", "id")) or _str_or_none(user.get("enterprise_id"))
    channel_id = _str_or_none(_dig(payload, "channel", "id")) or _str_or_none(_dig(payload, "container", "channel_id"))
    message_ts = _str_or_none(_dig(payload, "container", "message_ts")) or _str_or_none(_dig(payload, "message", "ts"))
    if kind == "view_submission":  # a modal has no message: we carry it in private_metadata
        channel_id = channel_id or _str_or_none(ref.get("channel"))
        message_ts = message_ts or _str_or_none(ref.get("ts"))
    try:
        return SlackAction(
            kind=kind,
            action_id=action_id,
            subject_kind=subject_kind,
            subject_id=subject_id,
            tenant_id=tenant_id,
            value=ref,
            user_id=user.get("id") or "",
            user_name=_str_or_none(user.get("username")) or _str_or_none(user.get("name")),
            team_id=team_id or "",
            enterprise_id=enterprise_id,
            channel_id=channel_id,
            message_ts=message_ts,
            snooze_seconds=snooze_seconds,
            response_url=_str_or_none(payload.get("response_url")),
            trigger_id=_str_or_none(payload.get("trigger_id")),
            view_id=view_id,
            view_values=view_values,
            request_key=_request_key(headers),
            slack_timestamp=int(_header(headers, "X-Slack-Request-Timestamp") or 0),
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
