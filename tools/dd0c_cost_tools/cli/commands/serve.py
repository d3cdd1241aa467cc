"""``serve``: the HTTP API on localhost with the pipeline behind it."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the HTTP API (ingest, dashboard, Slack interactions) on localhost")
    p.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="do not print a line per request")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from dd0c_cost_tools.local.serve import serve

    return serve(port=args.port, quiet=args.quiet)
