"""``tenants``: operator actions on tenants."""

from __future__ import annotations

from dd0c_cost_tools.cli.output import format_table


def register(sub) -> None:
    from dd0c_cost.scoring.config import TENANT_SETTING_COLUMNS

    p = sub.add_parser("tenants", help="list, create or configure tenants (scoring thresholds per tenant)")
    p.add_argument("action", choices=["list", "create", "configure"])
    p.add_argument("name", nargs="?")
    for setting in TENANT_SETTING_COLUMNS:
        p.add_argument(f"--{setting.replace('_', '-')}", dest=setting, metavar="VALUE|default")
    p.set_defaults(func=cmd_tenants, needs_name=("create", "configure"))


def cmd_tenants(args) -> int:
    from dd0c_cost.db import operator
    from dd0c_cost_tools.local.database import database_url_for_cli

    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        if args.action == "create":
            print(operator.ensure_tenant(conn, args.name))
        elif args.action == "configure":
            _configure_tenant(conn, args)
        else:
            rows = operator.list_tenants(conn)
            print(
                format_table(
                    [[r["name"], str(r["id"]), str(r["accounts"])] for r in rows], ["tenant", "id", "accounts"]
                )
            )
    finally:
        conn.close()
    return 0


def _configure_tenant(conn, args) -> None:
    """Per-tenant scoring overrides: set with --NAME VALUE, reset to the default with --NAME default."""
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.scoring.config import DEFAULT_CONFIG, TENANT_SETTING_COLUMNS
    from dd0c_cost.scoring.store import set_tenant_settings

    tenant_id = operator.find_tenant(conn, args.name)
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {args.name!r}")
    values = {}
    for name in TENANT_SETTING_COLUMNS:
        raw = getattr(args, name)
        if raw is not None:
            values[name] = None if raw == "default" else float(raw)
    try:
        with tenant_transaction(conn, tenant_id):
            overrides = set_tenant_settings(conn, tenant_id, by="operator", **values)
    except ValueError as exc:
        raise SystemExit(f"dd0c-cost: {exc}") from None
    for name in TENANT_SETTING_COLUMNS:
        value = overrides.get(name, getattr(DEFAULT_CONFIG, name, None))
        print(f"{name:<26}{value}{'' if name in overrides else '  (default)'}")
