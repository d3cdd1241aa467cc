"""migrate Lambda: run by CDK on every deploy; applies pending SQL migrations and refreshes the
runtime login (a member of dd0c_app, subject to row-level security)."""

import dd0c_cost
from dd0c_cost import observability
from dd0c_cost.db.deploy import apply_migrations_for_deploy

logger = observability.logger("migrate")


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    applied = apply_migrations_for_deploy()
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}


dd0c_cost.cold_start_done()
