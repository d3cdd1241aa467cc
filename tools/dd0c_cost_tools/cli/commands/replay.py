"""``replay``: CloudTrail files through the pipeline, in event-time order: the bulk path by
default (``dd0c_cost.backfill``), or ``--via-queues`` through the real handlers on moto queues."""

from __future__ import annotations

import sys
from pathlib import Path

from dd0c_cost_tools.cli.inputs import expand
from dd0c_cost_tools.cli.output import Progress, print_summary

# replay/demo exit code when a dependency failed (database, Slack, queues): the work is unfinished.
FAULT_EXIT = 3


def register(sub) -> None:
    p = sub.add_parser(
        "replay",
        help="replay CloudTrail history (JSON Lines, EventBridge envelopes, S3 log files) through the pipeline",
        description="Replay CloudTrail history in event-time order, through the bulk path (or the real handlers on "
        "emulated queues with --via-queues). The tenant is "
        "created if it does not exist (said on stderr); the accounts in the input are connected to it unless "
        "another tenant owns them.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files, folders (read recursively, e.g. an AWSLogs/<account>/CloudTrail/<region>/... copy) or glob "
        "patterns ('logs/**/*.json.gz'); .jsonl/.json/.ndjson, plain or .gz",
    )
    p.add_argument("--tenant", required=True, help="the tenant the history belongs to (created if new)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument(
        "--via-queues",
        action="store_true",
        help="through the real Lambda handlers on emulated SQS queues (slow: proves the wiring) "
        "instead of the bulk path (same cost events, anomalies and notifications)",
    )
    p.set_defaults(func=cmd_replay)


def run_replay(paths: list[Path], tenant: str, *, show_progress: bool, via_queues: bool = True):
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    rejects = get_settings().data_dir / "rejects" / f"{tenant}.jsonl"
    with Progress("replay", enabled=show_progress) as progress:
        if via_queues:
            from dd0c_cost_tools.local.replay import replay

            summary = replay(paths, tenant, url, rejects_path=rejects, progress=progress)
        else:
            summary = run_bulk_replay(paths, tenant, url, rejects, progress=progress)
    _explain(summary)
    return summary


def run_bulk_replay(paths: list[Path], tenant: str, url: str, rejects: Path, *, progress: Progress):
    from dd0c_cost_tools.local.backfill import bulk_replay
    from dd0c_cost_tools.local.replay import ReplaySummary, append_rejects, new_run_id

    entries: list[dict] = []
    bulk = bulk_replay(paths, tenant, url, on_reject=entries.append, progress=progress)
    summary = ReplaySummary(tenant=tenant, rejects_file=str(rejects), run_id=new_run_id())
    append_rejects(rejects, summary.run_id, entries)
    summary.read = bulk.read
    summary.cost_events = bulk.cost_events
    summary.not_cost_relevant = bulk.not_cost_relevant
    summary.rejected.update(bulk.rejected)
    # faults by name (exit status 3): a rerun stores, scores and posts what they left undone
    summary.failed.update(bulk.failed)
    summary.scoring_failed.update(bulk.scoring_failed)
    summary.alerts_failed.update(bulk.alerts_failed)
    summary.alerts_resent = bulk.alerts_resent
    summary.anomalies = bulk.anomalies
    summary.tenant_created = bulk.tenant_created
    summary.foreign_accounts = bulk.foreign_accounts
    return summary


def _explain(summary) -> None:
    """What the operator should know that the counts do not say, on stderr."""
    if summary.tenant_created:
        print(f"created tenant {summary.tenant!r} (replay creates the tenant it is given)", file=sys.stderr)
    by_owner: dict[str, list[str]] = {}
    for account, owner in sorted(summary.foreign_accounts.items()):
        by_owner.setdefault(owner, []).append(account)
    for owner, accounts in by_owner.items():
        print(
            f"note: account{'s' if len(accounts) > 1 else ''} {', '.join(accounts)} belong{'' if len(accounts) > 1 else 's'} "
            f"to tenant {owner!r}, so {'their' if len(accounts) > 1 else 'its'} records were rejected as "
            f"account_not_connected; replay them as that tenant: dd0c-cost replay ... --tenant {owner}",
            file=sys.stderr,
        )


def cmd_replay(args) -> int:
    summary = run_replay(expand(args.paths), args.tenant, show_progress=not args.json, via_queues=args.via_queues)
    print_summary(summary, args.json)
    return FAULT_EXIT if summary.faults else 0
