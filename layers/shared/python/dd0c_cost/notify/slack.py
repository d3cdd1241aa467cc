"""Post anomalies to Slack, or to the outbox file when no bot token is configured.

With ``SLACK_BOT_TOKEN`` set, messages go to ``settings.slack_channel`` through the Web API at
``settings.slack_api_base_url`` (tests point it at a local fake). Without a token, each message
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

from dd0c_cost.notify.message import build_anomaly_message
from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.settings import Settings, get_settings

if TYPE_CHECKING:
    from slack_sdk import WebClient

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
            "channel_not_found": " (check SLACK_CHANNEL; the bot must be able to see it)",
            "not_in_channel": " (invite the bot to the channel: /invite @dd0c-cost)",
            "invalid_auth": " (check SLACK_BOT_TOKEN)",
            "not_authed": " (check SLACK_BOT_TOKEN)",
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


@lru_cache(maxsize=4)
def _web_client(token: str, base_url: str) -> WebClient:
    """One WebClient per (token, base URL), kept for the life of the process (warm Lambdas reuse it)."""
    from slack_sdk import WebClient  # imported lazily: outbox mode never needs it

    return WebClient(token=token, base_url=base_url, timeout=SLACK_HTTP_TIMEOUT_S)


def _normalise_base_url(url: str) -> str:
    # WebClient urljoin()s base_url and the method: without the trailing slash
    # "https://slack.com/api" + "chat.postMessage" would become "https://slack.com/chat.postMessage".
    return url if url.endswith("/") else url + "/"


class SlackNotifier:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def uses_outbox(self) -> bool:
        return not self.settings.slack_bot_token

    @property
    def client(self) -> WebClient:
        token = self.settings.slack_bot_token
        if not token:
            raise RuntimeError("SLACK_BOT_TOKEN is not set; SlackNotifier is in outbox mode")
        return _web_client(token, _normalise_base_url(self.settings.slack_api_base_url))

    @property
    def outbox_path(self) -> Path:
        return self.settings.resolved_outbox_path()

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError

        client = self.client
        call = {"chat.postMessage": client.chat_postMessage, "chat.update": client.chat_update}[method]
        try:
            response = call(**kwargs)
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
    def post(self, anomaly: Anomaly, *, dashboard_url: str | None = None) -> PostResult:
        """Post a new anomaly message. Raises SlackNotifyError / SlackRateLimited on Slack errors."""
        message = build_anomaly_message(anomaly, dashboard_url=dashboard_url)
        channel = self.settings.slack_channel
        if self.uses_outbox:
            ts = f"{time.time():.6f}"
            self._append_outbox(self._outbox_record("post", anomaly, channel, ts, message))
            return PostResult(channel=channel, ts=ts, destination="outbox")
        data = self._call(
            "chat.postMessage", channel=channel, text=message["text"], blocks=message["blocks"], unfurl_links=False
        )
        return PostResult(channel=str(data.get("channel") or channel), ts=str(data["ts"]), destination="slack")

    def update(
        self,
        anomaly: Anomaly,
        channel: str,
        ts: str,
        *,
        status_by: str | None = None,
        dashboard_url: str | None = None,
    ) -> PostResult:
        """Re-render the message at (channel, ts) after an action, e.g. ``status_by="<@U123>"``."""
        message = build_anomaly_message(anomaly, dashboard_url=dashboard_url, status_by=status_by)
        if self.uses_outbox:
            self._append_outbox(self._outbox_record("update", anomaly, channel, ts, message))
            return PostResult(channel=channel, ts=ts, destination="outbox")
        data = self._call("chat.update", channel=channel, ts=ts, text=message["text"], blocks=message["blocks"])
        return PostResult(
            channel=str(data.get("channel") or channel), ts=str(data.get("ts") or ts), destination="slack"
        )


_notifier: SlackNotifier | None = None


def get_notifier() -> SlackNotifier:
    """The process's notifier (one HTTP client per warm Lambda), built from the settings on first use."""
    global _notifier
    if _notifier is None:
        _notifier = SlackNotifier(get_settings())
    return _notifier


def reset_notifier() -> None:
    """For the local runner and tests, after they change the settings."""
    global _notifier
    _notifier = None
