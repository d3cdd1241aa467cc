"""``demo``: replay the bundled sample and show the anomalies, then hunt the demo account's zombies."""

from __future__ import annotations

import sys

from dd0c_cost_tools.cli.commands.anomalies import tenant_anomalies
from dd0c_cost_tools.cli.commands.replay import FAULT_EXIT, run_replay
from dd0c_cost_tools.cli.commands.zombies import print_zombies
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
    zombies = hunt_zombies(tenant)
    print()
    print(f"zombie resources in the demo account (scanned {zombies[0]:%Y-%m-%d %H:%M} UTC, AWS is moto locally)")
    if zombies[1]:
        print_zombies(zombies[1])
    else:
        print("no zombie resources found")
    outbox = get_settings().resolved_outbox_path()
    if outbox.exists():
        print(f"\nSlack messages that would have been posted: {outbox}")
    print(f"\nConsole: run `dd0c-cost serve --port {args.port}`, then open {console_link(tenant, args.port)}")
    if summary.faults:
        return FAULT_EXIT
    return 0 if anomalies and zombies[1] else 1


def hunt_zombies(tenant: str):
    """Seed the demo account on moto with idle and busy resources, scan it through the real
    zombie_hunter handler (the day before and at the morning after the newest event), and
    return (scan time, open findings, largest waste first)."""
    from dd0c_cost.db import operator
    from dd0c_cost_tools.local.database import database_url_for_cli
    from dd0c_cost_tools.local.runner import LocalPipeline
    from dd0c_cost_tools.local.zombies import demo_scan_time, newest_event_time, run_demo_hunt

    url = database_url_for_cli()
    conn = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(conn, tenant)
    finally:
        conn.close()
    at = demo_scan_time(newest_event_time(url, tenant_id))
    print(f"dd0c/cost demo: hunting zombie resources in the demo account at {at:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    with LocalPipeline() as pipeline:
        return at, run_demo_hunt(pipeline, url, tenant, at)


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
