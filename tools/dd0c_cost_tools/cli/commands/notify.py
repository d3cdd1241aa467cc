"""``notify retry``: post every alert the database says is unsent (Slack was down, rate limited,
or the process died between scoring and posting). Also run at the start of every replay/demo."""

from __future__ import annotations

import sys

from dd0c_cost_tools.cli.commands.replay import FAULT_EXIT


def register(sub) -> None:
    p = sub.add_parser("notify", help="notify retry: post every anomaly revision not yet posted (Slack was down)")
    p.add_argument(
        "action",
        choices=["retry"],
        help="retry: post now what the database says is unsent (Retry-After honoured, backoff otherwise)",
    )
    p.set_defaults(func=cmd_notify)


def cmd_notify(args) -> int:
    from dd0c_cost_tools.local.database import database_url_for_cli
    from dd0c_cost_tools.local.replay import retry_unsent_alerts

    result = retry_unsent_alerts(database_url_for_cli())
    print(f"unsent alerts        {result.pending:,}")
    print(f"posted               {result.posted:,}")
    for name, count in sorted(result.failed.items()):
        print(f"  still unsent ({name}) {count:,}")
    if result.failed:
        print("Slack (or the database) still fails: run `dd0c-cost notify retry` again later", file=sys.stderr)
        return FAULT_EXIT
    return 0
