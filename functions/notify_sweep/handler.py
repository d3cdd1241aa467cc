"""notify_sweep Lambda: on its schedule (topology "notify-sweep"), every anomaly revision not yet
posted goes back on the notify queue (dd0c_cost.notify.sweep.enqueue_unsent); the notify function
posts each revision at most once."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.db.connection import get_connection
from dd0c_cost.notify.sweep import SWEEPER_ROLE, enqueue_unsent

logger = observability.logger("notify_sweep")
tracer = observability.tracer("notify_sweep")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    # The schedule's event time names the sweep: a retried invocation re-sends the same
    # deduplication ids, which SQS drops; the next sweep's ids are new.
    sweep_id = (event or {}).get("time") or context.aws_request_id
    enqueued = enqueue_unsent(get_connection(role=SWEEPER_ROLE), sweep_id=str(sweep_id))
    logger.info("unsent alerts re-queued", extra={"enqueued": enqueued})
    return {"enqueued": enqueued}


dd0c_cost.cold_start_done()
