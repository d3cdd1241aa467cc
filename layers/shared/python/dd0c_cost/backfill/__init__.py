"""Backfill: history (replayed files, a customer's CloudTrail bucket) through a bulk path built
from the same domain functions as the live handlers, in event-time order, in bounded memory.

- ``reader``: records of a file, one at a time (JSON Lines streamed; CloudTrail log files whole,
  as each is small), as ``FileItem``s with their origin.
- ``merge``: event-time order across any number of files, by an external merge sort whose memory
  is bounded by ``run_bytes`` whatever the input size (sorted runs spilled to temporary files,
  then a k-way merge).
- ``bulk``: batches of records -> the live normaliser's functions (parse, tenant check, catalogue,
  pricing, inherited sizing) -> cost events COPYed through a staging table -> the live scorer
  (``score_cost_events``) per batch in event-time order -> notifications for what it raised.
"""
