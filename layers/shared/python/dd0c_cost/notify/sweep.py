"""Alerts are never lost: the database is the truth for what must be posted (an anomaly revision
above ``notified_revision``), and the sweeper sends those again.

- In AWS, a schedule runs ``enqueue_unsent`` (the ``notify_sweep`` function): each unsent
  revision goes back on the notify queue, where the notify function posts it (with its retries,
  DLQ and alarm). ``notify_body`` posts a revision at most once, so sweeping twice is harmless.
- Locally, ``resend_unsent`` posts them directly (``dd0c-cost notify retry``, and at the start of
  every replay/demo): it honours Slack's ``Retry-After`` and backs off on other retryable errors.

Listing unsent alerts crosses tenants, so it needs the ``dd0c_sweeper`` role (migration 013):
``dd0c.unsent_alerts`` returns ids and revisions only; each alert is then read and posted in its
own tenant's transaction, as the notify stage always does."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from dd0c_cost.db.connection import Connection
from dd0c_cost.events.messages import NotifyMessage

SWEEPER_ROLE = "dd0c_sweeper"
MAX_RETRY_AFTER_S = 60.0


def unsent_alerts(conn: Connection, limit: int = 500) -> list[NotifyMessage]:
    """Every anomaly revision not yet posted (a ``SWEEPER_ROLE`` connection)."""
    with conn.transaction():
        rows = conn.execute("SELECT tenant_id, anomaly_id, revision FROM dd0c.unsent_alerts(%s)", [limit]).fetchall()
    return [NotifyMessage(tenant_id=r["tenant_id"], anomaly_id=r["anomaly_id"], revision=r["revision"]) for r in rows]


def enqueue_unsent(conn: Connection, *, sweep_id: str, limit: int = 500) -> int:
    """Put every unsent revision back on the notify queue (AWS). The deduplication id names the
    sweep, so a revision swept again later is not dropped by SQS's 5-minute deduplication."""
    from dd0c_cost import queues
    from dd0c_cost.topology_names import NOTIFY

    messages = unsent_alerts(conn, limit)
    for message in messages:
        queues.send(
            NOTIFY,
            message.model_dump_json(),
            group=str(message.tenant_id),
            deduplication=queues.dedup_id(message.anomaly_id, message.revision, "sweep", sweep_id),
        )
    return len(messages)


@dataclass
class SweepResult:
    pending: int = 0  # unsent revisions found
    posted: int = 0
    failed: Counter = field(default_factory=Counter)  # left unsent, by failure name
    waited_s: float = 0.0


def resend_unsent(
    conn: Connection,
    post: Callable[[str], None],
    *,
    attempts: int = 5,
    first_backoff_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> SweepResult:
    """Post every unsent revision with ``post(body)`` (``pipeline.notify_body``), one at a time.
    A 429 waits Slack's ``Retry-After`` (bounded); another retryable error backs off
    exponentially; after ``attempts`` the alert stays unsent (the next sweep tries again)."""
    from dd0c_cost.notify.slack import SlackNotifyError, SlackRateLimited

    result = SweepResult()
    messages = unsent_alerts(conn)
    result.pending = len(messages)
    for message in messages:
        backoff = first_backoff_s
        for attempt in range(1, attempts + 1):
            try:
                post(message.model_dump_json())
                result.posted += 1
                break
            except SlackRateLimited as exc:
                wait = min(float(exc.retry_after or backoff), MAX_RETRY_AFTER_S)
                error: Exception = exc
            except SlackNotifyError as exc:
                if not exc.retryable:
                    result.failed[exc.error] += 1
                    break
                wait, error = backoff, exc
            except (OSError, psycopg.OperationalError) as exc:  # Slack or the database unreachable
                wait, error = backoff, exc
            if attempt == attempts:
                result.failed[type(error).__name__] += 1
                break
            sleep(wait)
            result.waited_s += wait
            backoff = min(backoff * 2, 30.0)
    return result
