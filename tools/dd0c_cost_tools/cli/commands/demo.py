"""``demo``: replay the bundled sample and show the anomalies."""

from __future__ import annotations

import sys

from dd0c_cost_tools.cli.commands.anomalies import tenant_anomalies
from dd0c_cost_tools.cli.commands.replay import run_replay
from dd0c_cost_tools.cli.output import print_anomalies, print_summary


def register(sub) -> None:
    p = sub.add_parser("demo", help="replay a bundled sample through the whole pipeline and show the anomalies")
    p.add_argument("--tenant", default="demo", help="the tenant to replay as (created if new; default %(default)s)")
    p.add_argument("--port", type=int, default=8080, help="the port `dd0c-cost serve` will listen on")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.sample import sample_path

    tenant = args.tenant
    print(f"dd0c/cost demo: replaying a bundled sample of CloudTrail activity as tenant {tenant!r}", file=sys.stderr)
    summary = run_replay([sample_path()], tenant, show_progress=True)
    print_summary(summary, as_json=False)
    anomalies = tenant_anomalies(tenant, 20)
    print()
    if anomalies:
        print_anomalies(anomalies)
    else:
        print("no anomalies found")
    outbox = get_settings().resolved_outbox_path()
    if outbox.exists():
        print(f"\nSlack messages that would have been posted: {outbox}")
    print(f"\nConsole: run `dd0c-cost serve --port {args.port}`, then open {console_link(tenant, args.port)}")
    return 0 if anomalies else 1


def console_link(tenant: str, port: int) -> str:
    """A sign-in link for the demo tenant's console: a fresh read-write key named "demo console"
    (the previous one is revoked), in the URL fragment, which never leaves the browser."""
    from dd0c_cost.auth import keys
    from dd0c_cost.db import operator
    from dd0c_cost_tools.local.database import database_url_for_cli

    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        tenant_id = operator.find_tenant(conn, tenant)
        for key in keys.list_keys(conn, tenant_id):
            if key["name"] == "demo console" and key["revoked_at"] is None:
                keys.revoke_key(conn, tenant_id, str(key["id"]))
        secret, _ = keys.create_key(conn, tenant_id, scope="write", name="demo console", expires_in_days=7)
    finally:
        conn.close()
    return f"http://127.0.0.1:{port}/#/signin?key={secret}"
