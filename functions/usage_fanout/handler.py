"""usage_fanout Lambda: the hourly EventBridge schedule ({"kind", "time"}) -> dd0c_cost.usage.poller.fan_out,
one usage-queue message per connected account."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.usage import poller

logger = observability.logger("usage_fanout")


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    return poller.fan_out(event)


dd0c_cost.cold_start_done()
