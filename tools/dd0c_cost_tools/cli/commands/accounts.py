"""``accounts``: connect a customer AWS account to a tenant."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("accounts", help="connect an AWS account to a tenant and print its onboarding links")
    p.add_argument("action", choices=["connect"])
    p.add_argument("account_id")
    p.add_argument("--tenant", required=True)
    p.add_argument("--regions", nargs="+", required=True, help="regions whose CloudTrail events to forward")
    p.add_argument("--central-bus-arn")
    p.add_argument("--dd0c-account-id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts)


def cmd_accounts(args) -> int:
    """Connect an account: record it for the tenant and print what the customer launches."""
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
