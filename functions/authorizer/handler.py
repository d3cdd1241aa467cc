"""authorizer Lambda: the HTTP API's Lambda authorizer (payload 2.0, simple responses). Runs the
same credential check as the api function does locally (``dd0c_cost.auth.check_credentials``),
with a 60-second in-process cache of the result."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.auth import AuthError, check_credentials
from dd0c_cost.db.connection import get_connection

logger = observability.logger("authorizer")


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    try:
        principal = check_credentials(
            get_connection(), event.get("headers") or {}, event.get("cookies"), use_cache=True
        )
    except AuthError as exc:
        logger.info("refused", extra={"reason": exc.error})
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": principal.context()}


dd0c_cost.cold_start_done()
