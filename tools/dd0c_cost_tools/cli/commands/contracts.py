"""``contracts``: regenerate or check the generated JSON Schemas and OpenAPI document."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("contracts", help="regenerate events/schemas/*.json and docs/openapi.json from the models")
    p.add_argument("--check", action="store_true", help="fail if the checked-in files differ from the models")
    p.set_defaults(func=cmd_contracts)


def cmd_contracts(args) -> int:
    from dd0c_cost_tools import contracts

    if args.check:
        stale = contracts.stale()
        for path in stale:
            print(f"out of date: {path} (run: dd0c-cost contracts)", file=sys.stderr)
        return 1 if stale else 0
    for path in contracts.write():
        print(f"wrote {path}")
    return 0
