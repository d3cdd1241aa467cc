"""Producers of the ingest queue other than EventBridge: the batching sender they share
(``sender``) and CloudTrail log files delivered to S3 (``s3``)."""
