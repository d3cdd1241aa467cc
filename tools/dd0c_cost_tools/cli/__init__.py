"""``dd0c-cost``: the operator and developer command line."""

from __future__ import annotations

import argparse
import sys

from dd0c_cost_tools.cli.commands import (
    accounts,
    anomalies,
    bench,
    contracts,
    db,
    demo,
    governance,
    history,
    keys,
    pricing,
    remediation,
    replay,
    serve,
    slack,
    tenants,
    tickets,
    usage,
)

# Order of the sub-commands in ``--help``.
COMMAND_GROUPS = (
    demo,
    db,
    replay,
    history,
    anomalies,
    serve,
    tenants,
    keys,
    governance,
    accounts,
    slack,
    usage,
    tickets,
    remediation,
    contracts,
    pricing,
    bench,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dd0c-cost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except Exception as exc:  # the operator gets one clear line, not a traceback
        import psycopg

        from dd0c_cost.db.migrate import MigrationDrift
        from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgresError

        if isinstance(exc, (MigrationDrift, EmbeddedPostgresError, psycopg.OperationalError, FileNotFoundError)):
            print(f"dd0c-cost: {exc}", file=sys.stderr)
            return 2
        raise


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "action", None) in getattr(args, "needs_name", ()) and not args.name:
        parser.error(f"{args.command} {args.action} needs a NAME")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
