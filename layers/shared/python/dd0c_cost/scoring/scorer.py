"""Scoring one cost event: advance its series' baseline exactly once, raise an anomaly if due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from dd0c_cost.db.connection import tenant_transaction
from dd0c_cost.events.models import CostAction, CostEvent
from dd0c_cost.scoring import store
from dd0c_cost.scoring.baseline import Thresholds, decide, severity_for
from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.settings import Settings

_VERBS = {
    CostAction.CREATE: "launched",
    CostAction.START: "started",
    CostAction.MODIFY: "resized",
    CostAction.STOP: "stopped",
    CostAction.DELETE: "deleted",
}


@dataclass(frozen=True)
class ScoreResult:
    anomaly: Anomaly | None
    revision: int = 1
    needs_notify: bool = False
    already_scored: bool = False


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(
        min_samples=settings.min_samples_for_zscore,
        z_threshold=settings.zscore_threshold,
        alert_floor_usd_per_hour=settings.alert_floor_usd_per_hour,
        cold_start_floor_usd_per_hour=settings.cold_start_floor_usd_per_hour,
    )


def summarise(event: CostEvent) -> str:
    what = event.attributes.get("instance_type") or event.resource_type
    quantity = f"{event.quantity:g} × " if event.quantity != 1 else ""
    return (
        f"{event.actor.display_name} {_VERBS[event.action]} {quantity}{what} in {event.region} "
        f"(account {event.account_id}): +${event.estimated_usd_per_hour:,.2f}/h"
    )


def score_cost_event(conn: psycopg.Connection, event: CostEvent, thresholds: Thresholds) -> ScoreResult:
    series = f"{event.account_id}:{event.service}"
    with tenant_transaction(conn, event.tenant_id):
        if not store.claim_for_scoring(conn, event.tenant_id, event.event_id):
            # Redelivered: the baseline has already seen it. If it raised an anomaly that was
            # never posted, hand that on again so a crash between commit and send loses nothing.
            found = store.anomaly_for_event(conn, event.event_id)
            if found and found[2] < found[1]:
                return ScoreResult(found[0], revision=found[1], needs_notify=True, already_scored=True)
            return ScoreResult(None, already_scored=True)

        x = event.estimated_usd_per_hour
        if x is None or x <= 0:
            return ScoreResult(None)  # unknown price or a decrease: nothing to learn from or alert on
        baseline = store.lock_baseline(conn, event.tenant_id, series)
        decision = decide(baseline, x, thresholds)
        baseline.update(x)
        store.save_baseline(conn, event.tenant_id, series, baseline, event.event_time)
        if not decision.is_anomaly:
            return ScoreResult(None)

        anomaly = Anomaly(
            id=uuid.uuid4(),
            tenant_id=event.tenant_id,
            account_id=event.account_id,
            region=event.region,
            service=event.service,
            resource_type=event.resource_type,
            resource_ids=event.resource_ids,
            event_ids=[event.event_id],
            actor=event.actor.principal_arn or event.actor.display_name,
            detected_at=event.event_time,
            score=round(decision.score, 4),
            severity=severity_for(x),
            estimated_hourly_usd=x,
            summary=summarise(event),
            components=list(decision.components),
            attributes={**event.attributes, "quantity": event.quantity, "actor_name": event.actor.display_name},
        )
        store.insert_anomaly(conn, anomaly)
    return ScoreResult(anomaly, revision=1, needs_notify=True)
