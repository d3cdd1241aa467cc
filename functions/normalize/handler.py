"""normalize Lambda: each SQS FIFO record's body -> dd0c_cost.pipeline.normalize_body; partial batch failures reported."""

import dd0c_cost
from dd0c_cost import pipeline
from dd0c_cost.lambda_runtime import sqs_fifo_handler

pipeline.warm("normalize")

handler = sqs_fifo_handler("normalize", pipeline.normalize_body)

dd0c_cost.cold_start_done()
