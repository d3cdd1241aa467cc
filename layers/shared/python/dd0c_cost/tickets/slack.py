"""The "Create ticket" button and its modal, for any subject kind (anomalies here; the zombie
digest registers its own kind and renders ``ticket_button``).

Click -> (already ticketed: the link, in the thread) or the modal, prefilled with the subject's
facts -> submit -> a ``tickets`` row (one per subject) and a message on the tickets queue; the
ticket worker calls the target and answers in the alert's thread.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import ButtonElement

from dd0c_cost import governance
from dd0c_cost.db.connection import tenant_transaction
from dd0c_cost.notify.registry import ActionContext, Reply, Subject, load_subject, register_action
from dd0c_cost.notify.slack import SlackNotifyError
from dd0c_cost.tickets import store
from dd0c_cost.tickets.targets import Target, list_targets

if TYPE_CHECKING:  # annotations only: parsing Slack's requests is slack_events' work
    from dd0c_cost.notify.interactions import SlackAction

logger = logging.getLogger(__name__)

ACTION_TICKET = "ticket_open"
MODAL_TICKET = "ticket_submit"
BLOCK_TARGET, BLOCK_PROJECT, BLOCK_TITLE, BLOCK_BODY = "ticket_target", "ticket_project", "ticket_title", "ticket_body"
MAX_TITLE = 255
MAX_BODY = 3000  # a Slack plain_text_input's limit


def subject_value(subject_kind: str, subject_id: str, tenant_id: object, **extra: object) -> str:
    return json.dumps({"tenant_id": str(tenant_id), f"{subject_kind}_id": subject_id, **extra}, separators=(",", ":"))


def ticket_button(subject_kind: str, subject_id: str, tenant_id: object, *, retry: bool = False) -> ButtonElement:
    return ButtonElement(
        text="Retry ticket" if retry else "Create ticket",
        action_id=ACTION_TICKET,
        value=subject_value(subject_kind, subject_id, tenant_id),
    )


def ticket_body(subject: Subject) -> str:
    lines = [subject.summary, ""] + [f"{label}: {value}" for label, value in subject.facts]
    if subject.link:
        lines += ["", subject.link]
    text = "\n".join(lines)
    return text if len(text) <= MAX_BODY else text[: MAX_BODY - 1] + "…"


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def ticket_modal(subject: Subject, targets: list[Target], *, channel: str | None, ts: str | None) -> dict:
    default = next((t for t in targets if t.is_default), targets[0])
    options = [
        {"text": _plain(f"{t.name} ({t.kind}{' ' + t.project if t.project else ''})"), "value": t.name} for t in targets
    ]
    metadata = {"tenant_id": str(subject.tenant_id), f"{subject.kind}_id": subject.id, "channel": channel, "ts": ts}
    return {
        "type": "modal",
        "callback_id": MODAL_TICKET,
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "title": _plain("Create ticket"),
        "submit": _plain("Create"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": BLOCK_TARGET,
                "label": _plain("Where"),
                "element": {
                    "type": "static_select",
                    "action_id": "target",
                    "options": options,
                    "initial_option": next(o for o in options if o["value"] == default.name),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_PROJECT,
                "optional": True,
                "label": _plain("Project or repository"),
                "hint": _plain("Jira project key or GitHub owner/repo; empty: the target's own"),
                "element": {"type": "plain_text_input", "action_id": "project", "max_length": 201},
            },
            {
                "type": "input",
                "block_id": BLOCK_TITLE,
                "label": _plain("Title"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "title",
                    "initial_value": subject.title[:MAX_TITLE],
                    "max_length": MAX_TITLE,
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_BODY,
                "label": _plain("Description"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "body",
                    "multiline": True,
                    "initial_value": ticket_body(subject),
                    "max_length": MAX_BODY,
                },
            },
        ],
    }


def _reply_in_thread(ctx: ActionContext, channel: str | None, ts: str | None, text: str, subject_id: str) -> None:
    if not (channel and ts):
        return
    try:
        ctx.notifier.reply(ctx.workspace, channel, ts, text, anomaly_id=subject_id)
    except SlackNotifyError as exc:
        logger.warning("could not reply in the thread: %s", exc.error)


def link_text(ticket: store.Ticket) -> str:
    return f"<{ticket.external_url}|{ticket.external_key}>" if ticket.external_url else str(ticket.external_key)


@register_action(ACTION_TICKET, subjects=("anomaly",))
def open_ticket_modal(action: SlackAction, ctx: ActionContext) -> Reply:
    with tenant_transaction(ctx.conn, action.tenant_id):
        subject = load_subject(ctx.conn, action.subject_kind, action.subject_id)
        existing = store.ticket_for(ctx.conn, action.subject_kind, action.subject_id) if subject else None
        targets = list_targets(ctx.conn)
    if subject is None:
        return Reply.refused("not_found", "This alert is not one of your workspace's alerts. Nothing was changed.")
    if existing is not None and existing.status == "created":
        # A second click (or a click on an old copy of the message) links the existing ticket.
        _reply_in_thread(
            ctx, action.channel_id, action.message_ts, f"🎫 Already ticketed: {link_text(existing)}", subject.id
        )
        return Reply(message=f"Already ticketed: {link_text(existing)}")
    if existing is not None and existing.status == "queued":
        return Reply(message="A ticket for this alert is already being created; its link will appear in the thread.")
    if not targets:
        return Reply.refused(
            "no_ticket_target",
            "No ticket target is set up for this workspace (PUT /v1/tickets/targets/<name> or `dd0c-cost tickets`).",
        )
    view = ticket_modal(subject, targets, channel=action.channel_id, ts=action.message_ts)
    try:
        ctx.notifier.call(ctx.workspace, "views.open", trigger_id=action.trigger_id, view=view)
    except SlackNotifyError as exc:
        if exc.error in ("expired_trigger_id", "invalid_trigger_id"):
            return Reply.refused(
                "expired", "That click is too old to open a dialog (Slack allows 3 seconds); click again."
            )
        return Reply.refused("slack_error", f"Slack refused to open the ticket dialog ({exc.error}).")
    return Reply()


def _value(values: dict, block: str, action_id: str) -> str | None:
    element = (values.get(block) or {}).get(action_id) or {}
    if isinstance(element.get("selected_option"), dict):
        return element["selected_option"].get("value")
    value = element.get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _project_error(target: Target, project: str | None) -> str | None:
    if project is None:
        return None
    if target.kind == "jira" and not re.fullmatch(r"[A-Z][A-Z0-9_]{0,29}", project):
        return "A Jira project key, e.g. OPS"
    if target.kind == "github" and not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", project):
        return "A GitHub repository as owner/name"
    if target.kind == "webhook":
        return "A webhook has no project: leave this empty"
    return None


@register_action(MODAL_TICKET, subjects=("anomaly",), kind="view_submission")
def submit_ticket(action: SlackAction, ctx: ActionContext) -> Reply:
    from dd0c_cost.tickets.queue import enqueue

    values = action.view_values
    target_name = _value(values, BLOCK_TARGET, "target")
    project = _value(values, BLOCK_PROJECT, "project")
    title = _value(values, BLOCK_TITLE, "title")
    body = _value(values, BLOCK_BODY, "body") or ""
    if not title:
        return Reply.refused("bad_input", "A ticket needs a title", modal_block=BLOCK_TITLE)
    with tenant_transaction(ctx.conn, action.tenant_id):
        subject = load_subject(ctx.conn, action.subject_kind, action.subject_id)
        target = next((t for t in list_targets(ctx.conn) if t.name == target_name), None)
        if subject is None:
            return Reply.refused("not_found", "This alert is no longer one of yours.", modal_block=BLOCK_TITLE)
        if target is None:
            return Reply.refused("bad_input", "That target no longer exists", modal_block=BLOCK_TARGET)
        problem = _project_error(target, project)
        if problem:
            return Reply.refused("bad_input", problem, modal_block=BLOCK_PROJECT)
        ticket, queued = store.request_ticket(
            ctx.conn,
            action.tenant_id,
            subject_kind=subject.kind,
            subject_id=subject.id,
            target_name=target.name,
            target_kind=target.kind,
            project=project or target.project,
            title=title[:MAX_TITLE],
            body=body,
            requested_by=action.user_id,
            slack_channel=action.channel_id or subject.channel,
            slack_ts=action.message_ts or subject.ts,
        )
        if queued:
            governance.audit(
                ctx.conn,
                action.tenant_id,
                "ticket.requested",
                actor=action.user_id,
                source="slack",
                subject=f"{subject.kind}:{subject.id}",
                reason=f"{target.kind} {target.name}",
                detail={"ticket_id": str(ticket.id), "project": ticket.project},
            )
    channel, ts = ticket.slack_channel, ticket.slack_ts
    if not queued:
        text = (
            f"🎫 Already ticketed: {link_text(ticket)}"
            if ticket.status == "created"
            else "🎫 A ticket for this alert is already being created."
        )
        _reply_in_thread(ctx, channel, ts, text, subject.id)
        return Reply()
    enqueue(ticket)
    where = f"{target.kind} {ticket.project}" if ticket.project else f"{target.kind} {target.name}"
    _reply_in_thread(ctx, channel, ts, f"🎫 <@{action.user_id}> asked for a ticket in {where}…", subject.id)
    if subject.kind == "anomaly":
        from dd0c_cost.notify.actions import refresh_anomaly_message

        refresh_anomaly_message(ctx, subject.id)
    return Reply()  # an empty answer closes the modal


__all__ = ["ACTION_TICKET", "MODAL_TICKET", "link_text", "ticket_body", "ticket_button", "ticket_modal"]
