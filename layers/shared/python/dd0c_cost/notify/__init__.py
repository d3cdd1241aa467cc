"""Slack: the anomaly message, posting it (or writing it to the outbox), and verified interactions."""

from dd0c_cost.notify.interactions import InteractionRejected, SlackAction, parse_interaction, verify_signature
from dd0c_cost.notify.message import (
    ACTION_ACKNOWLEDGE,
    ACTION_EXPECTED,
    ACTION_IDS,
    ACTION_SNOOZE,
    SNOOZE_OPTIONS,
    build_anomaly_message,
)
from dd0c_cost.notify.slack import PostResult, SlackNotifier, SlackNotifyError, SlackRateLimited

__all__ = [
    "ACTION_ACKNOWLEDGE",
    "ACTION_EXPECTED",
    "ACTION_IDS",
    "ACTION_SNOOZE",
    "SNOOZE_OPTIONS",
    "InteractionRejected",
    "PostResult",
    "SlackAction",
    "SlackNotifier",
    "SlackNotifyError",
    "SlackRateLimited",
    "build_anomaly_message",
    "parse_interaction",
    "verify_signature",
]
