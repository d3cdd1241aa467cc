"""score Lambda: each SQS FIFO record's body -> dd0c_cost.pipeline.score_body; partial batch failures reported."""

from dd0c_cost import pipeline
from dd0c_cost.lambda_runtime import sqs_fifo_handler

handler = sqs_fifo_handler("score", pipeline.score_body)
