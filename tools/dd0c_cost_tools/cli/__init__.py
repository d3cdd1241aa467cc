"""``dd0c-cost``: the operator and developer command line.

Errors are one line with the fix (exit status 2); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys

from dd0c_cost_tools.cli import remote
from dd0c_cost_tools.cli.commands import (
    accounts,
    anomalies,
    bench,
    contracts,
    db,
    demo,
    digest,
    governance,
    history,
    keys,
    notify,
    pricing,
    remediation,
    replay,
    serve,
    slack,
    tenants,
    tickets,
    usage,
    zombies,
)
from dd0c_cost_tools.cli.errors import explain

# Order of the sub-commands in ``--help``.
COMMAND_GROUPS = (
    demo,
    db,
    replay,
    history,
    anomalies,
    notify,
    zombies,
    serve,
    tenants,
    keys,
    governance,
    accounts,
    slack,
    usage,
    tickets,
    remediation,
    digest,
    contracts,
    pricing,
    bench,
)


class Parser(argparse.ArgumentParser):
    """Usage errors in one line, pointing at the help (sub-command parsers inherit this)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="dd0c-cost", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="on an error, show the traceback instead of one line")
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="run against a deployed stack's database through its admin function (tenants list|create, keys "
        "create, accounts connect|list, db status); AWS credentials and region from the environment",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv  # accepted anywhere on the line, before or after the command
    argv = [a for a in argv if a != "--debug"]
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print("dd0c-cost: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        known = explain(exc)
        if known is not None:
            print(f"dd0c-cost: {known}", file=sys.stderr)
            return known.status
        print(
            f"dd0c-cost: unexpected error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


def _run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "action", None) in getattr(args, "needs_name", ()) and not args.name:
        parser.error(f"{args.command} {args.action} needs a NAME")
    args.remote_action = remote.route(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
