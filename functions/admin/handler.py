"""admin Lambda: an operator's action on the deployed database (``dd0c-cost --stack NAME ...``)
-> dd0c_cost.admin.handle. Invoked only through lambda:Invoke by IAM principals; no API route."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.admin import handle

logger = observability.logger("admin")


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    logger.info("admin action", extra={"action": event.get("action")})  # never the arguments: keys, names
    return handle(event)


dd0c_cost.cold_start_done()
