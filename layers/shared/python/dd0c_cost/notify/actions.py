"""What a Slack button click does: change the anomaly's status and update the message."""

from __future__ import annotations

from datetime import timedelta

from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.notify import store as slack_store
from dd0c_cost.notify.interactions import SlackAction
from dd0c_cost.notify.message import ACTION_ACKNOWLEDGE, ACTION_EXPECTED, ACTION_SNOOZE
from dd0c_cost.notify.slack import get_notifier
from dd0c_cost.scoring import store
from dd0c_cost.scoring.feedback import record_feedback
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus

_STATUS = {
    ACTION_ACKNOWLEDGE: AnomalyStatus.ACKNOWLEDGED,
    ACTION_SNOOZE: AnomalyStatus.SNOOZED,
    ACTION_EXPECTED: AnomalyStatus.EXPECTED,
}


def apply_slack_action(action: SlackAction) -> Anomaly | None:
    """Apply a verified Slack action; None if the anomaly is not the tenant's."""
    conn = get_connection()
    status = _STATUS[action.action_id]
    with tenant_transaction(conn, action.tenant_id):
        current = store.get_anomaly(conn, action.anomaly_id)
        if current is None:
            return None
        snoozed_until = None
        if status is AnomalyStatus.SNOOZED:
            # Event time, not wall time: the snooze runs from the newest event seen for this tenant.
            start = max(filter(None, [slack_store.newest_event_time(conn), current.detected_at]))
            snoozed_until = start + timedelta(seconds=action.snooze_seconds or 86_400)
        # "expected" teaches the scorer; every status change goes through the same door.
        updated = record_feedback(
            conn, action.anomaly_id, status, action.user_id, snoozed_until=snoozed_until, source="slack"
        )
        channel, ts = slack_store.slack_message_of(conn, action.anomaly_id)
    if channel and ts:
        get_notifier().update(updated, channel, ts, status_by=action.user_mention)
    return updated
