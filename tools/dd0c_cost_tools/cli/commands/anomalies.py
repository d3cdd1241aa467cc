"""``anomalies [list] | show ID | ack|expected|false-positive ID``: a tenant's anomalies and their
status (expected and false-positive teach the scorer, as from Slack or the API)."""

from __future__ import annotations

import argparse
import json
import sys
from uuid import UUID

from dd0c_cost_tools.cli.errors import CliError
from dd0c_cost_tools.cli.output import console, print_anomalies
from dd0c_cost_tools.cli.tenancy import tenant_connection

STATUS_ACTIONS = {"ack": "acknowledged", "expected": "expected", "false-positive": "false_positive"}


def _common(parser, *, required: bool) -> None:
    # On the group and on each action, so `anomalies show ID --tenant X` works as well as
    # `anomalies --tenant X show ID`; SUPPRESS keeps an action from clobbering the group's value.
    default = None if required else argparse.SUPPRESS
    parser.add_argument(
        "--tenant", required=required, default=default, help="the tenant whose anomalies to read or change"
    )
    parser.add_argument(
        "--json", action="store_true", default=False if required else argparse.SUPPRESS, help="print JSON"
    )


def register(sub) -> None:
    p = sub.add_parser(
        "anomalies",
        help="list a tenant's anomalies, show one, or change its status",
        description="Without a sub-command: list the tenant's anomalies, newest first.",
    )
    _common(p, required=False)
    p.add_argument("--limit", type=int, default=100, help="at most this many anomalies (list; default %(default)s)")
    p.set_defaults(func=cmd_list)
    actions = p.add_subparsers(dest="anomaly_action", metavar="ACTION")
    s = actions.add_parser("list", help="the tenant's anomalies, newest first (the default)")
    _common(s, required=False)
    s.set_defaults(func=cmd_list)
    s = actions.add_parser("show", help="one anomaly: what, who, where, score components with their reasons")
    s.add_argument("anomaly_id", metavar="ID", help="the anomaly's id (first column of the list)")
    _common(s, required=False)
    s.set_defaults(func=cmd_show)
    for action, status in STATUS_ACTIONS.items():
        meaning = " (teaches the scorer)" if action != "ack" else ""
        s = actions.add_parser(action, help=f"mark the anomaly {status.replace('_', ' ')}{meaning}")
        s.add_argument("anomaly_id", metavar="ID", help="the anomaly's id (first column of the list)")
        s.add_argument("--by", default="operator", help="who decided (kept with the status; default %(default)s)")
        _common(s, required=False)
        s.set_defaults(func=cmd_status, status=status)


def _tenant(args) -> str:
    tenant = getattr(args, "tenant", None)
    if not tenant:
        raise CliError("which tenant?", "add --tenant NAME (dd0c-cost tenants list shows them)")
    return tenant


def tenant_anomalies(tenant: str, limit: int = 100):
    from dd0c_cost.scoring.store import list_anomalies

    with tenant_connection(tenant) as conn:
        return list_anomalies(conn, limit=limit)


def cmd_list(args) -> int:
    anomalies = tenant_anomalies(_tenant(args), args.limit)
    if getattr(args, "json", False):
        print(json.dumps([a.model_dump(mode="json") for a in anomalies], indent=None))
    elif anomalies:
        print_anomalies(anomalies)
    else:
        print(f"no anomalies for tenant {args.tenant}")
    return 0


def _anomaly_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise CliError(
            f"{text!r} is not an anomaly id", "copy the id from `dd0c-cost anomalies --tenant NAME`"
        ) from None


def cmd_show(args) -> int:
    from dd0c_cost.scoring.store import get_anomaly

    wanted = _anomaly_id(args.anomaly_id)
    with tenant_connection(_tenant(args)) as conn:
        anomaly = get_anomaly(conn, wanted)
    if anomaly is None:
        raise CliError(
            f"tenant {args.tenant!r} has no anomaly {wanted}", "list them: dd0c-cost anomalies --tenant NAME"
        )
    if getattr(args, "json", False):
        print(anomaly.model_dump_json())
        return 0
    _print_one(anomaly)
    return 0


def _print_one(anomaly) -> None:
    out = console()
    out.print(f"{anomaly.summary}")
    out.print(
        f"id {anomaly.id}  severity {anomaly.severity.value}  score {anomaly.score:.2f}  "
        f"${anomaly.estimated_hourly_usd:,.2f}/h  status {anomaly.status.value}"
    )
    out.print(
        f"detected {anomaly.detected_at:%Y-%m-%d %H:%M} UTC in {anomaly.account_id} {anomaly.region} by {anomaly.actor}"
    )
    out.print(f"resources {', '.join(anomaly.resource_ids[:10])}{' …' if len(anomaly.resource_ids) > 10 else ''}")
    for component in anomaly.components:
        out.print(f"  {component.name:<11}{component.value:>5.2f}  {component.reason}")


def cmd_status(args) -> int:
    from dd0c_cost.scoring.feedback import record_feedback

    wanted = _anomaly_id(args.anomaly_id)
    with tenant_connection(_tenant(args)) as conn:
        anomaly = record_feedback(conn, wanted, args.status, args.by, source="cli")
    if anomaly is None:
        raise CliError(
            f"tenant {args.tenant!r} has no anomaly {wanted}", "list them: dd0c-cost anomalies --tenant NAME"
        )
    print(f"{anomaly.id} is now {anomaly.status.value}", file=sys.stderr)
    return 0
