"""The three queue stages as plain functions of a message body — what the thin Lambda
handlers call, and what tests and the local runner exercise without Lambda."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dd0c_cost import outcomes, queues
from dd0c_cost.db.connection import NORMALIZER_ROLE, get_connection
from dd0c_cost.settings import get_settings

if TYPE_CHECKING:
    from dd0c_cost.db.connection import Connection
    from dd0c_cost.events.messages import NotifyMessage
    from dd0c_cost.events.normalize import NormalizeOutcome

# Each stage imports what only it needs inside its function: the three handlers share this module,
# and none should pay at cold start for another's imports (the normaliser's catalogue, the scorer,
# governance, the Slack client). Each handler calls ``warm(stage)`` at import, so what its own
# first call needs is still imported during the cold start, not in the first request.
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "normalize": ("dd0c_cost.events.normalize", "dd0c_cost.pricing", "dd0c_cost.topology_names"),
    "score": (
        "dd0c_cost.events.models",
        "dd0c_cost.scoring.config",
        "dd0c_cost.scoring.scorer",
        "dd0c_cost.topology_names",
    ),
    "notify": (
        "orjson",
        "dd0c_cost.governance",
        "dd0c_cost.events.messages",
        "dd0c_cost.notify.store",
        "dd0c_cost.notify.slack",
        "dd0c_cost.notify.message",
        "dd0c_cost.notify.delivery",
        "dd0c_cost.scoring.store",
    ),
}


def warm(stage: str) -> None:
    """Import what ``stage``'s first call needs (the handler calls this at import time)."""
    import importlib

    for name in STAGE_MODULES[stage]:
        importlib.import_module(name)


def normalize_body(body: str | bytes) -> NormalizeOutcome:
    from dd0c_cost.events.cloudtrail import RecordRejected
    from dd0c_cost.events.normalize import NormalizeOutcome, OutcomeKind, normalize, parse_ingest_body
    from dd0c_cost.topology_names import COST_EVENTS

    origin: dict | None = None
    try:
        message = parse_ingest_body(body)
        origin = message.origin.model_dump(exclude_none=True)
    except RecordRejected as rejected:
        outcome = NormalizeOutcome(OutcomeKind.REJECTED, rejected.reason.value, rejected.detail)
    else:
        from dd0c_cost.pricing import get_price_book

        outcome = normalize(message, get_connection(role=NORMALIZER_ROLE), get_price_book())

    if outcome.forward and outcome.cost_event is not None:
        event = outcome.cost_event
        queues.send(
            COST_EVENTS,
            event.model_dump_json(),
            group=event.series_key,
            deduplication=queues.dedup_id(event.tenant_id, event.event_id),
        )
    if outcome.sizing is not None and outcome.cost_event is not None:
        from dd0c_cost.sizing.describe import send_request

        send_request(outcome.cost_event.tenant_id, *outcome.sizing)
    if outcome.kind is OutcomeKind.REJECTED and outcome.reason != "duplicate":
        queues.send_reject(body, outcome.reason or "rejected", outcome.detail, origin)
    outcomes.record("normalize", outcome.kind.value, outcome.reason, origin)
    return outcome


def score_bodies(bodies: list[str]) -> list[BaseException | None]:
    """Score one SQS batch in one database round trip; per body, the error that failed it (the
    handler reports those back to SQS) or None."""
    from dd0c_cost.events.models import CostEvent, NotifyMessage
    from dd0c_cost.scoring.config import config_from_settings
    from dd0c_cost.scoring.scorer import score_cost_events
    from dd0c_cost.topology_names import NOTIFY

    errors: list[BaseException | None] = [None] * len(bodies)
    events: list[CostEvent] = []
    positions: list[int] = []
    for index, body in enumerate(bodies):
        try:
            events.append(CostEvent.model_validate_json(body))
            positions.append(index)
        except ValueError as exc:  # a poison message: retried, then moved to the DLQ
            errors[index] = exc
    results = score_cost_events(get_connection(), events, config_from_settings(get_settings())) if events else []
    for index, event, result in zip(positions, events, results, strict=True):
        if result.outcome == "error":
            errors[index] = result.error or RuntimeError(result.detail or "scoring failed")
            continue
        if result.anomaly is not None and result.needs_notify:
            message = NotifyMessage(tenant_id=event.tenant_id, anomaly_id=result.anomaly.id, revision=result.revision)
            queues.send(
                NOTIFY,
                message.model_dump_json(),
                group=str(event.tenant_id),
                deduplication=queues.dedup_id(message.anomaly_id, message.revision),
            )
        # scored | anomaly (raised) | grouped (grew a burst's anomaly) | ignored (bad input, reason) | already_scored
        outcomes.record("score", result.outcome, result.reason)
    return errors


def notify_body(body: str | bytes) -> None:
    """Post (or update) one anomaly's message, once per revision (see ``_notify_one``).

    Two notifiers of one anomaly (two replays of one file, a sweep beside the queue, two Lambdas
    after a redrive) take turns: a PostgreSQL advisory lock on the anomaly id is held from reading
    its notified revision until the post is recorded, so the second one finds it posted."""
    import contextlib

    import orjson
    import psycopg

    from dd0c_cost.events.messages import NotifyMessage

    message = NotifyMessage.model_validate(orjson.loads(body))
    conn = get_connection()
    key = int.from_bytes(message.anomaly_id.bytes[:8], "big", signed=True)
    conn.execute("SELECT pg_advisory_lock(%s)", [key])
    conn.commit()  # session-level: survives the stage's own transactions
    try:
        _notify_one(conn, message)
    finally:
        if not conn.closed:
            with contextlib.suppress(psycopg.Error):  # a broken connection drops the lock anyway
                conn.execute("SELECT pg_advisory_unlock(%s)", [key])
                conn.commit()


