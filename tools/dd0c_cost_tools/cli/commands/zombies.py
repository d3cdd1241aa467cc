"""``zombies``: a tenant's zombie findings, and ``zombies scan`` (the hunter, locally on moto)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from dd0c_cost_tools.cli.errors import CliError
from dd0c_cost_tools.cli.output import print_table
from dd0c_cost_tools.cli.tenancy import database_url, operator_connection, require_tenant

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
    p.add_argument(
        "action",
        nargs="?",
        choices=["list", "scan"],
        default="list",
        help="list: the findings, largest monthly waste first (default); scan: run the hunter on the tenant's accounts",
    )
    p.add_argument("--tenant", required=True, help="the tenant whose findings to list or whose accounts to scan")
    p.add_argument("--json", action="store_true", help="list: one JSON array")
    p.add_argument("--all", action="store_true", help="list: closed and ignored findings too (default: live ones)")
    p.add_argument("--limit", type=int, default=100, help="at most this many findings (default %(default)s)")
    p.add_argument(
        "--at", help="scan: the scan's event time (ISO 8601; default: the morning after the tenant's newest event)"
    )
    p.set_defaults(func=cmd_zombies)


ZOMBIE_HEADERS = [
    "$/month",
    "so far",
    "type",
    "resource",
    "account",
    "region",
    "criterion",
    "verdict",
    "idle since",
    "status",
]


def zombie_rows(findings) -> list[list[str]]:
    return [
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


def print_zombies(findings) -> None:
    print_table(ZOMBIE_HEADERS, zombie_rows(findings), right=("$/month", "so far"))


def cmd_zombies(args) -> int:
    from dd0c_cost.zombies.models import LIVE_STATUSES
    from dd0c_cost_tools.local.zombies import tenant_findings

    url = database_url()
    with operator_connection(url) as conn:
        tenant_id = require_tenant(conn, args.tenant)
    if args.action == "scan":
        return _scan(url, tenant_id, args)
    statuses = None if args.all else [s.value for s in LIVE_STATUSES]
    findings = tenant_findings(url, tenant_id, statuses=statuses, limit=args.limit)
    if args.json:
        print(json.dumps([{k: v for k, v in f.model_dump(mode="json").items() if k in FIELDS} for f in findings]))
    elif findings:
        print_zombies(findings)
    else:
        print(f"no zombie findings for tenant {args.tenant}")
    return 0


def _scan(url: str, tenant_id, args) -> int:
    from dd0c_cost_tools.local.moto_aws import cloudwatch_like_aws
    from dd0c_cost_tools.local.runner import LocalPipeline
    from dd0c_cost_tools.local.zombies import demo_scan_time, newest_event_time, scan_tenant, tenant_findings

    at = _parse_at(args.at) if args.at else demo_scan_time(newest_event_time(url, tenant_id))
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    print(
        f"scanning the connected accounts of {args.tenant!r} at {at.isoformat()} (AWS is moto locally)", file=sys.stderr
    )
    with LocalPipeline() as pipeline, cloudwatch_like_aws():
        messages = scan_tenant(pipeline, url, tenant_id, at)
    print(f"scanned {len(messages)} account-region(s)", file=sys.stderr)
    findings = tenant_findings(url, tenant_id, statuses=["open"], limit=args.limit)
    if findings:
        print_zombies(findings)
    else:
        print("no open zombie findings")
    return 0


def _parse_at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--at {text!r} is not a time", "give ISO 8601, e.g. 2026-11-17T06:00:00Z") from None
