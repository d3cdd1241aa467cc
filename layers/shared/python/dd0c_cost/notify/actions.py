"""The anomaly as a Slack subject, and the status actions on it: acknowledge, snooze, mark
expected. Each changes the anomaly's status (through ``record_feedback``) and re-renders its
message in the tenant's own workspace."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from dd0c_cost.db.connection import Connection, tenant_transaction
from dd0c_cost.notify import store as slack_store
from dd0c_cost.notify.delivery import message_context
from dd0c_cost.notify.message import (
    ACTION_ACKNOWLEDGE,
    ACTION_EXPECTED,
    ACTION_SNOOZE,
    ACTION_WHY,
    actor_name,
    what_line,
    who_line,
)
from dd0c_cost.notify.registry import ActionContext, Reply, Subject, register_action, register_subject
from dd0c_cost.notify.slack import SlackNotifyError
from dd0c_cost.scoring import store
from dd0c_cost.scoring.feedback import record_feedback
from dd0c_cost.scoring.models import AnomalyStatus

if TYPE_CHECKING:  # annotations only: parsing Slack's requests is slack_events' work
    from dd0c_cost.notify.interactions import SlackAction

logger = logging.getLogger(__name__)

_STATUS = {
    ACTION_ACKNOWLEDGE: AnomalyStatus.ACKNOWLEDGED,
    ACTION_SNOOZE: AnomalyStatus.SNOOZED,
    ACTION_EXPECTED: AnomalyStatus.EXPECTED,
}


@register_subject("anomaly")
def load_anomaly(conn: Connection, subject_id: str) -> Subject | None:
    from dd0c_cost.notify.message import format_rate

    try:
        anomaly_id = UUID(subject_id)
    except ValueError:
        return None
    anomaly = store.get_anomaly(conn, anomaly_id)
    if anomaly is None:
        return None
    channel, ts = slack_store.slack_message_of(conn, anomaly_id)
    account = slack_store.account_name(conn, anomaly.account_id)
    where = f"{account} ({anomaly.account_id})" if account else anomaly.account_id
    facts = (
        ("What", what_line(anomaly)),
        ("Who", f"{who_line(anomaly)} ({anomaly.actor})" if who_line(anomaly) != anomaly.actor else anomaly.actor),
        ("Where", f"account {where}, region {anomaly.region}"),
        ("Cost", format_rate(anomaly.estimated_hourly_usd)),
        ("Severity", f"{anomaly.severity.value} (score {anomaly.score:.2f})"),
        ("Detected", anomaly.detected_at.isoformat()),
        *(
            ("Why", f"{c.reason} ({c.name} {c.value:.2f})")
            for c in sorted(anomaly.components, key=lambda c: -c.value)
            if c.value > 0
        ),
        ("Resources", ", ".join(anomaly.resource_ids) or "-"),
        ("CloudTrail event IDs", ", ".join(anomaly.event_ids)),
        ("Anomaly", str(anomaly.id)),
    )
    return Subject(
        kind="anomaly",
        id=str(anomaly.id),
        tenant_id=anomaly.tenant_id,
        title=f"Cost anomaly: {actor_name(anomaly)} — {what_line(anomaly)} in {anomaly.region}, {format_rate(anomaly.estimated_hourly_usd)}",
        summary=anomaly.summary,
        facts=facts,
        account_id=anomaly.account_id,
        region=anomaly.region,
        service=anomaly.service,
        resource_type=anomaly.resource_type,
        resource_ids=tuple(anomaly.resource_ids),
        attributes={**anomaly.attributes, "_actor": anomaly.actor},
        channel=channel,
        ts=ts,
        event_ids=tuple(anomaly.event_ids),
        hourly_usd=anomaly.estimated_hourly_usd,
    )


def refresh_anomaly_message(ctx: ActionContext, anomaly_id: UUID, *, status_by: str | None = None) -> None:
    """Re-render an anomaly's Slack message after something changed (status, ticket, remediation).
    Slack refusing the update is logged, never fatal: the change itself is already committed."""
    with tenant_transaction(ctx.conn, ctx.workspace.tenant_id):
        anomaly = store.get_anomaly(ctx.conn, anomaly_id)
        channel, ts = slack_store.slack_message_of(ctx.conn, anomaly_id)
        context = message_context(ctx.conn, anomaly, ctx.settings, status_by=status_by) if anomaly else None
    if anomaly is None or not (channel and ts):
        return
    try:
        ctx.notifier.update(anomaly, ctx.workspace, channel, ts, context=context)
    except SlackNotifyError as exc:
        logger.warning("could not update the message of anomaly %s: %s", anomaly_id, exc.error)


def _status_action(action: SlackAction, ctx: ActionContext) -> Reply:
    status = _STATUS[action.action_id]
    conn = ctx.conn
    with tenant_transaction(conn, action.tenant_id):
        current = store.get_anomaly(conn, action.anomaly_id)
        if current is None:
            return Reply.refused("not_found", "This alert is not one of your workspace's alerts. Nothing was changed.")
        snoozed_until = None
        if status is AnomalyStatus.SNOOZED:
            # Event time, not wall time: the snooze runs from the newest event seen for this tenant.
            start = max(filter(None, [slack_store.newest_event_time(conn), current.detected_at]))
            snoozed_until = start + timedelta(seconds=action.snooze_seconds or 86_400)
        # "expected" teaches the scorer; every status change goes through the same door.
        record_feedback(conn, action.anomaly_id, status, action.user_id, snoozed_until=snoozed_until, source="slack")
    refresh_anomaly_message(ctx, action.anomaly_id, status_by=action.user_mention)
    return Reply()


for _action_id in _STATUS:
    register_action(_action_id)(_status_action)


@register_action(ACTION_WHY)
def show_why(action: SlackAction, ctx: ActionContext) -> Reply:
    """ "All N components": every score component with its reason, in a modal (changes nothing)."""
    from dd0c_cost.notify.message import why_modal

    with tenant_transaction(ctx.conn, action.tenant_id):
        anomaly = store.get_anomaly(ctx.conn, action.anomaly_id)
    if anomaly is None:
        return Reply.refused("not_found", "This alert is not one of your workspace's alerts.")
    try:
        ctx.notifier.call(ctx.workspace, "views.open", trigger_id=action.trigger_id, view=why_modal(anomaly))
    except SlackNotifyError as exc:
        return Reply.refused("slack_error", f"Slack refused to open the details ({exc.error}).")
    return Reply()
