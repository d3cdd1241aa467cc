"""The Slack message for one anomaly, built with ``slack_sdk.models.blocks``.

Written to be read at 3 a.m.: the header says how bad and how expensive; then what was bought in
the resource's own words ("8 × p4d.24xlarge (64 A100 GPUs)"), who did it as people know them
(the ARN underneath), where (the account's friendly name), when, and why — the strongest score
components first, the rest one click away. What happened since (acknowledged, ticketed,
remediated) and the optional explanation sit under the header; the buttons let the reader act
without leaving Slack: acknowledge, snooze, mark expected, and — supplied by the ticket and
remediation features through ``MessageContext.extra_elements`` — create ticket and remediate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from dd0c_cost.scoring.models import Anomaly, AnomalyStatus, Severity

# --- action ids (the interaction handler dispatches on these) -------------------------------
ACTION_ACKNOWLEDGE: Final = "anomaly_acknowledge"
ACTION_SNOOZE: Final = "anomaly_snooze"
ACTION_EXPECTED: Final = "anomaly_expected"
ACTION_WHY: Final = "anomaly_why"  # opens the full list of score components
ACTION_IDS: Final = frozenset({ACTION_ACKNOWLEDGE, ACTION_SNOOZE, ACTION_EXPECTED})

# Snooze choices offered in the message: label -> seconds.
SNOOZE_OPTIONS: Final[dict[str, int]] = {
    "1 hour": 3600,
    "4 hours": 4 * 3600,
    "24 hours": 24 * 3600,
    "7 days": 7 * 24 * 3600,
}
DEFAULT_SNOOZE_SECONDS: Final = 24 * 3600

HOURS_PER_MONTH: Final = 730

# --- Slack limits (https://docs.slack.dev/reference/block-kit/blocks) -----------------------
MAX_BLOCKS: Final = 50
MAX_TEXT: Final = 3000  # section text, context element text
MAX_FIELD_TEXT: Final = 2000  # one section field
MAX_HEADER: Final = 150
MAX_FALLBACK_TEXT: Final = 3000  # Slack allows more; a notification preview never needs it
MAX_RESOURCE_IDS_SHOWN: Final = 10
MAX_EVENT_IDS_SHOWN: Final = 10
MAX_REASONS_SHOWN: Final = 3  # the strongest components; the rest are one click away

SEVERITY_EMOJI: Final = {
    Severity.LOW: "🔵",
    Severity.MEDIUM: "🟡",
    Severity.HIGH: "🟠",
    Severity.CRITICAL: "🔴",
}

STATUS_LINE: Final = {
    AnomalyStatus.ACKNOWLEDGED: "✅ Acknowledged",
    AnomalyStatus.SNOOZED: "💤 Snoozed",
    AnomalyStatus.EXPECTED: "🙈 Marked as expected",
    AnomalyStatus.FALSE_POSITIVE: "🚫 Marked as a false positive",
}


@dataclass(frozen=True)
class MessageContext:
    """What the message shows beyond the anomaly itself (all optional)."""

    dashboard_url: str | None = None
    status_by: str | None = None  # "<@U123>" or a plain name, shown next to the status
    account_name: str | None = None  # the tenant's friendly name for the account
    status_lines: tuple[str, ...] = ()  # mrkdwn: the ticket, remediations (already escaped)
    explanation: str | None = None  # the optional LLM explanation (plain text)
    extra_elements: tuple[Any, ...] = ()  # more action elements (Create ticket, Remediate…)


# --- small helpers ---------------------------------------------------------------------------
def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    # Backticks inside a code span would end it early.
    return "`" + escape_mrkdwn(text.replace("`", "'")) + "`"


def format_usd(amount: float) -> str:
    """$175.00, $0.42, $127,750 (no cents from $1,000 on)."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}${amount:,.0f}" if amount >= 1000 else f"{sign}${amount:,.2f}"


def format_rate(usd_per_hour: float) -> str:
    """'$175.00/h (≈ $127,750/month)'."""
    return f"{format_usd(usd_per_hour)}/h (≈ {format_usd(usd_per_hour * HOURS_PER_MONTH)}/month)"


