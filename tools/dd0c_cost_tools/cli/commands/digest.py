"""``digest``: a tenant's daily Slack digest (yesterday on its clock, or --day), posted once."""

from __future__ import annotations

import json
from datetime import date


def register(sub) -> None:
    p = sub.add_parser("digest", help="post a tenant's daily digest to its Slack (once per day)")
    p.add_argument("--tenant", required=True, help="the tenant whose digest to post")
    p.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: yesterday on the tenant's clock)")
    p.add_argument("--json", action="store_true", help="print the digest's summary and delivery as JSON")
    p.set_defaults(func=cmd_digest)


def cmd_digest(args) -> int:
    from dd0c_cost.db.connection import get_connection
    from dd0c_cost.notify.digest import post_digest
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.cli.tenancy import operator_connection, require_tenant

    with operator_connection() as op:
        tenant_id = require_tenant(op, args.tenant)
    result = post_digest(get_connection(), tenant_id, get_settings(), day=args.day)
    if args.json:
        print(json.dumps(result, default=str))
        return 0
    summary = result["summary"]
    statuses = ", ".join(f"{name} {counts['count']}" for name, counts in summary["by_status"].items()) or "none"
    note = "" if result["posted"] or result["delivery"].startswith("undelivered") else " (already posted)"
    print(f"day          {result['day']}")
    print(f"anomalies    {summary['anomalies']} ({statuses})")
    print(f"spend        ${summary['usd_per_hour']:,.2f}/h")
    print(f"saved        ${summary['saved']['usd_per_hour']:,.2f}/h")
    print(f"delivery     {result['delivery']}{note}")
    return 0
