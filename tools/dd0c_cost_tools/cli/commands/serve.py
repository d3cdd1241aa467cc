"""``serve``: the HTTP API on localhost with the pipeline behind it."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the HTTP API (ingest, dashboard, Slack interactions) on localhost")
    p.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="do not print a line per request")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes accepting on the one port, each with its own resolver, database connections and "
        "queues (default %(default)s)",
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from dd0c_cost_tools.local.serve import serve

    if args.workers < 1:
        from dd0c_cost_tools.cli.errors import CliError

        raise CliError("--workers must be 1 or more", "give a number of processes, e.g. --workers 2")
    return serve(port=args.port, quiet=args.quiet, workers=args.workers)
