"""sizing Lambda: each SQS FIFO record's body (resources one cost event waits for) ->
dd0c_cost.sizing.describe.describe_body; partial batch failures reported."""

import dd0c_cost
from dd0c_cost.lambda_runtime import sqs_fifo_handler
from dd0c_cost.sizing import describe

handler = sqs_fifo_handler("sizing", describe.describe_body)

dd0c_cost.cold_start_done()
