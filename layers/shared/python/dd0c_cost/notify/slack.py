"""Post to a tenant's Slack workspace, or to the outbox file when the deployment has no Slack.

Every call names its ``Workspace`` (``notify.delivery``): the tenant's own installation or the
env token bound to that one tenant; there is no global token. Calls go through the Web API at
``settings.slack_api_base_url`` (tests point it at a local fake). In outbox mode, each message
is appended as one JSON line to ``settings.resolved_outbox_path()``, so a newcomer running the
pipeline locally sees exactly what would have been posted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dd0c_cost.crypto import Redacted
from dd0c_cost.notify.message import MessageContext, build_anomaly_message
from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.settings import Settings, get_settings

if TYPE_CHECKING:
    from slack_sdk.web.base_client import BaseClient

    from dd0c_cost.notify.delivery import Workspace

# Below the notify function's 10 s Lambda timeout, leaving room for the built-in
# connection-error retry and for the SQS batch bookkeeping.
SLACK_HTTP_TIMEOUT_S = 4

# Slack error codes worth retrying (everything else needs a human: token, channel, payload).
RETRYABLE_SLACK_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackNotifyError(RuntimeError):
    """Slack refused a call. ``error`` is Slack's error code, e.g. ``channel_not_found``."""

    def __init__(self, method: str, error: str, *, status: int | None = None, detail: Any = None) -> None:
        self.method = method
        self.error = error
        self.status = status
        self.detail = detail
        hint = {
            "channel_not_found": " (check the route's channel; the bot must be able to see it)",
            "not_in_channel": " (invite the bot to the channel: /invite @dd0c-cost)",
            "invalid_auth": " (the workspace's token is not valid: reinstall the app)",
            "not_authed": " (the workspace's token is missing: reinstall the app)",
            "invalid_blocks": " (a block broke a Slack rule; see detail)",
        }.get(error, "")
        super().__init__(f"Slack {method} failed: {error}{hint}" + (f" [HTTP {status}]" if status else ""))

    @property
    def retryable(self) -> bool:
        """True when trying again later may succeed (let SQS redeliver); False needs a fix."""
        return self.error in RETRYABLE_SLACK_ERRORS or (self.status is not None and self.status >= 500)


class SlackRateLimited(SlackNotifyError):
    """HTTP 429 from Slack. Raised, not slept on, so the SQS message is redelivered later."""

    def __init__(self, method: str, *, retry_after: int | None, detail: Any = None) -> None:
        self.retry_after = retry_after
        super().__init__(method, "ratelimited", status=429, detail=detail)


@dataclass(frozen=True)
class PostResult:
    channel: str  # Slack channel ID (as chat.postMessage answers) or the configured channel in outbox mode
    ts: str  # message timestamp: the handle chat.update needs
    destination: Literal["slack", "outbox"]


@lru_cache(maxsize=64)
def _web_client(token: Redacted, base_url: str) -> BaseClient:
    """One Web API client per (workspace token, base URL), kept for the life of the process (warm
    Lambdas reuse it). Its logger never logs response bodies.

    slack_sdk's ``BaseClient``: ``WebClient`` is it plus one wrapper per Web API method, and every
    call here goes through ``api_call``; the wrappers' module (and the views, streaming and webhook
    modules it imports) cost a first post ≈ 22 M instructions (docs/decisions.md: "What a Slack post
    needs, and nothing else")."""
    from slack_sdk.web.base_client import BaseClient  # imported lazily: outbox mode never needs it

    from dd0c_cost.notify.installation import quiet_logger

    return BaseClient(token=token.reveal(), base_url=base_url, timeout=SLACK_HTTP_TIMEOUT_S, logger=quiet_logger())


def _normalise_base_url(url: str) -> str:
    # The client urljoin()s base_url and the method: without the trailing slash
    # "https://slack.com/api" + "chat.postMessage" would become "https://slack.com/chat.postMessage".
    return url if url.endswith("/") else url + "/"


