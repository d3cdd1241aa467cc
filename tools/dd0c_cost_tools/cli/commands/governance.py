"""``governance show|mode|panic|lift``: a tenant's mode (shadow | audit | enforce, per rule too)
and panic, or the global panic (``--global``); every change goes to the audit log."""

from __future__ import annotations

import getpass


def register(sub) -> None:
    p = sub.add_parser("governance", help="show or change a tenant's governance mode and panic (or the global panic)")
    p.add_argument(
        "action", choices=["show", "mode", "panic", "lift"], help="show the state, set a mode, press or lift panic"
    )
    p.add_argument("mode", nargs="?", choices=["shadow", "audit", "enforce", "inherit"], help="mode: the new mode")
    p.add_argument("--tenant", help="the tenant to show or change (or --global for panic/lift)")
    p.add_argument("--rule", help="mode: set one rule's mode ('inherit' returns it to the tenant's)")
    p.add_argument("--global", dest="everyone", action="store_true", help="panic/lift: every tenant (operator)")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p.set_defaults(func=cmd_governance)


def cmd_governance(args) -> int:
    from dd0c_cost import governance
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost_tools.local.database import database_url_for_cli

    actor = f"operator:{getpass.getuser()}"
    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        if args.everyone:
            if args.action not in ("panic", "lift"):
                raise SystemExit("dd0c-cost: --global goes with panic or lift")
            entry = governance.set_global_panic(
                conn, args.action == "panic", actor=actor, reason=args.reason or "operator"
            )
            print(f"global panic {'on' if args.action == 'panic' else 'off'}" + ("" if entry else " (already)"))
            return 0
        if not args.tenant:
            raise SystemExit("dd0c-cost: --tenant NAME (or --global)")
        tenant_id = operator.find_tenant(conn, args.tenant)
        if tenant_id is None:
            raise SystemExit(f"dd0c-cost: no tenant named {args.tenant!r}")
        with tenant_transaction(conn, tenant_id):
            if args.action == "mode":
                if not args.mode:
                    raise SystemExit("dd0c-cost: governance mode shadow|audit|enforce (inherit with --rule)")
                mode = None if args.mode == "inherit" else args.mode
                if mode is None and not args.rule:
                    raise SystemExit("dd0c-cost: inherit is for a --rule")
                governance.set_mode(
                    conn, tenant_id, mode, actor=actor, source="cli", reason=args.reason or "operator", rule=args.rule
                )
            elif args.action in ("panic", "lift"):
                governance.set_panic(
                    conn, tenant_id, args.action == "panic", actor=actor, source="cli", reason=args.reason or "operator"
                )
            at = governance.decision_time(conn)
            state = governance.state_at(conn, tenant_id, at)
            from dd0c_cost.governance.store import rule_modes

            rules = rule_modes(conn, tenant_id, at)
        print(
            f"tenant {args.tenant}: mode {state.tenant_mode.value}"
            f"{' (default)' if state.tenant_mode_since is None else ''}, panic {'ON' if state.tenant_panic else 'off'}"
            f"{', GLOBAL PANIC' if state.global_panic else ''}"
        )
        for rule, mode in sorted(rules.items()):
            print(f"  rule {rule}: {mode.value}")
    finally:
        conn.close()
    return 0
