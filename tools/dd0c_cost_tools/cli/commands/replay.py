"""``replay``: CloudTrail files through the real handlers, in event-time order."""

from __future__ import annotations

from pathlib import Path

from dd0c_cost_tools.cli.output import print_summary, progress_printer

# replay/demo exit code when a dependency failed (database, Slack, queues): the work is unfinished.
FAULT_EXIT = 3


def register(sub) -> None:
    p = sub.add_parser(
        "replay", help="replay CloudTrail files (JSON Lines, envelopes, S3 log files) through the pipeline"
    )
    p.add_argument("paths", nargs="+")
    p.add_argument("--tenant", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_replay)


def run_replay(paths: list[Path], tenant: str, *, show_progress: bool):
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.database import database_url_for_cli
    from dd0c_cost_tools.local.replay import replay

    url = database_url_for_cli()
    rejects = get_settings().data_dir / "rejects" / f"{tenant}.jsonl"
    return replay(paths, tenant, url, rejects_path=rejects, progress=progress_printer(show_progress))


def cmd_replay(args) -> int:
    summary = run_replay([Path(p) for p in args.paths], args.tenant, show_progress=not args.json)
    print_summary(summary, args.json)
    return FAULT_EXIT if summary.faults else 0
