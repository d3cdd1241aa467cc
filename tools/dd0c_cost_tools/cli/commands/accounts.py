"""``accounts connect ACCOUNT | list | name ACCOUNT``: connect a customer AWS account to a tenant
(and print what the customer launches), list the connected and requested accounts, or name one
(the name shows in alerts)."""

from __future__ import annotations

import json

from dd0c_cost_tools.cli.errors import CliError
from dd0c_cost_tools.cli.output import print_table
from dd0c_cost_tools.cli.tenancy import operator_connection, require_tenant, tenant_connection


def register(sub) -> None:
    p = sub.add_parser("accounts", help="connect an AWS account to a tenant (onboarding links), or list accounts")
    actions = p.add_subparsers(dest="accounts_action", metavar="ACTION", required=True)
    c = actions.add_parser(
        "connect",
        help="connect (or approve a tenant's request for) an account and print its onboarding links",
        description="The tenant must exist (dd0c-cost tenants create NAME). The central bus ARN, the dd0c "
        "account id and the published template URL are the deployed stack's outputs (docs/deploy.md).",
    )
    c.add_argument("account_id", metavar="ACCOUNT", help="the customer's 12-digit AWS account id")
    c.add_argument("--tenant", required=True, help="the tenant the account belongs to (must exist)")
    c.add_argument("--regions", nargs="+", required=True, help="regions whose CloudTrail events to forward")
    c.add_argument("--central-bus-arn", help="the stack output EventBusArn (default: $DD0C_CENTRAL_BUS_ARN)")
    c.add_argument("--dd0c-account-id", help="the AWS account dd0c runs in (default: $DD0C_ACCOUNT_ID)")
    c.add_argument(
        "--template-url",
        help="the published onboarding template's S3 HTTPS URL (default: $DD0C_ONBOARDING_TEMPLATE_URL); "
        "without it no launch links are printed",
    )
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.set_defaults(func=cmd_connect)
    s = actions.add_parser("list", help="connected and requested accounts with their tenant and last event")
    s.add_argument("--tenant", help="only this tenant's accounts")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=cmd_list)
    n = actions.add_parser("name", help="the account's name in alerts")
    n.add_argument("account_id", metavar="ACCOUNT", help="the connected account's 12-digit id")
    n.add_argument("--tenant", required=True, help="the tenant the account belongs to")
    n.add_argument("--display-name", required=True, help="the name in alerts, 1-100 characters ('none' removes it)")
    n.set_defaults(func=cmd_name)


def cmd_connect(args) -> int:
    """Connect an account: record it for the tenant and print what the customer launches."""
    from dd0c_cost.onboarding import OnboardingError, connect_account
    from dd0c_cost.settings import get_settings

    settings = get_settings()
    if args.remote_action:  # the stack knows its bus and account
        from dd0c_cost_tools.cli import remote

        result = remote.call(
            args.stack,
            args.remote_action,
            {
                "tenant": args.tenant,
                "account_id": args.account_id,
                "regions": args.regions,
                "template_url": args.template_url or settings.onboarding_template_url,
            },
        )
        return _print_connection(result, args.json, bool(args.template_url or settings.onboarding_template_url))
    bus = args.central_bus_arn or settings.central_bus_arn
    dd0c_account = args.dd0c_account_id or settings.dd0c_account_id
    if not bus or not dd0c_account:
        raise CliError(
            "accounts connect needs the central bus ARN and the dd0c account id",
            "pass --central-bus-arn and --dd0c-account-id (the stack outputs EventBusArn and the account it is "
            "deployed in), or set DD0C_CENTRAL_BUS_ARN and DD0C_ACCOUNT_ID",
        )
    template_url = args.template_url or settings.onboarding_template_url
    with operator_connection() as conn:
        require_tenant(conn, args.tenant)
        try:
            result = connect_account(
                conn, args.tenant, args.account_id, args.regions, bus, dd0c_account, template_url=template_url
            )
        except OnboardingError as exc:
            raise CliError(str(exc)) from None
    return _print_connection(result, args.json, bool(template_url))


def _print_connection(result: dict, as_json: bool, has_template: bool) -> int:
    if as_json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"account      {result['account_id']} -> tenant {result['tenant']}")
    print(f"external id  {result['external_id']}")
    print(f"regions      {', '.join(result['regions'])} (reader role created in {result['home_region']})")
    if has_template:
        for stack in result["stacks"]:
            print(f"  {stack['region']}: {stack['quick_create_url']}")
    else:
        print("launch links: publish the onboarding template first and pass --template-url (docs/deploy.md)")
    for step in result.get("next_steps", []):
        print(f"- {step}")
    return 0


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def cmd_list(args) -> int:
    if args.remote_action:
        from datetime import datetime

        from dd0c_cost_tools.cli import remote

        rows = remote.call(args.stack, args.remote_action, {"tenant": args.tenant})
        for row in rows:  # timestamps travel as ISO strings
            for key in ("last_event_at", "approved_at"):
                row[key] = datetime.fromisoformat(row[key]) if row.get(key) else None
    else:
        from dd0c_cost.db import operator

        with operator_connection() as conn:
            if args.tenant:
                require_tenant(conn, args.tenant)
            rows = operator.list_accounts(conn, args.tenant)
    if args.json:
        print(json.dumps([{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]))
        return 0
    if not rows:
        print("no accounts" + (f" for tenant {args.tenant}" if args.tenant else ""))
        return 0
    print_table(
        ["account", "tenant", "state", "regions", "last event (UTC)"],
        [
            [
                r["account_id"],
                r["tenant"],
                "connected" if r["approved_at"] else f"requested ({r['requested_via']})",
                ", ".join(r["regions"]) or "—",
                _when(r["last_event_at"]),
            ]
            for r in rows
        ],
    )
    return 0


def cmd_name(args) -> int:
    from dd0c_cost.notify.store import set_account_name

    if not args.display_name or len(args.display_name) > 100:
        raise CliError("the display name must be 1-100 characters", "or 'none' to remove it")
    name = None if args.display_name == "none" else args.display_name
    with tenant_connection(args.tenant) as conn:
        if not set_account_name(conn, args.account_id, name):
            raise CliError(
                f"account {args.account_id} is not connected to tenant {args.tenant}",
                "see: dd0c-cost accounts list --tenant " + args.tenant,
            )
    print(f"{args.account_id}  {name or '(no name)'}")
    return 0
