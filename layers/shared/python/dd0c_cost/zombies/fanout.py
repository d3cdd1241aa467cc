"""The zombie_fanout Lambda's work: an EventBridge schedule ({"kind": "scan"|"digest", "time": <event
time>}) -> one zombie-queue message per connected account and region (scan) or per tenant (digest).
The schedule's event time is the scan time: replays and redeliveries get the same keys
(``zombies.hunter`` consumes the messages).

Its own module so that the fan-out's cold start imports neither the scanner (inventory, pricing,
criteria) nor botocore: it reads the targets and sends messages."""

from __future__ import annotations

from datetime import datetime

from dd0c_cost import outcomes, queues
from dd0c_cost.db.connection import get_connection
from dd0c_cost.topology_names import ZOMBIES as ZOMBIES_QUEUE
from dd0c_cost.zombies.models import DIGEST, SCAN, ZombieMessage, utc

# The fan-out's database role (migration 019): dd0c_app plus dd0c.zombie_scan_targets, the one
# cross-tenant read it needs; only the zombie_fanout function's login is a member.
FANOUT_ROLE = "dd0c_zombie_fanout"


def _event_time(event: dict) -> datetime:
    raw = event.get("time")
    if not raw:
        raise ValueError("schedule event has no 'time' (the rule's input transformer passes <time>)")
    return utc(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))


def scan_targets(conn) -> list[dict]:
    """Every (tenant, account, regions) to scan: needs a ``FANOUT_ROLE`` connection."""
    with conn.transaction():
        return conn.execute("SELECT tenant_id, account_id, regions FROM dd0c.zombie_scan_targets()").fetchall()


def messages_for(kind: str, scan_time: datetime, targets: list[dict]) -> list[ZombieMessage]:
    if kind == DIGEST:
        tenants = sorted({t["tenant_id"] for t in targets}, key=str)
        return [ZombieMessage(kind=DIGEST, tenant_id=t, scan_time=scan_time) for t in tenants]
    return [
        ZombieMessage(
            kind=SCAN, tenant_id=t["tenant_id"], scan_time=scan_time, account_id=t["account_id"], region=region
        )
        for t in targets
        for region in sorted(set(t["regions"] or []))
    ]


def send(message: ZombieMessage) -> None:
    queues.send(
        ZOMBIES_QUEUE,
        message.model_dump_json(),
        group=message.group,
        deduplication=queues.dedup_id(*message.natural_key),
    )


def fan_out(event: dict) -> dict:
    """The schedule's handler: one message per account and region (or per tenant for digests)."""
    kind = str(event.get("kind") or SCAN)
    if kind not in (SCAN, DIGEST):
        raise ValueError(f"unknown schedule kind {kind!r}")
    scan_time = _event_time(event)
    messages = messages_for(kind, scan_time, scan_targets(get_connection(role=FANOUT_ROLE)))
    for message in messages:
        send(message)
    outcomes.record("zombie_fanout", kind)
    return {"kind": kind, "scan_time": scan_time.isoformat(), "messages": len(messages)}
