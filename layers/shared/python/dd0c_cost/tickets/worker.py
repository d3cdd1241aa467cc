"""The tickets queue's consumer: create one requested ticket in its target and say so in the
alert's thread.

Idempotent by the ticket row: a message for a ticket already created is a no-op. A refusal is
recorded on the row and shown in the thread (on the first attempt, and when it gives up), then
raised, so SQS delivers it again after a growing backoff; the last attempt marks the ticket
``failed`` (the alert shows "ticket failed", the button offers a retry) and SQS parks the message
in the queue's DLQ (alarm). A refusal that retrying cannot fix (4xx other than 429) marks it
failed at once, and is still retried in case someone fixes the target meanwhile.
"""

from __future__ import annotations

import logging
from uuid import UUID

from dd0c_cost import governance, outcomes
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.events.messages import TicketMessage
from dd0c_cost.notify.delivery import NoWorkspace, workspace_for
from dd0c_cost.notify.registry import ActionContext, load_subject
from dd0c_cost.notify.slack import SlackNotifyError, get_notifier
from dd0c_cost.settings import get_settings
from dd0c_cost.tickets import store
from dd0c_cost.tickets.clients import TargetRefused, TicketDraft, create_ticket
from dd0c_cost.tickets.slack import link_text
from dd0c_cost.tickets.targets import get_target, open_credential

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 900


def max_attempts() -> int:
    # The topology (its dataclasses, ≈ 42 M instructions) is only needed when a ticket fails.
    from dd0c_cost.topology import TICKETS, TOPOLOGY

    return TOPOLOGY.queue(TICKETS).max_receive_count


def backoff_seconds(receive_count: int, retry_after: int | None = None) -> int:
    """30 s, 60 s, 120 s, … (at most 15 minutes), or the target's Retry-After when longer."""
    delay = min(MAX_BACKOFF_S, 30 * 2 ** max(0, receive_count - 1))
    return min(MAX_BACKOFF_S, max(delay, retry_after or 0))


class TicketNotCreated(RuntimeError):
    """The target refused; SQS tries again after ``retry_in`` seconds (or parks the message)."""

    def __init__(self, message: str, retry_in: int) -> None:
        super().__init__(message)
        self.retry_in = retry_in


def _say(ctx: ActionContext | None, ticket: store.Ticket, text: str) -> None:
    if ctx is None or not (ticket.slack_channel and ticket.slack_ts):
        return
    try:
        ctx.notifier.reply(ctx.workspace, ticket.slack_channel, ticket.slack_ts, text, anomaly_id=ticket.subject_id)
    except SlackNotifyError as exc:
        logger.warning("could not post the ticket outcome in the thread: %s", exc.error)


def _refresh(ctx: ActionContext | None, ticket: store.Ticket) -> None:
    if ctx is None or ticket.subject_kind != "anomaly":
        return
    from dd0c_cost.notify.actions import refresh_anomaly_message

    refresh_anomaly_message(ctx, UUID(ticket.subject_id))


def process_ticket(body: str, receive_count: int = 1) -> str:
    """Create the ticket a queue message names; the outcome, or TicketNotCreated."""
    message = TicketMessage.model_validate_json(body)
    conn = get_connection()
    settings = get_settings()
    with tenant_transaction(conn, message.tenant_id):
        ticket = store.start_attempt(conn, message.ticket_id)
        if ticket is None:
            outcomes.record("tickets", "already_done")
            return "already_done"
        target = get_target(conn, ticket.target_name)
        credential = open_credential(conn, message.tenant_id, ticket.target_name) if target else None
        subject = load_subject(conn, ticket.subject_kind, ticket.subject_id)
        workspace = workspace_for(conn, message.tenant_id, settings)
    ctx = None if isinstance(workspace, NoWorkspace) else ActionContext(conn, settings, workspace, get_notifier())
    draft = TicketDraft(
        id=str(ticket.id),
        title=ticket.title,
        body=ticket.body,
        project=ticket.project,
        subject_kind=ticket.subject_kind,
        subject_id=ticket.subject_id,
        link=_link(settings, subject),
        facts=subject.facts if subject else (),
    )
    try:
        if target is None or credential is None:
            raise TargetRefused(f"the ticket target {ticket.target_name!r} was removed")
        created = create_ticket(target, credential, draft)
    except TargetRefused as exc:
        _failed(conn, ctx, ticket, exc, receive_count)
        raise TicketNotCreated(exc.message, backoff_seconds(receive_count, exc.retry_after)) from None
    with tenant_transaction(conn, message.tenant_id):
        done = store.mark_created(conn, ticket.id, created.key, created.url) or ticket
        governance.audit(
            conn,
            message.tenant_id,
            "ticket.created",
            actor="dd0c-cost",
            source="system",
            subject=f"{ticket.subject_kind}:{ticket.subject_id}",
            reason=f"{ticket.target_kind} {ticket.target_name}",
            detail={"ticket_id": str(ticket.id), "key": created.key, "url": created.url, "attempt": ticket.attempts},
        )
    _say(ctx, done, f"🎫 {link_text(done)} created for <@{done.requested_by}>")
    _refresh(ctx, done)
    outcomes.record("tickets", "created", ticket.target_kind)
    return "created"


def _link(settings, subject) -> str | None:
    if subject is None or subject.kind != "anomaly" or not settings.dashboard_url:
        return None
    return f"{settings.dashboard_url.rstrip('/')}/anomalies/{subject.id}"


def _failed(conn, ctx: ActionContext | None, ticket: store.Ticket, exc: TargetRefused, receive_count: int) -> None:
    last = receive_count >= max_attempts()
    give_up = last or not exc.retryable
    with tenant_transaction(conn, ticket.tenant_id):
        before = store.ticket_for(conn, ticket.subject_kind, ticket.subject_id)
        after = store.mark_failed_attempt(conn, ticket.id, exc.message, failed=give_up) or ticket
        governance.audit(
            conn,
            ticket.tenant_id,
            "ticket.failed" if give_up else "ticket.retrying",
            actor="dd0c-cost",
            source="system",
            subject=f"{ticket.subject_kind}:{ticket.subject_id}",
            reason=exc.message[:500],
            detail={"ticket_id": str(ticket.id), "attempt": receive_count, "status": exc.status, "parked": last},
        )
    newly_failed = give_up and before is not None and before.status != "failed"
    if last:
        _say(
            ctx,
            after,
            f"❌ No ticket after {receive_count} attempts: {exc.message}. The request is parked for an operator; "
            "*Retry ticket* on the alert tries again.",
        )
    elif receive_count == 1 or newly_failed:
        tail = "" if exc.retryable else " (it will be retried, but probably needs a fix to the target)"
        _say(ctx, after, f"⚠️ Could not create the ticket: {exc.message}. Retrying later{tail}.")
    if newly_failed or last:
        _refresh(ctx, after)
    outcomes.record("tickets", "failed" if give_up else "retrying", ticket.target_kind)


def handle_record(record) -> str:
    """The Lambda's per-record function: create the ticket, or back off and let SQS retry."""
    receive_count = int(record.attributes.approximate_receive_count or 1)
    try:
        return process_ticket(record.body, receive_count)
    except TicketNotCreated as exc:
        from dd0c_cost.lambda_runtime import back_off
        from dd0c_cost.topology import TICKETS

        back_off(record, TICKETS, exc.retry_in)
        raise


__all__ = ["TicketNotCreated", "backoff_seconds", "handle_record", "max_attempts", "process_ticket"]
