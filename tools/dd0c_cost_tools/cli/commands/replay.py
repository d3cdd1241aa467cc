"""``replay``: CloudTrail files through the pipeline, in event-time order: the bulk path by
default (``dd0c_cost.backfill``), or ``--via-queues`` through the real handlers on moto queues."""

from __future__ import annotations

from pathlib import Path

from dd0c_cost_tools.cli.output import print_summary, progress_printer


def register(sub) -> None:
    p = sub.add_parser(
        "replay", help="replay CloudTrail files (JSON Lines, envelopes, S3 log files) through the pipeline"
    )
    p.add_argument("paths", nargs="+")
    p.add_argument("--tenant", required=True)
    p.add_argument("--json", action="store_true")
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
    if via_queues:
        from dd0c_cost_tools.local.replay import replay

        return replay(paths, tenant, url, rejects_path=rejects, progress=progress_printer(show_progress))
    return run_bulk_replay(paths, tenant, url, rejects, show_progress=show_progress)


def run_bulk_replay(paths: list[Path], tenant: str, url: str, rejects: Path, *, show_progress: bool):
    import orjson

    from dd0c_cost_tools.local.backfill import bulk_replay
    from dd0c_cost_tools.local.replay import ReplaySummary

    entries: list[bytes] = []
    bulk = bulk_replay(
        paths,
        tenant,
        url,
        on_reject=lambda entry: entries.append(orjson.dumps(entry, default=str)),
        progress=progress_printer(show_progress),
    )
    rejects.parent.mkdir(parents=True, exist_ok=True)
    with rejects.open("wb") as out:
        for line in entries:
            out.write(line + b"\n")
    summary = ReplaySummary(tenant=tenant, rejects_file=str(rejects))
    summary.read = bulk.read
    summary.cost_events = bulk.cost_events
    summary.not_cost_relevant = bulk.not_cost_relevant
    summary.rejected.update(bulk.rejected)
    if bulk.failed:
        summary.rejected.update({f"scoring_failed_{k}": v for k, v in bulk.failed.items()})
    summary.anomalies = bulk.anomalies
    return summary


def cmd_replay(args) -> int:
    summary = run_replay(
        [Path(p) for p in args.paths], args.tenant, show_progress=not args.json, via_queues=args.via_queues
    )
    print_summary(summary, args.json)
    return 0
