"""``tenants list | create NAME | configure NAME``: operator actions on tenants (per-tenant scoring
thresholds included)."""

from __future__ import annotations

import argparse
import json

from dd0c_cost_tools.cli.errors import CliError
from dd0c_cost_tools.cli.output import print_table
from dd0c_cost_tools.cli.tenancy import operator_connection, require_tenant

SETTING_HELP = {
    "alert_floor_usd_per_hour": "smallest $/h increase that can alert",
    "score_threshold": "score in (0, 1] an anomaly needs",
    "cold_start_days": "days of history before a series leaves cold start",
    "cold_start_usd_per_hour": "$/h that alerts during cold start",
    "cold_start_resources": "resources launched at once that alert during cold start",
    "burst_gap_s": "seconds of quiet that end a burst",
    "unpriced_alert_score": "shape score an unpriced increase needs to alert",
}


def _setting_value(text: str) -> float | None:
    if text == "default":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (or 'default' to reset)") from None


def register(sub) -> None:
    from dd0c_cost.scoring.config import TENANT_SETTING_COLUMNS

    p = sub.add_parser("tenants", help="list, create or configure tenants (scoring thresholds per tenant)")
    actions = p.add_subparsers(dest="tenants_action", metavar="ACTION", required=True)
    s = actions.add_parser("list", help="every tenant with its id and number of accounts")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=cmd_list)
    s = actions.add_parser("create", help="create a tenant (no-op if it exists); prints its id")
    s.add_argument("name", metavar="NAME", help="the tenant's name")
    s.set_defaults(func=cmd_create)
    s = actions.add_parser(
        "configure",
        help="set or reset the tenant's scoring thresholds; prints them all",
        description="Set a threshold with --NAME VALUE, reset it to the default with --NAME default.",
    )
    s.add_argument("name", metavar="NAME", help="the tenant's name")
    for setting in TENANT_SETTING_COLUMNS:
        s.add_argument(
            f"--{setting.replace('_', '-')}",
            dest=setting,
            metavar="VALUE|default",
            type=_setting_value,
            default=argparse.SUPPRESS,
            help=SETTING_HELP.get(setting, setting.replace("_", " ")),
        )
    s.set_defaults(func=cmd_configure)


def cmd_list(args) -> int:
    if args.remote_action:
        from dd0c_cost_tools.cli import remote

        rows = remote.call(args.stack, args.remote_action, {})
    else:
        from dd0c_cost.db import operator

        with operator_connection() as conn:
            rows = operator.list_tenants(conn)
    if args.json:
        print(json.dumps([{"name": r["name"], "id": str(r["id"]), "accounts": r["accounts"]} for r in rows]))
    elif rows:
        print_table(["tenant", "id", "accounts"], [[r["name"], str(r["id"]), str(r["accounts"])] for r in rows])
    else:
        print("no tenants (create one: dd0c-cost tenants create NAME)")
    return 0


def cmd_create(args) -> int:
    if args.remote_action:
        from dd0c_cost_tools.cli import remote

        print(remote.call(args.stack, args.remote_action, {"name": args.name})["id"])
        return 0
    from dd0c_cost.db import operator

    with operator_connection() as conn:
        print(operator.ensure_tenant(conn, args.name))
    return 0


def cmd_configure(args) -> int:
    """Per-tenant scoring overrides: set with --NAME VALUE, reset to the default with --NAME default."""
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.scoring.config import DEFAULT_CONFIG, TENANT_SETTING_COLUMNS
    from dd0c_cost.scoring.store import set_tenant_settings

    values = {name: getattr(args, name) for name in TENANT_SETTING_COLUMNS if hasattr(args, name)}
    with operator_connection() as conn:
        tenant_id = require_tenant(conn, args.name)
        try:
            with tenant_transaction(conn, tenant_id):
                overrides = set_tenant_settings(conn, tenant_id, by="operator", **values)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    for name in TENANT_SETTING_COLUMNS:
        value = overrides.get(name, getattr(DEFAULT_CONFIG, name, None))
        print(f"{name:<26}{value}{'' if name in overrides else '  (default)'}")
    return 0
