"""Sizing from the customer's account (issue 12): resources sized before the history began.

A stop, start or delete of a resource whose creation predates the history carries no size, so
it is unpriced. The normaliser records a request per resource (``store.request``, natural key:
tenant, account, region, resource type, id) and the event waiting for it, and queues a message
on the ``sizing`` FIFO queue; the ``sizing`` function (``describe``) asks the account in batched
Describe* calls through its ``dd0c-reader`` role, caches the answers, re-prices the waiting
events as ``<eventID>:sized`` and sends them to the scorer once. Later events of the same
resource inherit the cached answer in the normaliser directly.
"""
