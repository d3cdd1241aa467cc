"""A customer's CloudTrail history from S3, through the bulk path: one chunk of log-file keys at a
time, not one SQS message per record.

A chunk is ``{"tenant_id", "bucket", "keys": [...]}`` — keys of one trail in key order (CloudTrail
names its files ``AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json.gz``).
``plan_chunks`` orders a listing by delivery time across the tenant's accounts and regions and cuts
it into chunks; each chunk is one message on a FIFO queue
whose group is the tenant, so a tenant's chunks are imported one after the other, in order, and
tenants in parallel (the FIFO consumer rules apply: partial batch failures, DLQ, alarm; a chunk
that fails is retried whole, and its already-stored events are found again as duplicates, so
nothing is doubled). ``import_chunk`` reads the chunk's log files (the S3 ingest reader's own
checks: gzip, ``{"Records": [...]}``, the key's account), merges their records by event time, and
runs them through a ``BulkLoader`` whose notifications go to the notify queue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import orjson

from dd0c_cost.backfill.bulk import BulkLoader, BulkSummary
from dd0c_cost.backfill.merge import ExternalSort
from dd0c_cost.events.cloudtrail import event_time_or_none
from dd0c_cost.events.models import NotifyMessage

DEFAULT_CHUNK_KEYS = 200


_FILE_TIME = re.compile(r"_(\d{8}T\d{4}Z)_")
_DAY_PATH = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")


def _delivery_order(key: str) -> tuple[str, str]:
    """A log file's delivery time (``..._20260302T1305Z_...``, else its day folder), then the key:
    the order a tenant's files across accounts and regions are imported in."""
    found = _FILE_TIME.search(key)
    if found:
        return found.group(1), key
    day = _DAY_PATH.search(key)
    return (f"{day.group(1)}{day.group(2)}{day.group(3)}" if day else ""), key


def plan_chunks(
    tenant_id: UUID | str, bucket: str, keys: Iterable[str], *, chunk_keys: int = DEFAULT_CHUNK_KEYS
) -> list[dict]:
    """Chunk messages for a listing of a tenant's log-file keys, in delivery-time order across
    accounts and regions (a tenant's baselines span its accounts, so its history must be replayed
    in time order, not account by account); within a chunk records are merged by event time."""
    ordered = sorted((k for k in keys if k.endswith((".json", ".json.gz"))), key=_delivery_order)
    chunks: list[dict] = []
    current: list[str] = []
    for key in ordered:
        # A chunk ends only between two delivery times: files delivered together (one per account
        # and region) hold interleaved events, and are merged within one chunk.
        if len(current) >= chunk_keys and _delivery_order(key)[0] != _delivery_order(current[-1])[0]:
            chunks.append({"tenant_id": str(tenant_id), "bucket": bucket, "keys": current})
            current = []
        current.append(key)
    if current:
        chunks.append({"tenant_id": str(tenant_id), "bucket": bucket, "keys": current})
    return chunks


def import_chunk(
    chunk: dict,
    conn,
    book,
    config,
    *,
    s3_client,
    notify: Callable[[NotifyMessage], None] | None,
    on_reject: Callable[[dict], None] | None = None,
    batch_records: int | None = None,
) -> BulkSummary:
    """Import one chunk; raises on an S3 or database failure (the message is retried whole)."""
    from dd0c_cost.ingest_sources.s3 import ObjectRejected, _record_account, key_account, parse_log_object

    tenant_id = UUID(chunk["tenant_id"])
    bucket = chunk["bucket"]
    sort = ExternalSort()
    kwargs: dict[str, Any] = {
        "expected_tenant": tenant_id,
        "notify": notify,
        "on_reject": on_reject,
        "origin_source": "s3",
    }
    if batch_records:
        kwargs["batch_records"] = batch_records
    loader = BulkLoader(conn, book, config, **kwargs)
    for key in chunk["keys"]:
        uri = f"s3://{bucket}/{key}"
        key_acct, _kind = key_account(key)
        try:
            data = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
            records = parse_log_object(data)
        except ObjectRejected as rejected:
            loader.reject(rejected.reason, rejected.detail, (uri, None))
            continue
        for index, record in enumerate(records):
            account = _record_account(record)
            if key_acct is not None and account is not None and account != key_acct:
                loader.reject(
                    "account_mismatch",
                    f"record account {account} is not the key's account {key_acct}",
                    (uri, index + 1),
                    record,
                )
                continue
            when = event_time_or_none(record)
            sort.add(float("inf") if when is None else when.timestamp(), orjson.dumps((record, uri, index + 1)))
    for _, payload in sort.merged():
        record, file, line = orjson.loads(payload)
        loader.add(record, (file, line))
    return loader.finish()


def chunk_message(chunk: dict) -> tuple[str, str, str]:
    """(body, message group, deduplication id) of a chunk on the history queue."""
    import hashlib

    body = orjson.dumps(chunk).decode()
    digest = hashlib.sha256("\n".join(chunk["keys"]).encode()).hexdigest()
    return body, chunk["tenant_id"], hashlib.sha256(f"{chunk['tenant_id']}:{digest}".encode()).hexdigest()


def import_chunk_body(body: str | bytes) -> BulkSummary:
    """The history_import function's work for one message: its anomalies go to the notify queue
    (as the score stage sends them), its rejects to the rejects queue when one is configured."""
    import boto3

    from dd0c_cost import outcomes, queues
    from dd0c_cost.db.connection import NORMALIZER_ROLE, get_connection
    from dd0c_cost.pricing import get_price_book
    from dd0c_cost.scoring.config import config_from_settings
    from dd0c_cost.settings import get_settings
    from dd0c_cost.topology_names import NOTIFY

    chunk = orjson.loads(body)

    def notify(message: NotifyMessage) -> None:
        queues.send(
            NOTIFY,
            message.model_dump_json(),
            group=str(message.tenant_id),
            deduplication=queues.dedup_id(message.anomaly_id, message.revision),
        )

    summary = import_chunk(
        chunk,
        get_connection(role=NORMALIZER_ROLE),  # it resolves accounts to tenants, as the normaliser does
        get_price_book(),
        config_from_settings(get_settings()),
        s3_client=boto3.client("s3"),
        notify=notify,
    )
    outcomes.record("history_import", "chunk", None, {"file": f"s3://{chunk['bucket']}", "line": len(chunk["keys"])})
    return summary
