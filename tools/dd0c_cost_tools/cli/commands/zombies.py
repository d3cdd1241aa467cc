"""``zombies``: a tenant's zombie findings, and ``zombies scan`` (the hunter, locally on moto)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from dd0c_cost_tools.cli.output import format_table

FIELDS = (
    "id",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "criterion",
    "verdict",
    "evidence",
    "first_seen_idle",
    "monthly_waste_usd",
    "waste_so_far_usd",
    "status",
)


def register(sub) -> None:
    p = sub.add_parser(
        "zombies", help="a tenant's zombie resources (idle, priced); 'zombies scan' runs the hunter locally"
    )
    p.add_argument("action", nargs="?", choices=["list", "scan"], default="list")
    p.add_argument("--tenant", required=True)
    p.add_argument("--json", action="store_true", help="list: one JSON array")
    p.add_argument("--all", action="store_true", help="list: closed and ignored findings too (default: live ones)")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument(
        "--at", help="scan: the scan's event time (ISO 8601; default: the morning after the tenant's newest event)"
    )
    p.set_defaults(func=cmd_zombies)


def zombie_table(findings) -> str:
    rows = [
        [
            "unpriced" if f.monthly_waste_usd is None else f"${f.monthly_waste_usd:,.2f}",
            "" if f.waste_so_far_usd is None else f"${f.waste_so_far_usd:,.2f}",
            f.resource_type,
            (f.resource_name or f.resource_id)[:40],
            f.account_id,
            f.region,
            f.criterion,
            f.verdict.value,
            f.first_seen_idle.strftime("%Y-%m-%d"),
            f.status.value + (f" (fix in {f.owner_kind})" if f.owner_kind else ""),
        ]
        for f in findings
    ]
    return format_table(
        rows,
        ["$/month", "so far", "type", "resource", "account", "region", "criterion", "verdict", "idle since", "status"],
    )


def _tenant_id(url: str, tenant: str):
    from dd0c_cost.db import operator

    conn = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(conn, tenant)
    finally:
        conn.close()
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {tenant!r}")
    return tenant_id


def cmd_zombies(args) -> int:
    from dd0c_cost.zombies.models import LIVE_STATUSES
    from dd0c_cost_tools.local.database import database_url_for_cli
    from dd0c_cost_tools.local.zombies import tenant_findings

    url = database_url_for_cli()
    tenant_id = _tenant_id(url, args.tenant)
    if args.action == "scan":
        return _scan(url, tenant_id, args)
    statuses = None if args.all else [s.value for s in LIVE_STATUSES]
    findings = tenant_findings(url, tenant_id, statuses=statuses, limit=args.limit)
    if args.json:
        print(json.dumps([{k: v for k, v in f.model_dump(mode="json").items() if k in FIELDS} for f in findings]))
    elif findings:
        print(zombie_table(findings))
    else:
        print(f"no zombie findings for tenant {args.tenant}")
    return 0


def _scan(url: str, tenant_id, args) -> int:
    from dd0c_cost_tools.local.moto_aws import cloudwatch_like_aws
    from dd0c_cost_tools.local.runner import LocalPipeline
    from dd0c_cost_tools.local.zombies import demo_scan_time, newest_event_time, scan_tenant, tenant_findings

    at = (
        datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        if args.at
        else demo_scan_time(newest_event_time(url, tenant_id))
    )
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    print(
        f"scanning the connected accounts of {args.tenant!r} at {at.isoformat()} (AWS is moto locally)", file=sys.stderr
    )
    with LocalPipeline() as pipeline, cloudwatch_like_aws():
        messages = scan_tenant(pipeline, url, tenant_id, at)
    print(f"scanned {len(messages)} account-region(s)", file=sys.stderr)
    findings = tenant_findings(url, tenant_id, statuses=["open"], limit=args.limit)
    print(zombie_table(findings) if findings else "no open zombie findings")
    return 0
