"""The topology's names: its queues and functions by logical name, the queue names in the
topology's order, and how a name becomes a physical queue name or the variable carrying its URL.

What code that sends or routes by name needs, without the specs (``topology_specs``) or the
topology itself (``topology.TOPOLOGY``): building those specs is most of importing the topology,
and a function's cold start that only names a queue should not pay for it. Pure data."""

from __future__ import annotations

INGEST = "ingest"
COST_EVENTS = "cost-events"
NOTIFY = "notify"
ZOMBIES = "zombies"
USAGE = "usage"
HISTORY = "history"
SIZING = "sizing"
S3_INGEST = "s3_ingest"
HISTORY_IMPORT = "history_import"
ZOMBIE_FANOUT = "zombie_fanout"
SLACK_EVENTS = "slack_events"
ZOMBIE_HUNTER = "zombie_hunter"
USAGE_FANOUT = "usage_fanout"
USAGE_POLL = "usage_poll"
TICKETS = "tickets"
REMEDIATIONS = "remediations"

# Every queue of TOPOLOGY, in its order (a test holds the two equal): what settings reads URLs for.
QUEUE_NAMES = (INGEST, COST_EVENTS, NOTIFY, ZOMBIES, USAGE, SIZING, TICKETS, REMEDIATIONS, HISTORY)


def physical_queue_name(prefix: str, queue_name: str, *, dlq: bool = False) -> str:
    """FIFO queue names must end in ``.fifo``; one rule for CDK and the local runner."""
    base = f"{prefix}-{queue_name}-dlq" if dlq else f"{prefix}-{queue_name}"
    return f"{base}.fifo"


def queue_url_env_var(queue_name: str) -> str:
    """The environment variable that carries a queue's URL to the functions that send to it."""
    return "QUEUE_URL_" + queue_name.upper().replace("-", "_")
