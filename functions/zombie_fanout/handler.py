"""zombie_fanout Lambda: an EventBridge schedule ({"kind", "time"}) -> dd0c_cost.zombies.fanout.fan_out,
one zombie-queue message per connected account and region (or per tenant for the digest)."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.zombies import fanout

logger = observability.logger("zombie_fanout")


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    return fanout.fan_out(event)


dd0c_cost.cold_start_done()
