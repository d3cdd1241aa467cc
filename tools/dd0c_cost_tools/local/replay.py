"""``dd0c-cost replay``: files of CloudTrail history through the real pipeline, in event-time order."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

from dd0c_cost import outcomes
from dd0c_cost.db import operator
from dd0c_cost.events.cloudtrail import (
    FileItem,
    RecordRejected,
    RejectReason,
    event_time_or_none,
    iter_file,
    parse,
)
from dd0c_cost.events.models import IngestMessage
from dd0c_cost.ingest_sources.sender import SQS_MAX_MESSAGE_BYTES
from dd0c_cost.topology import COST_EVENTS, INGEST, TOPOLOGY
from dd0c_cost_tools.local.backfill import input_paths
from dd0c_cost_tools.local.runner import LocalPipeline

_FAR_FUTURE = datetime.max.replace(tzinfo=None)
REPLAY_WINDOW = 20


@dataclass
class ReplaySummary:
    read: int = 0
    cost_events: int = 0
    not_cost_relevant: int = 0
    rejected: Counter = field(default_factory=Counter)
    # Faults are not bad input: records read but not processed because a dependency failed
    # (by the failure's name); rerunning finishes them, and nothing is doubled.
    failed: Counter = field(default_factory=Counter)
    scoring_failed: Counter = field(default_factory=Counter)  # cost events the scorer could not score
    alerts_failed: Counter = field(default_factory=Counter)  # anomaly revisions not posted
    alerts_resent: int = 0  # unsent alerts of earlier runs, posted at the start of this one
    anomalies: int = 0
    tenant: str = ""
    rejects_file: str | None = None
    run_id: str = ""
    tenant_created: bool = False
    # Accounts in the input that another tenant owns (their records are rejected): account -> tenant.
    foreign_accounts: dict[str, str] = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return self.cost_events + self.not_cost_relevant

    def as_json(self) -> dict:
        return {
            "read": self.read,
            "cost_events": self.cost_events,
            "not_cost_relevant": self.not_cost_relevant,
            "rejected": dict(sorted(self.rejected.items())),
            "failed": dict(sorted(self.failed.items())),
            "scoring_failed": dict(sorted(self.scoring_failed.items())),
            "alerts_failed": dict(sorted(self.alerts_failed.items())),
            "alerts_resent": self.alerts_resent,
            "anomalies": self.anomalies,
        }

    @property
    def faults(self) -> int:
        return sum(self.failed.values()) + sum(self.scoring_failed.values()) + sum(self.alerts_failed.values())


def _account_of(value) -> str | None:
    try:
        return parse(value).account_id
    except RecordRejected:
        return None


def _sort_key(indexed: tuple[int, FileItem]):
    index, item = indexed
    when = None if item.rejected else event_time_or_none(item.value)
    # Undated records (they will be rejected) keep their relative order at the end.
    return (when is None, when.replace(tzinfo=None) if when else _FAR_FUTURE, index)


def replay(
    paths: list[Path],
    tenant_name: str,
    database_url: str,
    *,
    rejects_path: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> ReplaySummary:
    """Read ``paths``, connect their accounts to the tenant (creating it if new), feed the records
    through the local pipeline in event-time order, and append the rejects, with this run's id, to
    ``rejects_path``."""
    summary = ReplaySummary(tenant=tenant_name, rejects_file=str(rejects_path), run_id=new_run_id())
    ordered = _read_in_event_time_order(paths, summary)
    tenant_id = _prepare_tenant(database_url, tenant_name, ordered, summary)
    rejects = _file_rejects(ordered, summary)
    _run_pipeline(database_url, tenant_id, ordered, summary, rejects, progress)
    append_rejects(rejects_path, summary.run_id, rejects)
    return summary


def _read_in_event_time_order(paths: list[Path], summary: ReplaySummary) -> list[FileItem]:
    items: list[FileItem] = []
    for path in input_paths(paths):
        items.extend(iter_file(path))
    summary.read = len(items)
    return [item for _, item in sorted(enumerate(items), key=_sort_key)]


def _prepare_tenant(database_url: str, tenant_name: str, ordered: list[FileItem], summary: ReplaySummary):
    """The tenant's id (created if new) with the input's accounts connected to it; accounts that
    another tenant owns are left alone and named in ``summary.foreign_accounts``."""
    conn = operator.open_operator_connection(database_url)
    try:
        tenant_id = operator.find_tenant(conn, tenant_name)
        if tenant_id is None:
            tenant_id = operator.ensure_tenant(conn, tenant_name)
            summary.tenant_created = True
        accounts = {a for item in ordered if not item.rejected and (a := _account_of(item.value))}
        _, refused = operator.attach_accounts(conn, tenant_id, accounts)
        summary.foreign_accounts = operator.account_owners(conn, refused)
    finally:
        conn.close()
    return tenant_id


def _file_rejects(ordered: list[FileItem], summary: ReplaySummary) -> list[dict]:
    """Records the reader already refused (bad JSON, not CloudTrail, ...), counted and kept."""
    rejects: list[dict] = []
    for item in ordered:
        if item.rejected:
            summary.rejected[item.rejected.reason.value] += 1
            rejects.append(
                {
                    "reason": item.rejected.reason.value,
                    "detail": item.rejected.detail,
                    **item.origin.model_dump(exclude_none=True),
                }
            )

    return rejects


def _run_pipeline(database_url, tenant_id, ordered, summary, rejects, progress) -> None:
    """Feed the records through the local pipeline; count outcomes; keep dead letters as rejects
    (a fault by the name of its last failure, never a reject)."""
    last_failure: dict[str, str] = {}  # body digest (and message group) -> the name of its latest failure
    tally = _tally(summary, last_failure, progress)
    outcomes.add_listener(tally)
    try:
        with LocalPipeline(extra_env={"DATABASE_URL": database_url}) as pipeline:
            # Alerts never lost: what earlier runs could not post (Slack down) goes out first.
            swept = _sweep(database_url, attempts=2)
            summary.alerts_resent = swept.posted
            summary.alerts_failed.update(swept.failed)
            bodies = _ingest_bodies(tenant_id, ordered, summary, rejects)
            # Feed the queues a window at a time: moto's FIFO emulation slows down quadratically
            # with queue depth, and Lambda would be consuming concurrently with the producer anyway.
            for start in range(0, len(bodies), REPLAY_WINDOW):
                pipeline.send_ingest(bodies[start : start + REPLAY_WINDOW])
                pipeline.drain()
            _collect_dead_letters(pipeline, summary, rejects, last_failure)
    finally:
        outcomes.remove_listener(tally)


def _tally(summary: ReplaySummary, last_failure: dict[str, str], progress) -> Callable[..., None]:
    """The outcomes listener: counts what each stage did, remembers each message's last failure."""

    def tally(stage: str, kind: str, reason: str | None, origin: dict | None) -> None:
        if kind == "failed":
            last_failure[(origin or {}).get("body_sha256", "")] = reason or "unknown"
            # Messages behind it in its FIFO group are held back unprocessed: the same cause.
            last_failure["group:" + str((origin or {}).get("group"))] = reason or "unknown"
            return
        if stage == "normalize":
            if kind == "cost_event":
                summary.cost_events += 1
            elif kind == "not_cost_relevant":
                summary.not_cost_relevant += 1
            else:
                summary.rejected[reason or "rejected"] += 1
            if progress:
                progress("normalize", summary.processed + sum(summary.rejected.values()), summary.read)
        elif stage == "score" and kind == "anomaly":
            summary.anomalies += 1

    return tally


