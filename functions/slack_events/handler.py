"""slack_events Lambda: API Gateway POST /slack/events -> the dd0c_cost.api resolver. Its own
function because disabling a workspace crosses tenants: only this function's login is a member of
dd0c_slack_events (migration 019), so the api function's login cannot do it."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.api.app import app

logger = observability.logger("slack_events")
tracer = observability.tracer("slack_events")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)


dd0c_cost.cold_start_done()
