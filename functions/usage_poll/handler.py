"""usage_poll Lambda: each SQS FIFO record's body (one account, one hour) -> dd0c_cost.usage.poller.poll_body;
partial batch failures reported."""

import dd0c_cost
from dd0c_cost.lambda_runtime import sqs_fifo_handler
from dd0c_cost.usage import poller

handler = sqs_fifo_handler("usage_poll", poller.poll_body)

dd0c_cost.cold_start_done()