def _ingest_bodies(tenant_id, ordered: list[FileItem], summary: ReplaySummary, rejects: list[dict]):
    """(message group, body) of every readable record; a body SQS could never carry is rejected
    here, by name, like POST /v1/ingest and S3 do."""
    bodies = []
    for item in ordered:
        if item.rejected:
            continue
        body = IngestMessage(tenant_id=tenant_id, origin=item.origin, record=item.value).model_dump_json()
        if len(body.encode()) > SQS_MAX_MESSAGE_BYTES:
            summary.rejected[RejectReason.TOO_LARGE.value] += 1
            detail = f"{len(body.encode()):,} bytes > SQS's {SQS_MAX_MESSAGE_BYTES:,}"
            rejects.append(
                {"reason": RejectReason.TOO_LARGE.value, "detail": detail, **item.origin.model_dump(exclude_none=True)}
            )
            continue
        bodies.append((_account_of(item.value) or "unknown", body))
    return bodies


def _collect_dead_letters(pipeline, summary: ReplaySummary, rejects: list[dict], last_failure: dict[str, str]):
    """Dead letters become rejects entries; one without a reject reason failed every delivery and
    was moved by redrive: a fault, counted by the name of its last failure."""
    for queue in TOPOLOGY.queues:
        for message in pipeline.take_dead_letters(queue.name):
            rejects.append(_reject_entry(queue.name, message))
            if "reject_reason" in message.get("MessageAttributes", {}):
                continue
            group = message.get("Attributes", {}).get("MessageGroupId")
            name = last_failure.get(hashlib.sha256(message["Body"].encode()).hexdigest()) or last_failure.get(
                f"group:{group}", "unknown"
            )
            rejects[-1]["reason"] = f"failed:{name}"
            {INGEST: summary.failed, COST_EVENTS: summary.scoring_failed}.get(queue.name, summary.alerts_failed)[
                name
            ] += 1