class SlackNotifier:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    # -- plumbing -------------------------------------------------------------------------------
    def client(self, workspace: Workspace) -> BaseClient:
        if workspace.token is None:
            raise RuntimeError(f"workspace of tenant {workspace.tenant_id} has no token ({workspace.source})")
        return _web_client(workspace.token, _normalise_base_url(self.settings.slack_api_base_url))

    @property
    def outbox_path(self) -> Path:
        return self.settings.resolved_outbox_path()

    def call(self, workspace: Workspace, method: str, **kwargs: Any) -> dict[str, Any]:
        """One Web API call in the tenant's workspace; Slack's refusals become SlackNotifyError."""
        from slack_sdk.errors import SlackApiError

        client = self.client(workspace)
        try:
            response = (
                client.api_call(method, json=kwargs)
                if method in _JSON_METHODS
                else client.api_call(method, data=kwargs)
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            data = exc.response.data if isinstance(exc.response.data, dict) else {"raw": exc.response.data}
            if status == 429:
                retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
                raise SlackRateLimited(
                    method, retry_after=int(retry_after) if str(retry_after or "").isdigit() else None, detail=data
                ) from exc
            raise SlackNotifyError(
                method, str(data.get("error") or "unknown_error"), status=status, detail=data
            ) from exc
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _append_outbox(self, record: dict[str, Any]) -> None:
        path = self.outbox_path
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)  # one write per line: concurrent appenders do not interleave lines

    def _outbox_record(
        self, kind: str, anomaly: Anomaly, channel: str, ts: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "kind": kind,
            "at": datetime.now(UTC).isoformat(),
            "channel": channel,
            "ts": ts,
            "anomaly_id": str(anomaly.id),
            "tenant_id": str(anomaly.tenant_id),
            "status": anomaly.status.value,
            "text": message["text"],
            "blocks": message["blocks"],
        }

    # -- API ------------------------------------------------------------------------------------
    def post(
        self, anomaly: Anomaly, workspace: Workspace, channel: str, *, context: MessageContext | None = None
    ) -> PostResult:
        """Post a new anomaly message. Raises SlackNotifyError / SlackRateLimited on Slack errors."""
        message = build_anomaly_message(anomaly, context=context)
        if workspace.is_outbox:
            ts = f"{time.time():.6f}"
            self._append_outbox(self._outbox_record("post", anomaly, channel, ts, message))
            return PostResult(channel=channel, ts=ts, destination="outbox")
        data = self.call(
            workspace,
            "chat.postMessage",
            channel=channel,
            text=message["text"],
            blocks=message["blocks"],
            unfurl_links=False,
        )
        return PostResult(channel=str(data.get("channel") or channel), ts=str(data["ts"]), destination="slack")

    def update(
        self, anomaly: Anomaly, workspace: Workspace, channel: str, ts: str, *, context: MessageContext | None = None
    ) -> PostResult:
        """Re-render the message at (channel, ts), e.g. after an action (``context.status_by="<@U123>"``)."""
        message = build_anomaly_message(anomaly, context=context)
        if workspace.is_outbox:
            self._append_outbox(self._outbox_record("update", anomaly, channel, ts, message))
            return PostResult(channel=channel, ts=ts, destination="outbox")
        data = self.call(
            workspace, "chat.update", channel=channel, ts=ts, text=message["text"], blocks=message["blocks"]
        )
        return PostResult(
            channel=str(data.get("channel") or channel), ts=str(data.get("ts") or ts), destination="slack"
        )

    def reply(
        self,
        workspace: Workspace,
        channel: str,
        thread_ts: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        anomaly_id: str | None = None,
    ) -> PostResult:
        """A message in the alert's thread (ticket links, remediation results, errors)."""
        if workspace.is_outbox:
            ts = f"{time.time():.6f}"
            self._append_outbox(
                {
                    "kind": "reply",
                    "at": datetime.now(UTC).isoformat(),
                    "channel": channel,
                    "ts": ts,
                    "thread_ts": thread_ts,
                    "anomaly_id": anomaly_id,
                    "tenant_id": str(workspace.tenant_id),
                    "text": text,
                    "blocks": blocks or [],
                }
            )
            return PostResult(channel=channel, ts=ts, destination="outbox")
        kwargs: dict[str, Any] = {"channel": channel, "thread_ts": thread_ts, "text": text, "unfurl_links": False}
        if blocks:
            kwargs["blocks"] = blocks
        data = self.call(workspace, "chat.postMessage", **kwargs)
        return PostResult(
            channel=str(data.get("channel") or channel), ts=str(data.get("ts") or ""), destination="slack"
        )

    def post_text(
        self,
        workspace: Workspace,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        kind: str = "digest",
    ) -> PostResult:
        """A message that is not an anomaly (the daily digest)."""
        if workspace.is_outbox:
            ts = f"{time.time():.6f}"
            self._append_outbox(
                {
                    "kind": kind,
                    "at": datetime.now(UTC).isoformat(),
                    "channel": channel,
                    "ts": ts,
                    "tenant_id": str(workspace.tenant_id),
                    "text": text,
                    "blocks": blocks or [],
                }
            )
            return PostResult(channel=channel, ts=ts, destination="outbox")
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
        if blocks:
            kwargs["blocks"] = blocks
        data = self.call(workspace, "chat.postMessage", **kwargs)
        return PostResult(
            channel=str(data.get("channel") or channel), ts=str(data.get("ts") or ""), destination="slack"
        )


# Methods whose arguments slack_sdk sends as JSON (nested blocks / views); the rest as form fields.
_JSON_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update", "views.push"}
)


_notifier: SlackNotifier | None = None


def get_notifier() -> SlackNotifier:
    """The process's notifier (its HTTP clients are kept per workspace for a warm Lambda), built
    from the settings on first use."""
    global _notifier
    if _notifier is None:
        _notifier = SlackNotifier(get_settings())
    return _notifier


def reset_notifier() -> None:
    """For the local runner and tests, after they change the settings."""
    global _notifier
    _notifier = None
