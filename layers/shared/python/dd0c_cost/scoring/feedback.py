"""Feedback from people: an anomaly marked "expected" or "false_positive" becomes a rule the
scorer matches (``components.feedback_part``), so the same situation next time scores lower.

A rule is scoped to the anomaly's account, resource type and principal (``actor_key``: the role
for assumed roles), and remembers the region, instance families and $/h. It suppresses a later
burst by ``0.9`` (expected) or ``0.8`` (false positive), times ``min(1, 1.5 * rule $/h / burst $/h)``
(ten times the amount is not "the same situation"), halved for another region and again for
another family, fading with a 180-day half-life in event time.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from dd0c_cost.db.connection import Connection
from dd0c_cost.scoring import store
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus

FEEDBACK_STATUSES = (AnomalyStatus.EXPECTED, AnomalyStatus.FALSE_POSITIVE)


def record_feedback(
    conn: Connection,
    anomaly_id: UUID,
    status: AnomalyStatus | str,
    by: str,
    *,
    snoozed_until: datetime | None = None,
    source: str = "api",
) -> Anomaly | None:
    """Set the anomaly's status (``store.set_status``) and learn from it; None if it is not the
    tenant's. Call it inside the tenant's transaction (``tenant_transaction``), like ``set_status``.

    "expected" / "false_positive" record (or replace) the anomaly's rule; any other status
    withdraws it (someone changed their mind)."""
    status = AnomalyStatus(status)
    anomaly = store.set_status(conn, anomaly_id, status, by=by, snoozed_until=snoozed_until)
    if anomaly is None:
        return None
    _audit_status(conn, anomaly, by, source)
    _evaluate_governance(conn, anomaly)
    if status not in FEEDBACK_STATUSES:
        conn.execute("DELETE FROM dd0c.scoring_feedback WHERE anomaly_id = %s", [anomaly.id])
        return anomaly
    attrs = anomaly.attributes
    families = attrs.get("families")
    families = [f for f in families if isinstance(f, str)] if isinstance(families, list) else []
    actor_key = attrs.get("actor_key") if isinstance(attrs.get("actor_key"), str) else anomaly.actor
    conn.execute(
        """INSERT INTO dd0c.scoring_feedback (anomaly_id, tenant_id, status, account_id, resource_type, actor_key,
               region, families, hourly_usd, event_time, created_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (anomaly_id) DO UPDATE SET status = EXCLUDED.status, created_by = EXCLUDED.created_by,
               hourly_usd = EXCLUDED.hourly_usd, families = EXCLUDED.families, created_at = now()""",
        [
            anomaly.id,
            anomaly.tenant_id,
            status.value,
            anomaly.account_id,
            anomaly.resource_type,
            actor_key,
            anomaly.region,
            families,
            max(0.0, anomaly.estimated_hourly_usd),
            anomaly.detected_at,
            by,
        ],
    )
    return anomaly


def _evaluate_governance(conn: Connection, anomaly: Anomaly) -> None:
    """A review is evidence: a spike of false positives demotes the tenant's mode at once."""
    from dd0c_cost import governance

    governance.evaluate(conn, anomaly.tenant_id, governance.decision_time(conn, anomaly.detected_at))


def _audit_status(conn: Connection, anomaly: Anomaly, by: str, source: str) -> None:
    """Every status change is in the audit log (the anomaly's trail in the console)."""
    from dd0c_cost import governance

    governance.audit(
        conn,
        anomaly.tenant_id,
        "anomaly.status",
        actor=by or "unknown",
        source=source,
        at=governance.decision_time(conn, anomaly.detected_at),
        subject=f"anomaly:{anomaly.id}",
        state=anomaly.status.value,
        detail={"snoozed_until": anomaly.snoozed_until.isoformat()} if anomaly.snoozed_until else None,
    )
