"""``replay``: CloudTrail files through the real handlers, in event-time order."""

from __future__ import annotations

import sys

from dd0c_cost_tools.cli.inputs import expand
from dd0c_cost_tools.cli.output import Progress, print_summary

# replay/demo exit code when a dependency failed (database, Slack, queues): the work is unfinished.
FAULT_EXIT = 3


def register(sub) -> None:
    p = sub.add_parser(
        "replay",
        help="replay CloudTrail history (JSON Lines, EventBridge envelopes, S3 log files) through the pipeline",
        description="Replay CloudTrail history through the real handlers, in event-time order. The tenant is "
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
    p.set_defaults(func=cmd_replay)


def run_replay(paths, tenant: str, *, show_progress: bool):
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.database import database_url_for_cli
    from dd0c_cost_tools.local.replay import replay

    url = database_url_for_cli()
    rejects = get_settings().data_dir / "rejects" / f"{tenant}.jsonl"
    with Progress("replay", enabled=show_progress) as progress:
        summary = replay(paths, tenant, url, rejects_path=rejects, progress=progress)
    _explain(summary)
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
    summary = run_replay(expand(args.paths), args.tenant, show_progress=not args.json)
    print_summary(summary, args.json)
    return FAULT_EXIT if summary.faults else 0
