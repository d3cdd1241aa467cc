"""notify_sweep Lambda: on a schedule, every anomaly revision not yet posted goes back on the notify
queue (dd0c_cost.notify.sweep.enqueue_unsent); the notify function posts it at most once."""

from dd0c_cost import observability
from dd0c_cost.db.connection import get_connection
from dd0c_cost.notify.sweep import SWEEPER_ROLE, enqueue_unsent

logger = observability.logger("notify_sweep")
tracer = observability.tracer("notify_sweep")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    sweep_id = (event or {}).get("id") or context.aws_request_id  # the schedule's event id
    enqueued = enqueue_unsent(get_connection(role=SWEEPER_ROLE), sweep_id=str(sweep_id))
    logger.info("unsent alerts re-queued", extra={"enqueued": enqueued})
    return {"enqueued": enqueued}
