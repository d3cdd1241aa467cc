"""score Lambda: an SQS FIFO batch -> dd0c_cost.pipeline.score_bodies (one database round trip per
batch); the records it reports as failed go back to SQS as partial batch failures."""

import dd0c_cost
from dd0c_cost import pipeline
from dd0c_cost.lambda_runtime import sqs_fifo_batch_handler

pipeline.warm("score")

handler = sqs_fifo_batch_handler("score", pipeline.score_bodies)

dd0c_cost.cold_start_done()
