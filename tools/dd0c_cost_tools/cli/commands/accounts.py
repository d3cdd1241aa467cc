"""``accounts``: connect a customer AWS account to a tenant, or name it (the name shows in alerts)."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("accounts", help="connect an AWS account to a tenant (onboarding links), or name it")
    p.add_argument("action", choices=["connect", "name"])
    p.add_argument("account_id")
    p.add_argument("--tenant", required=True)
    p.add_argument("--regions", nargs="+", help="connect: regions whose CloudTrail events to forward")
    p.add_argument("--display-name", help="name: the account's name in alerts ('none' removes it)")
    p.add_argument("--central-bus-arn")
    p.add_argument("--dd0c-account-id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts)


def cmd_accounts(args) -> int:
    """Connect an account: record it for the tenant and print what the customer launches."""
    if args.action == "name":
        return _name_account(args)
    if not args.regions:
        raise SystemExit("dd0c-cost: accounts connect needs --regions")
    from dd0c_cost.db import operator
    from dd0c_cost.onboarding import OnboardingError, connect_account
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.database import database_url_for_cli

    settings = get_settings()
    bus = args.central_bus_arn or settings.central_bus_arn
    dd0c_account = args.dd0c_account_id or settings.dd0c_account_id
    if not bus or not dd0c_account:
        raise SystemExit(
            "dd0c-cost: accounts connect needs the central bus ARN and the dd0c account id "
            "(--central-bus-arn/--dd0c-account-id, or DD0C_CENTRAL_BUS_ARN/DD0C_ACCOUNT_ID; see the CDK stack outputs)"
        )
    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        result = connect_account(
            conn,
            args.tenant,
            args.account_id,
            args.regions,
            bus,
            dd0c_account,
            template_url=settings.onboarding_template_url,
        )
    except OnboardingError as exc:
        raise SystemExit(f"dd0c-cost: {exc}") from None
    finally:
        conn.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"account      {result['account_id']} -> tenant {result['tenant']}")
    print(f"external id  {result['external_id']}")
    print(f"regions      {', '.join(result['regions'])} (reader role created in {result['home_region']})")
    for stack in result["stacks"]:
        print(f"  {stack['region']}: {stack['quick_create_url']}")
    for step in result.get("next_steps", []):
        print(f"- {step}")
    return 0


def _name_account(args) -> int:
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.notify.store import set_account_name
    from dd0c_cost_tools.local.database import database_url_for_cli

    if not args.display_name or len(args.display_name) > 100:
        raise SystemExit("dd0c-cost: accounts name needs --display-name NAME (1-100 characters, or 'none')")
    url = database_url_for_cli()
    op = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(op, args.tenant)
    finally:
        op.close()
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {args.tenant!r}")
    conn = open_connection(url)
    try:
        with tenant_transaction(conn, tenant_id):
            name = None if args.display_name == "none" else args.display_name
            if not set_account_name(conn, args.account_id, name):
                raise SystemExit(f"dd0c-cost: account {args.account_id} is not connected to tenant {args.tenant}")
    finally:
        conn.close()
    print(f"{args.account_id}  {name or '(no name)'}")
    return 0
