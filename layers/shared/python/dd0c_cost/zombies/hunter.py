"""What the Lambdas call: the scheduled fan-out and the zombie queue's consumer.

- ``fan_out(event)``: an EventBridge schedule ({"kind": "scan"|"digest", "time": <event time>})
  -> one message per connected account and region (scan) or per tenant (digest) on the zombie
  queue. The schedule's event time is the scan time: replays and redeliveries get the same keys.
- ``handle_body(body)``: one message. A scan assumes the account's ``dd0c-reader`` role with its
  ExternalId, scans the region and stores the result; a digest posts the tenant's weekly digest.

Idempotency is by natural key: (tenant, account, region, scan time) in ``zombie_scans`` (a
completed scan is not redone), one finding per resource, one digest per tenant and week.
Throttling is recorded and the message raised back to SQS (retried after the visibility
timeout) up to ``MAX_SCAN_ATTEMPTS``; the last attempt keeps what it could check. Access
denied is recorded and not retried until the next scheduled scan: retrying in minutes cannot
fix a role or trust policy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from dd0c_cost import outcomes, queues
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.topology import ZOMBIES as ZOMBIES_QUEUE
from dd0c_cost.zombies import access, dal, scan
from dd0c_cost.zombies.inventory import classify_error, error_detail
from dd0c_cost.zombies.models import DIGEST, SCAN, ZombieMessage, utc

# The fan-out's database role (migration 019): dd0c_app plus dd0c.zombie_scan_targets, the one
# cross-tenant read it needs; only the zombie_fanout function's login is a member.
FANOUT_ROLE = "dd0c_zombie_fanout"
MAX_SCAN_ATTEMPTS = 3  # the queue's max_receive_count: the last delivery never raises for throttling

SessionFactory = Callable[[str, str], object]
_session_factory: SessionFactory = access.reader_session


class ScanThrottled(RuntimeError):
    """The customer's APIs throttled us after botocore's retries: SQS redelivers the message later."""


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


def handle_body(body: str | bytes) -> str:
    """One zombie-queue message; returns what happened (also recorded in ``outcomes``)."""
    message = ZombieMessage.model_validate_json(body)
    if message.kind == DIGEST:
        from dd0c_cost.zombies.digest import post_weekly_digest

        result = post_weekly_digest(get_connection(), message.tenant_id, message.scan_time)
    else:
        result = scan_account_region(
            message.tenant_id, message.account_id or "", message.region or "", message.scan_time
        )
    outcomes.record("zombies", result)
    return result


def scan_account_region(
    tenant_id: UUID, account_id: str, region: str, scan_time: datetime, *, session_factory: SessionFactory | None = None
) -> str:
    from dd0c_cost.pricing import get_price_book

    conn = get_connection()
    scan_time = utc(scan_time)
    with tenant_transaction(conn, tenant_id):
        record = dal.scan_record(conn, account_id, region, scan_time)
        if record is not None and record["status"] == scan.COMPLETE:
            return "already_scanned"
        account = dal.account_external_id(conn, account_id)
        prior = dal.prior_idle_since(conn, account_id, region)
    if account is None:
        return "account_not_connected"
    external_id, regions = account
    if region not in regions:
        return "region_not_connected"

    factory = session_factory or _session_factory
    if not external_id:
        result = scan.denied(account_id, region, scan_time, "error", "the account has no ExternalId: reconnect it")
    else:
        try:
            session = factory(account_id, external_id)
        except Exception as exc:  # noqa: BLE001 - recorded per account and region
            result = scan.denied(account_id, region, scan_time, classify_error(exc), error_detail(exc))
        else:
            result = scan.scan_region(
                session,
                account_id,
                region,
                scan_time,
                book=get_price_book(),
                prior_idle_since=prior,
                client_config=access.CLIENT_CONFIG,
            )
    with tenant_transaction(conn, tenant_id):
        if result.status != scan.ACCESS_DENIED or result.checked:
            dal.apply_scan(conn, tenant_id, result)
        attempts = dal.record_scan(conn, tenant_id, result)
    if result.throttled and attempts < MAX_SCAN_ATTEMPTS:
        raise ScanThrottled(f"{account_id}/{region} throttled (attempt {attempts}); SQS redelivers it later")
    return result.status


def set_session_factory(factory: SessionFactory | None) -> None:
    """Local runner and tests: how to get a session for (account, ExternalId); None restores the default."""
    global _session_factory
    _session_factory = factory or access.reader_session
