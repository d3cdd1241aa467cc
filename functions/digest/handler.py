"""digest Lambda: an EventBridge schedule ({"kind": "digest", "time"}) -> dd0c_cost.notify.digest.post_all,
each tenant's daily Slack digest (once per tenant and day; one tenant's failure never stops the others)."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.db.connection import get_connection
from dd0c_cost.notify.digest import DIGEST_ROLE, post_all
from dd0c_cost.settings import get_settings

logger = observability.logger("digest")


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    counts = post_all(get_connection(role=DIGEST_ROLE), get_settings())
    logger.info("daily digests", extra=counts)
    return counts


dd0c_cost.cold_start_done()
