"""history_import Lambda: one chunk of a tenant's CloudTrail log files (an SQS FIFO message) ->
dd0c_cost.backfill.s3_history.import_chunk_body (the bulk path); a failed chunk is retried whole."""

import dd0c_cost
from dd0c_cost.backfill import s3_history
from dd0c_cost.lambda_runtime import sqs_fifo_handler

handler = sqs_fifo_handler("history_import", s3_history.import_chunk_body)

dd0c_cost.cold_start_done()