def format_utc(moment: datetime) -> str:
    if moment.tzinfo is None:  # the pipeline stores UTC; be explicit rather than guess local time
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def short_actor(actor: str) -> str:
    """'intern@acme' from 'arn:aws:sts::123456789012:assumed-role/Dev/intern@acme'; names pass through."""
    if actor.startswith("arn:"):
        resource = actor.split(":", 5)[-1]
        if resource == "root":
            return "root"
        return resource.rsplit("/", 1)[-1] or actor
    return actor


def actor_name(anomaly: Anomaly) -> str:
    """The short name to show: the scorer's ``actor_name`` attribute, else derived from ``actor``."""
    name = anomaly.attributes.get("actor_name")
    return name if isinstance(name, str) and name else short_actor(anomaly.actor)


def who_line(anomaly: Anomaly) -> str:
    """Who, as people know them: 'intern@acme (role Developer)', 'alice', 'the root user',
    'Auto Scaling (AWS service)'."""
    name = actor_name(anomaly)
    actor = anomaly.actor
    if actor.startswith("arn:"):
        resource = actor.split(":", 5)[-1]
        parts = resource.split("/")
        if resource == "root":
            return "the root user"
        if parts[0] == "assumed-role" and len(parts) >= 3:
            role = parts[1]
            if role.startswith("AWSServiceRoleFor"):
                return f"{role[len('AWSServiceRoleFor') :]} (AWS service)"
            return f"{name} (role {role})" if name != role else f"role {role}"
    return name


def _fmt_quantity(quantity: Any) -> str | None:
    if isinstance(quantity, bool) or not isinstance(quantity, (int, float)):
        return None
    return str(int(quantity)) if float(quantity).is_integer() else f"{quantity:g}"


def what_line(anomaly: Anomaly) -> str:
    """What was bought, in the resource's own words (``notify.describe``)."""
    from dd0c_cost.notify.describe import describe

    attrs = anomaly.attributes
    if attrs.get("kind") == "usage":  # usage-driven spend (dd0c_cost.usage): a billing series, no resource
        cur = attrs.get("currency", "USD")
        return f"usage of {anomaly.service}: {attrs.get('rate_before', 0):,.2f} → {attrs.get('rate_after', 0):,.2f} {cur}/h"
    return describe(anomaly.resource_type, attrs)


def id_list(ids: list[str], *, max_shown: int, budget: int, sep: str = ", ") -> str:
    """Up to ``max_shown`` ids as code spans, then '+N more', never longer than ``budget``."""
    shown: list[str] = []
    used = 0
    for index, item in enumerate(ids):
        rendered = _code(clip(item, 200))
        remaining_after = len(ids) - index - 1
        tail = len(f"{sep}+{remaining_after} more") if remaining_after else 0
        if len(shown) >= max_shown or used + len(sep) + len(rendered) + tail > budget:
            break
        shown.append(rendered)
        used += len(sep) + len(rendered)
    text = sep.join(shown)
    hidden = len(ids) - len(shown)
    if hidden:
        text = f"{text}{sep}+{hidden} more" if text else f"{hidden} ids"
    return text


def _value(anomaly: Anomaly, **extra: Any) -> str:
    """Compact JSON carried by every interactive element; parsed back by ``parse_interaction``."""
    payload = {"anomaly_id": str(anomaly.id), "tenant_id": str(anomaly.tenant_id), **extra}
    return json.dumps(payload, separators=(",", ":"))


# --- the message -----------------------------------------------------------------------------
def fallback_text(anomaly: Anomaly) -> str:
    """The notification / screen-reader text: severity, $/h, who, what, where."""
    text = (
        f"{SEVERITY_EMOJI[anomaly.severity]} {anomaly.severity.value.upper()} cost anomaly: "
        f"{actor_name(anomaly)} — {what_line(anomaly)} in {anomaly.region} "
        f"(account {anomaly.account_id}), {format_rate(anomaly.estimated_hourly_usd)}"
    )
    return clip(escape_mrkdwn(text), MAX_FALLBACK_TEXT)


def _header(anomaly: Anomaly) -> HeaderBlock:
    text = (
        f"{SEVERITY_EMOJI[anomaly.severity]} {anomaly.severity.value.upper()} · "
        f"{format_rate(anomaly.estimated_hourly_usd)}"
    )
    return HeaderBlock(block_id="anomaly_header", text=PlainTextObject(text=clip(text, MAX_HEADER), emoji=True))


