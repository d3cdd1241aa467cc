"""Sending to the pipeline's FIFO queues. The SQS client is created lazily and reused."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from dd0c_cost.settings import get_settings


@lru_cache(maxsize=1)
def sqs_client():
    import boto3

    return boto3.client("sqs")


def reset_clients() -> None:
    sqs_client.cache_clear()


def dedup_id(*parts: object) -> str:
    """SQS allows 128 characters; a digest keeps tenant-scoped keys within that."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def group_id(value: str) -> str:
    # MessageGroupId: up to 128 characters.
    return value if len(value) <= 128 else hashlib.sha256(value.encode()).hexdigest()


def send(queue_name: str, body: str, *, group: str, deduplication: str, attributes: dict | None = None) -> str:
    """Send to a topology queue by its logical name."""
    url = get_settings().queue_url(queue_name)
    return send_to_url(url, body, group=group, deduplication=deduplication, attributes=attributes)


def send_to_url(url: str, body: str, *, group: str, deduplication: str, attributes: dict | None = None) -> str:
    kwargs = {
        "QueueUrl": url,
        "MessageBody": body,
        "MessageGroupId": group_id(group),
        "MessageDeduplicationId": deduplication,
    }
    if attributes:
        kwargs["MessageAttributes"] = {
            k: {"DataType": "String", "StringValue": str(v)[:1024]} for k, v in attributes.items() if v is not None
        }
    return sqs_client().send_message(**kwargs)["MessageId"]


def send_reject(body: str | bytes, reason: str, detail: str | None, origin: dict | None) -> None:
    """Keep rejected data: it goes to the rejects queue (the ingest DLQ) with its reason and
    origin as message attributes, for inspection or redrive. Every producer of rejects uses this."""
    url = get_settings().rejects_queue_url
    if not url:
        raise RuntimeError("REJECTS_QUEUE_URL is not configured; refusing to drop a rejected record")
    text = body.decode() if isinstance(body, bytes) else body
    send_to_url(
        url,
        text,
        group=f"rejected-{reason}",
        deduplication=dedup_id("reject", text),
        attributes={
            "reject_reason": reason,
            "reject_detail": detail,
            "origin_file": (origin or {}).get("file"),
            "origin_line": (origin or {}).get("line"),
        },
    )
