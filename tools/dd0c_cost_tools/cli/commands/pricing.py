"""``pricing refresh``: rebuild the price snapshot from the AWS Price List API (its own options:
``dd0c-cost pricing refresh --help``)."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("pricing", help="pricing refresh: rebuild the price snapshot from the AWS Price List API")
    actions = p.add_subparsers(dest="pricing_action", metavar="ACTION", required=True)
    s = actions.add_parser(
        "refresh",
        help="query the Price List API (network, AWS credentials) and write the snapshot",
        add_help=False,
        prefix_chars="\0",
    )
    s.add_argument("rest", nargs=argparse.REMAINDER, help="options of the refresh (dd0c-cost pricing refresh --help)")
    s.set_defaults(func=cmd_pricing)


def cmd_pricing(args) -> int:
    from dd0c_cost_tools.pricing.refresh import main as refresh_main

    return refresh_main(args.rest)
