"""``pricing refresh``: rebuild the price snapshot from the AWS Price List API (its own options)."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "pricing", help="pricing refresh: rebuild the price snapshot from the AWS Price List API", add_help=False
    )
    p.add_argument("action", choices=["refresh"])
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_pricing)


def cmd_pricing(args) -> int:
    from dd0c_cost_tools.pricing.refresh import main as refresh_main

    return refresh_main(args.rest)