def _facts(anomaly: Anomaly, account_name: str | None = None) -> SectionBlock:
    who = f"*Who*\n{escape_mrkdwn(who_line(anomaly))}"
    if anomaly.actor != actor_name(anomaly) or anomaly.actor.startswith("arn:"):
        who += f"\n{_code(anomaly.actor)}"
    what = f"*What*\n{escape_mrkdwn(what_line(anomaly))}\nservice {_code(anomaly.service)}"
    if account_name:
        account = f"{escape_mrkdwn(account_name)} {_code(anomaly.account_id)}"
    else:
        account = _code(anomaly.account_id)
    where = f"*Where*\naccount {account}\nregion {_code(anomaly.region)}"
    when = f"*When*\ndetected {format_utc(anomaly.detected_at)}"
    event_time = _parse_time(anomaly.attributes.get("event_time"))
    if event_time is not None and event_time != anomaly.detected_at:
        when += f"\nevent {format_utc(event_time)}"
    first_seen = _parse_time(anomaly.attributes.get("first_event_time"))
    if first_seen is not None:
        when += f"\nfirst event {format_utc(first_seen)}"
    fields = [MarkdownTextObject(text=clip(f, MAX_FIELD_TEXT)) for f in (what, who, where, when)]
    return SectionBlock(block_id="anomaly_facts", fields=fields)


def ranked_components(anomaly: Anomaly) -> list:
    """Score components, strongest first (ties by name, so the order never depends on storage)."""
    return sorted(anomaly.components, key=lambda c: (-c.value, c.name))


def _why(anomaly: Anomaly) -> SectionBlock | None:
    ranked = ranked_components(anomaly)
    strong = [c for c in ranked if c.value > 0][:MAX_REASONS_SHOWN]
    if not strong:
        return None
    lines = [f"*Why* (score {anomaly.score:.2f})"]
    for component in strong:
        lines.append(f"• {escape_mrkdwn(component.reason)} _({escape_mrkdwn(component.name)} {component.value:.2f})_")
    text = MarkdownTextObject(text=clip("\n".join(lines), MAX_TEXT))
    rest = len(ranked) - len(strong)
    if rest <= 0:
        return SectionBlock(block_id="anomaly_why", text=text)
    more = ButtonElement(text=f"All {len(ranked)} components", action_id=ACTION_WHY, value=_value(anomaly))
    return SectionBlock(block_id="anomaly_why", text=text, accessory=more)


def why_modal(anomaly: Anomaly) -> dict:
    """Every score component with its reason (the "All N components" button)."""
    lines = [f"*Score {anomaly.score:.2f}* ({anomaly.severity.value})"]
    for component in ranked_components(anomaly):
        lines.append(f"• *{escape_mrkdwn(component.name)}* {component.value:.2f} — {escape_mrkdwn(component.reason)}")
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Why this alert"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), MAX_TEXT)}}],
    }


def _resources(anomaly: Anomaly) -> SectionBlock | None:
    if not anomaly.resource_ids:
        return None
    label = f"*Resources* ({len(anomaly.resource_ids)})\n"
    ids = id_list(anomaly.resource_ids, max_shown=MAX_RESOURCE_IDS_SHOWN, budget=MAX_TEXT - len(label))
    return SectionBlock(block_id="anomaly_resources", text=MarkdownTextObject(text=label + ids))


def _status(anomaly: Anomaly, status_by: str | None, extra: tuple[str, ...] = ()) -> SectionBlock | None:
    lines = []
    line = STATUS_LINE.get(anomaly.status)
    if line is not None:
        if anomaly.status is AnomalyStatus.SNOOZED and anomaly.snoozed_until is not None:
            line += f" until {format_utc(anomaly.snoozed_until)}"
        if status_by:
            # status_by is either a Slack mention we built ("<@U123>") or a plain name.
            by = status_by if status_by.startswith("<@") and status_by.endswith(">") else escape_mrkdwn(status_by)
            line += f" by {by}"
        lines.append(line)
    lines.extend(extra)
    if not lines:
        return None
    return SectionBlock(block_id="anomaly_status", text=MarkdownTextObject(text=clip("\n".join(lines), MAX_TEXT)))