def new_run_id() -> str:
    """Names one replay in the rejects file: UTC start time and a random suffix."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def append_rejects(path: Path, run_id: str, rejects: list[dict]) -> None:
    """Evidence is kept: each run appends its rejects (with its run id) to the tenant's file,
    created readable by its owner only (it holds customer records)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as out:
        for entry in rejects:
            out.write(orjson.dumps({"run_id": run_id, **entry}, default=str) + b"\n")


def _reject_entry(queue: str, message: dict) -> dict:
    attrs = {k: v.get("StringValue") for k, v in message.get("MessageAttributes", {}).items()}
    entry: dict = {
        "reason": attrs.get("reject_reason", RejectReason.PROCESSING_FAILED.value),
        "detail": attrs.get("reject_detail"),
        "queue": queue if queue != INGEST else None,
    }
    try:
        body = orjson.loads(message["Body"])
    except orjson.JSONDecodeError:
        body = message["Body"]
    if isinstance(body, dict) and isinstance(body.get("origin"), dict):
        entry.update({k: v for k, v in body["origin"].items() if v is not None})
        entry["record"] = body.get("record")
    else:
        entry["message"] = body
    return {k: v for k, v in entry.items() if v is not None}


def _sweep(database_url: str, *, attempts: int, sleep: Callable[[float], None] = time.sleep):
    """Post every unsent alert through the real notify path (``pipeline.notify_body``); needs the
    handlers' environment (a ``LocalPipeline``) to be in place."""
    from dd0c_cost import pipeline
    from dd0c_cost.db.connection import open_connection
    from dd0c_cost.notify.sweep import SWEEPER_ROLE, resend_unsent

    conn = open_connection(database_url, SWEEPER_ROLE)
    try:
        return resend_unsent(conn, pipeline.notify_body, attempts=attempts, sleep=sleep)
    finally:
        conn.close()


def retry_unsent_alerts(database_url: str, *, sleep: Callable[[float], None] = time.sleep):
    """``dd0c-cost notify retry``: post what the database says is unsent (Retry-After honoured,
    backing off on other retryable errors)."""
    with LocalPipeline(extra_env={"DATABASE_URL": database_url}):
        return _sweep(database_url, attempts=5, sleep=sleep)
