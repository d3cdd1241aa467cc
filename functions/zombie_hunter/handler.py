"""zombie_hunter Lambda: each SQS FIFO record's body -> dd0c_cost.zombies.hunter.handle_body (scan one
account and region, or post a weekly digest); partial batch failures reported, poison -> DLQ."""

import dd0c_cost
from dd0c_cost.lambda_runtime import sqs_fifo_handler
from dd0c_cost.zombies import hunter

handler = sqs_fifo_handler("zombie_hunter", hunter.handle_body)

dd0c_cost.cold_start_done()
