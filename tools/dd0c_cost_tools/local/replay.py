"""``dd0c-cost replay``: files of CloudTrail history through the real pipeline, in event-time order."""

from __future__ import annotations

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
from dd0c_cost.topology import INGEST, TOPOLOGY
from dd0c_cost_tools.local.runner import LocalPipeline

_FAR_FUTURE = datetime.max.replace(tzinfo=None)
REPLAY_WINDOW = 20


@dataclass
class ReplaySummary:
    read: int = 0
    cost_events: int = 0
    not_cost_relevant: int = 0
    rejected: Counter = field(default_factory=Counter)
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
            "anomalies": self.anomalies,
        }


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
    for path in input_files(paths):
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
    """Feed the records through the local pipeline; count outcomes; keep dead letters as rejects."""

    def tally(stage: str, kind: str, reason: str | None, origin: dict | None) -> None:
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

    outcomes.add_listener(tally)
    try:
        with LocalPipeline(extra_env={"DATABASE_URL": database_url}) as pipeline:
            bodies = []
            for item in ordered:
                if item.rejected:
                    continue
                body = IngestMessage(tenant_id=tenant_id, origin=item.origin, record=item.value).model_dump_json()
                if len(body.encode()) > SQS_MAX_MESSAGE_BYTES:
                    # Never sendable: refused here, by name, like POST /v1/ingest and S3 do.
                    summary.rejected[RejectReason.TOO_LARGE.value] += 1
                    detail = f"{len(body.encode()):,} bytes > SQS's {SQS_MAX_MESSAGE_BYTES:,}"
                    rejects.append(
                        {
                            "reason": RejectReason.TOO_LARGE.value,
                            "detail": detail,
                            **item.origin.model_dump(exclude_none=True),
                        }
                    )
                    continue
                bodies.append((_account_of(item.value) or "unknown", body))
            # Feed the queues a window at a time: moto's FIFO emulation slows down quadratically
            # with queue depth, and Lambda would be consuming concurrently with the producer anyway.
            for start in range(0, len(bodies), REPLAY_WINDOW):
                pipeline.send_ingest(bodies[start : start + REPLAY_WINDOW])
                pipeline.drain()
            for queue in TOPOLOGY.queues:
                for message in pipeline.take_dead_letters(queue.name):
                    rejects.append(_reject_entry(queue.name, message))
                    attrs = message.get("MessageAttributes", {})
                    if "reject_reason" not in attrs:
                        # A poison message: it failed every delivery and was moved by redrive.
                        summary.rejected[RejectReason.PROCESSING_FAILED.value] += 1
    finally:
        outcomes.remove_listener(tally)


def new_run_id() -> str:
    """Names one replay in the rejects file: UTC start time and a random suffix."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def input_files(paths: list[Path]) -> list[Path]:
    """The files to read: each path, or every file under a directory (sorted, hidden ones
    skipped). A path that does not exist is an error, before anything is replayed."""
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
