"""``history import``: queue a tenant's CloudTrail history (log files already in the stack's log
bucket) for the history_import function, in chunks of keys: the bulk path, not one SQS message
per record. Run with AWS credentials allowed to list the bucket and send to the history queue."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("history", help="import a tenant's CloudTrail history from the log bucket (AWS)")
    hs = p.add_subparsers(dest="history_command", required=True)
    imp = hs.add_parser("import", help="queue the log files under a prefix, in chunks, for the history_import function")
    imp.add_argument("--tenant-id", required=True, help="the tenant's id (its accounts must be connected)")
    imp.add_argument("--bucket", required=True, help="the stack's CloudTrail log bucket")
    imp.add_argument("--prefix", action="append", default=None, help="key prefix, e.g. AWSLogs/<account>/ (repeatable)")
    imp.add_argument("--chunk-keys", type=int, default=200, help="log files per chunk (default 200)")
    imp.add_argument("--queue-url", default=None, help="the history queue (default: QUEUE_URL_HISTORY)")
    imp.add_argument("--dry-run", action="store_true", help="print the chunks, send nothing")
    imp.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    import boto3

    from dd0c_cost import queues
    from dd0c_cost.backfill.s3_history import chunk_message, plan_chunks
    from dd0c_cost.settings import get_settings
    from dd0c_cost.topology import HISTORY

    s3 = boto3.client("s3")
    keys: list[str] = []
    for prefix in args.prefix or ["AWSLogs/"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
    chunks = plan_chunks(args.tenant_id, args.bucket, keys, chunk_keys=args.chunk_keys)
    url = args.queue_url or get_settings().queue_url(HISTORY)
    for chunk in chunks:
        body, group, dedup = chunk_message(chunk)
        if args.dry_run:
            print(f"{len(chunk['keys'])} keys: {chunk['keys'][0]} .. {chunk['keys'][-1]}")
            continue
        queues.send_to_url(url, body, group=group, deduplication=dedup)
    print(f"{len(keys)} log files in {len(chunks)} chunks{' (dry run)' if args.dry_run else ' queued'}")
    return 0
