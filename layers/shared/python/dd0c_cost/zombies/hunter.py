"""The zombie queue's consumer (the scheduled fan-out that fills the queue is ``zombies.fanout``).

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

from dd0c_cost import outcomes
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.zombies import access, dal, scan
from dd0c_cost.zombies.inventory import classify_error, error_detail
from dd0c_cost.zombies.models import DIGEST, ZombieMessage, utc

MAX_SCAN_ATTEMPTS = 3  # the queue's max_receive_count: the last delivery never raises for throttling

SessionFactory = Callable[[str, str], object]
_session_factory: SessionFactory = access.reader_session


class ScanThrottled(RuntimeError):
    """The customer's APIs throttled us after botocore's retries: SQS redelivers the message later."""


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
                client_config=access.client_config(),
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
