"""Alerts kept undelivered are sent again when what kept them changes.

An anomaly raised while its tenant had no Slack (not installed, uninstalled, tokens revoked) or no
route for it is kept with ``delivery_status = 'undelivered'``. When the tenant then installs Slack
or replaces its routes, its recent open undelivered anomalies go back on the notify queue with
``redeliver``; the notify function posts each one that is still undelivered (on the routes as they
are then) and ignores the rest, so a repeated trigger or a redelivered message posts nothing twice.

"Recent" is event time: detected within ``WINDOW`` of the tenant's clock (its newest event), at
most ``MAX_ALERTS``, newest first: a workspace installed today gets this week's alerts, not a
flood of last quarter's.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from dd0c_cost import governance, queues
from dd0c_cost.db.connection import Connection, tenant_transaction
from dd0c_cost.events.messages import NotifyMessage
from dd0c_cost.notify import store
from dd0c_cost.topology_names import NOTIFY

WINDOW = timedelta(days=7)
MAX_ALERTS = 50


def redeliver_undelivered(conn: Connection, tenant_id: UUID, *, trigger: str) -> int:
    """Queue the tenant's recent undelivered alerts again; how many. ``trigger`` names what changed
    (part of the deduplication id: the same change sent twice is one message)."""
    with tenant_transaction(conn, tenant_id):
        since = governance.decision_time(conn) - WINDOW
        rows = store.undelivered_since(conn, since, MAX_ALERTS)
    for row in rows:
        message = NotifyMessage(tenant_id=tenant_id, anomaly_id=row["id"], revision=row["revision"], redeliver=True)
        queues.send(
            NOTIFY,
            message.model_dump_json(),
            group=str(tenant_id),
            deduplication=queues.dedup_id(message.anomaly_id, message.revision, "redeliver", trigger),
        )
    return len(rows)
