"""``dd0c-cost replay`` (default path): files of CloudTrail history through the bulk path
(``dd0c_cost.backfill``), in event-time order, in bounded memory.

Phase 1 reads every file once (JSON Lines streamed), refuses unreadable lines at once, and feeds
an external sort keyed by event time (records without one go last, in input order, as the queue
path always did). Phase 2 streams the merged records into a ``BulkLoader``; each account is
connected to the tenant before its first record is looked up (the queue path connects them all
before it sends anything: the same accounts, the same outcome), and notifications go through the
notify stage function (Slack, or the outbox file without a token), exactly as the notify Lambda
would handle them; alerts earlier runs could not post go out first, as on the queue path.

Faults are not bad input: the database going away fails the records it leaves unstored by the
failure's name (``failed``), a notification Slack did not take is ``alerts_failed`` (the database
still says it is unsent: the next run or ``dd0c-cost notify retry`` posts it), and the run carries
on; the CLI then exits non-zero, and a rerun finishes the work with nothing doubled.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Callable
from pathlib import Path

import orjson
from aws_lambda_powertools import Metrics

from dd0c_cost.backfill.bulk import DEFAULT_BATCH_RECORDS, DEPENDENCY_FAILURES, BulkLoader, BulkSummary
from dd0c_cost.backfill.merge import DEFAULT_RUN_BYTES, ExternalSort
from dd0c_cost.backfill.reader import iter_records
from dd0c_cost.db import operator
from dd0c_cost.events.cloudtrail import event_time_or_none
from dd0c_cost.events.models import NotifyMessage, Origin


def input_paths(paths: list[Path]) -> list[Path]:
    """The files to read: each path, or every file under a directory (sorted, hidden ones
    skipped). A path that does not exist is an error, before anything is read. Both replay paths
    (bulk and queues) use this."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return files


def bulk_replay(
    paths: list[Path],
    tenant_name: str,
    database_url: str,
    *,
    on_reject: Callable[[dict], None] | None = None,
    batch_records: int = DEFAULT_BATCH_RECORDS,
    run_bytes: int = DEFAULT_RUN_BYTES,
    progress: Callable[[str, int, int], None] | None = None,
) -> BulkSummary:
    """Replay CloudTrail files into the tenant (made if new) in event-time order through the bulk
    loader, scoring and notifying as the pipeline would; what happened, counted."""
    from dd0c_cost.db.connection import NORMALIZER_ROLE, open_connection
    from dd0c_cost.pricing import get_price_book
    from dd0c_cost.scoring.config import config_from_settings
    from dd0c_cost.settings import get_settings

    sort, early = _sorted_records(input_paths(paths), run_bytes)
    total = len(sort) + len(early)

    op = operator.open_operator_connection(database_url)
    found = operator.find_tenant(op, tenant_name)
    tenant_id, tenant_created = (found, False) if found is not None else (operator.ensure_tenant(op, tenant_name), True)
    refused: list[str] = []

    def prepare_account(account: str) -> None:
        refused.extend(operator.attach_accounts(op, tenant_id, {account})[1])

    # The normaliser's role: the application role plus the account-to-tenant lookup (migration 008)
    conn = open_connection(database_url, NORMALIZER_ROLE)
    loader = BulkLoader(
        conn,
        get_price_book(),
        config_from_settings(get_settings()),
        expected_tenant=tenant_id,
        notify=None,
        on_reject=on_reject,
        batch_records=batch_records,
        prepare_account=prepare_account,
    )
    loader.notify = _notify_stage(conn, loader, on_reject)
    try:
        _resend_unsent(database_url, conn, loader.summary)
        for reason, detail, origin in early:
            loader.reject(reason, detail, origin)
        for done, (_, payload) in enumerate(sort.merged(), start=1):
            value, file, line = orjson.loads(payload)
            _counting_faults(loader.add, value, (file, line))
            if progress and done % 10_000 == 0:
                progress("replay", done, total)
        summary = _counting_faults(loader.finish) or loader.summary
        summary.tenant_created = tenant_created
        summary.foreign_accounts = _counting_faults(operator.account_owners, op, refused) or {}
    finally:
        conn.close()
        op.close()
    if progress:
        progress("replay", total, total)
    summary.spilled_runs = sort.spilled_runs  # type: ignore[attr-defined]
    return summary


def _sorted_records(files: list[Path], run_bytes: int) -> tuple[ExternalSort, list[tuple[str, str | None, Origin]]]:
    """Every readable record of the files in event-time order (sorted outside memory), and the
    unreadable lines, rejected before sorting."""
    sort = ExternalSort(run_bytes=run_bytes)
    early: list[tuple[str, str | None, Origin]] = []
    for path in files:
        for item in iter_records(path):
            if item.rejected is not None:
                early.append((item.rejected.reason.value, item.rejected.detail, item.origin))
                continue
            when = event_time_or_none(item.value)
            origin = item.origin
            sort.add(
                math.inf if when is None else when.timestamp(), orjson.dumps((item.value, origin.file, origin.line))
            )
    return sort, early


def _notify_stage(
    conn, loader: BulkLoader, on_reject: Callable[[dict], None] | None
) -> Callable[[NotifyMessage], None]:
    """The notify stage on this run's connection: a failure is counted and rejected as the notify
    queue's dead letters would be, and the run goes on."""
    from dd0c_cost import pipeline
    from dd0c_cost.db.connection import bound_connection

    def notify(message: NotifyMessage) -> None:
        try:
            with bound_connection(conn):  # the notify stage's get_connection() is this run's
                pipeline.notify_body(message.model_dump_json())
            # The stage counts its outcome as a metric, which a Lambda flushes per invocation;
            # here nothing does, and Powertools prints them as it reaches 100: drop them.
            Metrics().clear_metrics()
        except Exception as exc:  # noqa: BLE001 - a fault, as the notify queue's dead letters are
            name = type(exc).__name__
            loader.summary.alerts_failed[name] += 1
            if on_reject is not None:
                on_reject(
                    {
                        "reason": f"failed:{name}",
                        "detail": f"{name}: {exc}",
                        "queue": "notify",
                        "message": orjson.loads(message.model_dump_json()),
                    }
                )

    return notify


def _counting_faults(step: Callable, *args):
    """``step(*args)``; a database failure has been counted by the loader (its records ``failed``
    by name): the run carries on, and every later batch fails the same way until it ends."""
    try:
        return step(*args)
    except DEPENDENCY_FAILURES:
        return None


def _resend_unsent(database_url: str, conn, summary: BulkSummary) -> None:
    """Alerts never lost: what earlier runs could not post (Slack down) goes out first, through
    the notify stage on this run's connection (the queue path does the same)."""
    from dd0c_cost import pipeline
    from dd0c_cost.db.connection import bound_connection, open_connection
    from dd0c_cost.notify.sweep import SWEEPER_ROLE, resend_unsent

    sweeper = open_connection(database_url, SWEEPER_ROLE)
    try:
        with bound_connection(conn):
            swept = resend_unsent(sweeper, pipeline.notify_body, attempts=2)
    finally:
        sweeper.close()
    summary.alerts_resent = swept.posted
    summary.alerts_failed.update(swept.failed)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