def _notify_one(conn: Connection, message: NotifyMessage) -> None:
    """Post (or update) one anomaly's message in its tenant's own Slack, on the tenant's route.

    Governance first (shadow mode and panic withhold it). No workspace or no route: the anomaly is
    kept, marked undelivered with the reason, and not retried (nothing would change by retrying).
    A Slack refusal that needs a human (channel not found, bot not in channel, token revoked) is
    recorded the same way; throttling and Slack outages raise, so SQS redelivers."""
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.notify import delivery
    from dd0c_cost.notify import store as slack_store
    from dd0c_cost.notify.slack import get_notifier
    from dd0c_cost.scoring import store as anomaly_store

    settings = get_settings()
    target = context = None
    with tenant_transaction(conn, message.tenant_id):
        anomaly = anomaly_store.get_anomaly(conn, message.anomaly_id)
        already = slack_store.notified_revision(conn, message.anomaly_id)
        # Sent again after an install or a route change: posted only if still undelivered.
        again = message.redeliver and slack_store.is_undelivered(conn, message.anomaly_id)
        stale = already is not None and already >= message.revision and not again
        channel, ts = slack_store.slack_message_of(conn, message.anomaly_id)
        decision = None
        if anomaly is not None and not stale:
            target, decision, context = _governed_target(conn, message, anomaly, settings)
    if anomaly is None:
        raise LookupError(f"anomaly {message.anomaly_id} does not exist for tenant {message.tenant_id}")
    if stale:
        outcomes.record("notify", "already_posted")
        return
    if decision is not None and not decision:
        outcomes.record("notify", "withheld", decision.reason)
        return
    if isinstance(target, delivery.Undelivered):
        _undelivered(conn, message, anomaly.id, target.reason, again)
        return
    posted, refused = _post_or_update(get_notifier(), anomaly, target, channel, ts, context)
    if posted is None:
        _undelivered(conn, message, anomaly.id, f"slack:{refused}", again)
        return
    with tenant_transaction(conn, message.tenant_id):
        slack_store.mark_notified(conn, anomaly.id, message.revision, posted.channel, posted.ts, again=again)
        slack_store.set_delivery(conn, anomaly.id, posted.destination, target.route)
    outcomes.record("notify", posted.destination)
    _explain(conn, anomaly, target.workspace, posted, settings)


def _governed_target(conn: Connection, message: NotifyMessage, anomaly, settings):
    """The alert's route and governance's decision on it (withheld is recorded here); the message's
    context when it may go out."""
    from dd0c_cost import governance
    from dd0c_cost.notify import delivery

    # Governance, read on every decision at the tenant's clock (event time): shadow mode
    # records without notifying; panic halts this notification even though it was queued
    # before the panic. The route that takes the alert is a governance rule of its own
    # ("route:severity:critical", "route:default", …): its mode, when set, wins.
    target = delivery.target_for(conn, anomaly, settings)
    decision = governance.may_notify(
        conn,
        message.tenant_id,
        governance.decision_time(conn, anomaly.detected_at),
        rule=delivery.governance_rule(target),
    )
    if not decision:
        governance.withhold_notification(conn, message.tenant_id, anomaly.id, message.revision, decision)
        return target, decision, None
    return target, decision, delivery.message_context(conn, anomaly, settings)


def _post_or_update(notifier, anomaly, target, channel, ts, context):
    """(the posted message, None), or (None, Slack's error) when Slack refused in a way retrying
    cannot fix; a retryable refusal raises."""
    from dd0c_cost.notify.slack import SlackNotifyError

    if channel and ts:
        # A grown anomaly (a burst that kept going) updates its message instead of posting another.
        try:
            return notifier.update(anomaly, target.workspace, channel, ts, context=context), None
        except SlackNotifyError as exc:
            if exc.retryable:
                raise
            # the old message is gone or unreachable (e.g. a reinstall elsewhere): post anew
    try:
        return notifier.post(anomaly, target.workspace, target.channel, context=context), None
    except SlackNotifyError as exc:
        if exc.retryable:
            raise
        return None, exc.error


def _undelivered(conn: Connection, message: NotifyMessage, anomaly_id, reason: str, again: bool) -> None:
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.notify import store as slack_store

    with tenant_transaction(conn, message.tenant_id):
        slack_store.set_delivery(conn, anomaly_id, "undelivered", reason)
        slack_store.mark_notified(conn, anomaly_id, message.revision, None, None, again=again)
    outcomes.record("notify", "undelivered", reason)


def _explain(conn, anomaly, workspace, posted, settings) -> None:
    """The optional explanation, asked for after the alert is out (a hard 2 s deadline), then
    shown by updating the message. Never raises: the alert is already delivered."""
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.explain import explainer_for
    from dd0c_cost.notify import delivery
    from dd0c_cost.notify import store as slack_store
    from dd0c_cost.notify.slack import SlackNotifyError, get_notifier

    explainer = explainer_for(settings)
    if explainer is None:
        return
    with tenant_transaction(conn, anomaly.tenant_id):
        if slack_store.explanation_of(conn, anomaly.id) is not None:
            return  # a grown anomaly keeps its first explanation (shown by the update above)
    result = explainer.explain(anomaly)
    with tenant_transaction(conn, anomaly.tenant_id):
        slack_store.save_explanation(conn, anomaly.tenant_id, anomaly.id, result.status, result.text, result.model)
        context = delivery.message_context(conn, anomaly, settings) if result.status == "ok" else None
    outcomes.record("explain", result.status)
    if context is None:
        return
    try:
        get_notifier().update(anomaly, workspace, posted.channel, posted.ts, context=context)
    except SlackNotifyError as exc:
        outcomes.record("explain", "update_refused", exc.error)