def _explanation(text: str | None) -> ContextBlock | None:
    if not text:
        return None
    return ContextBlock(
        block_id="anomaly_explanation", elements=[MarkdownTextObject(text=clip("💡 " + escape_mrkdwn(text), MAX_TEXT))]
    )


def _actions(anomaly: Anomaly, extra: tuple[Any, ...] = ()) -> ActionsBlock | None:
    if anomaly.status in (AnomalyStatus.EXPECTED, AnomalyStatus.FALSE_POSITIVE):
        return None  # closed: nothing left to do from Slack
    elements: list[Any] = []
    if anomaly.status is not AnomalyStatus.ACKNOWLEDGED:
        elements.append(
            ButtonElement(text="Acknowledge", action_id=ACTION_ACKNOWLEDGE, value=_value(anomaly), style="primary")
        )
    elements.append(
        StaticSelectElement(
            action_id=ACTION_SNOOZE,
            placeholder="Snooze…",
            options=[
                Option(text=label, value=_value(anomaly, snooze_seconds=seconds))
                for label, seconds in SNOOZE_OPTIONS.items()
            ],
        )
    )
    elements.append(
        ButtonElement(
            text="Mark as expected",
            action_id=ACTION_EXPECTED,
            value=_value(anomaly),
            confirm=ConfirmObject(
                title="Mark as expected?",
                text="This closes the anomaly and records this spend as expected.",
                confirm="Mark as expected",
                deny="Cancel",
            ),
        )
    )
    elements.extend(extra)
    return ActionsBlock(block_id="anomaly_actions", elements=elements[:25])


def _context(anomaly: Anomaly, dashboard_url: str | None) -> ContextBlock:
    elements: list[Any] = []
    if anomaly.event_ids:
        label = "CloudTrail event IDs: "
        ids = id_list(anomaly.event_ids, max_shown=MAX_EVENT_IDS_SHOWN, budget=MAX_TEXT - len(label))
        elements.append(MarkdownTextObject(text=label + ids))
    ident = f"anomaly {_code(str(anomaly.id))} · tenant {_code(str(anomaly.tenant_id))}"
    if dashboard_url:
        # A link, not a URL button: URL buttons also send an interaction we would have to answer.
        ident += f" · <{escape_mrkdwn(clip(dashboard_url, 2000))}|Open in dashboard>"
    elements.append(MarkdownTextObject(text=clip(ident, MAX_TEXT)))
    return ContextBlock(block_id="anomaly_context", elements=elements)


def build_blocks(anomaly: Anomaly, *, context: MessageContext | None = None) -> list[Block]:
    context = context or MessageContext()
    blocks: list[Block | None] = [
        _header(anomaly),
        _status(anomaly, context.status_by, context.status_lines),
        _explanation(context.explanation),
        SectionBlock(
            block_id="anomaly_summary", text=MarkdownTextObject(text=clip(escape_mrkdwn(anomaly.summary), MAX_TEXT))
        )
        if anomaly.summary
        else None,
        _facts(anomaly, context.account_name),
        _why(anomaly),
        _resources(anomaly),
        _actions(anomaly, context.extra_elements),
        _context(anomaly, context.dashboard_url),
    ]
    result = [b for b in blocks if b is not None]
    if len(result) > MAX_BLOCKS:  # cannot happen with today's layout; guard future additions
        raise ValueError(f"{len(result)} blocks exceed Slack's limit of {MAX_BLOCKS}")
    return result


def build_anomaly_message(
    anomaly: Anomaly,
    *,
    dashboard_url: str | None = None,
    status_by: str | None = None,
    context: MessageContext | None = None,
) -> dict[str, Any]:
    """``{"text": fallback, "blocks": [...]}`` ready for chat.postMessage / chat.update.

    ``status_by`` (e.g. ``"<@U123>"``) is shown next to the status once someone has acted.
    ``to_dict()`` runs slack_sdk's validators, so a block over a Slack limit fails here, not in Slack.
    """
    context = context or MessageContext()
    if dashboard_url is not None or status_by is not None:
        context = replace(
            context,
            dashboard_url=dashboard_url if dashboard_url is not None else context.dashboard_url,
            status_by=status_by if status_by is not None else context.status_by,
        )
    blocks = build_blocks(anomaly, context=context)
    return {"text": fallback_text(anomaly), "blocks": [block.to_dict() for block in blocks]}
