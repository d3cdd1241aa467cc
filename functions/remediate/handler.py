"""remediate Lambda: each SQS FIFO record -> dd0c_cost.remediation.worker.handle_record (run the
confirmed remediation in the customer's account; back off while AWS works); partial batch failures reported."""

import dd0c_cost
from dd0c_cost.lambda_runtime import sqs_fifo_record_handler
from dd0c_cost.remediation.worker import handle_record

handler = sqs_fifo_record_handler("remediate", handle_record)

dd0c_cost.cold_start_done()
