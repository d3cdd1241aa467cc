"""``remediation``: who may remediate from Slack.

    dd0c-cost remediation allow --tenant acme --users U0ALICE U0BOB --groups S0SRE
    dd0c-cost remediation disable --tenant acme
    dd0c-cost remediation show --tenant acme

Remediation also needs the customer template's opt-in role (EnableRemediation=true) and the
tenant's governance mode ``enforce``; panic stops it whatever this says."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("remediation", help="who may remediate from Slack: show, allow, disable")
    p.add_argument(
        "action",
        choices=["show", "allow", "disable"],
        help="show the remediation settings, allow actions, or disable them",
    )
    p.add_argument("--tenant", required=True, help="the tenant whose remediation this is")
    p.add_argument("--users", nargs="*", default=[], help="allow: Slack user ids (U…)")
    p.add_argument("--groups", nargs="*", default=[], help="allow: Slack user group ids (S…)")
    p.set_defaults(func=cmd_remediation)


def cmd_remediation(args) -> int:
    from dd0c_cost import governance
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.onboarding import REMEDIATOR_ROLE_NAME
    from dd0c_cost.remediation import store
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    op = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(op, args.tenant)
    finally:
        op.close()
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {args.tenant!r}")
    if args.action == "allow" and not (args.users or args.groups):
        raise SystemExit("dd0c-cost: remediation allow needs --users and/or --groups")
    conn = open_connection(url)
    try:
        with tenant_transaction(conn, tenant_id):
            if args.action == "allow":
                store.set_settings(conn, tenant_id, allowed_users=args.users, allowed_groups=args.groups, by="cli")
            elif args.action == "disable":
                store.disable(conn)
            if args.action != "show":
                governance.audit(
                    conn,
                    tenant_id,
                    "remediation.access",
                    actor="operator",
                    source="cli",
                    reason=args.action,
                    detail={"users": args.users, "groups": args.groups},
                )
            settings = store.settings(conn)
    finally:
        conn.close()
    if settings is None:
        print("remediation  disabled")
    else:
        print("remediation  enabled")
        print(f"users        {' '.join(settings.allowed_users) or '-'}")
        print(f"groups       {' '.join(settings.allowed_groups) or '-'}")
    print(f"role         {REMEDIATOR_ROLE_NAME} (customer template: EnableRemediation=true)")
    return 0
