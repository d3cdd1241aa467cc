"""tickets Lambda: each SQS FIFO record -> dd0c_cost.tickets.worker.handle_record (create the ticket in
Jira / GitHub / the webhook; back off and retry on refusal); partial batch failures reported."""

import dd0c_cost
from dd0c_cost.lambda_runtime import sqs_fifo_record_handler
from dd0c_cost.tickets.worker import handle_record

handler = sqs_fifo_record_handler("tickets", handle_record)

dd0c_cost.cold_start_done()
