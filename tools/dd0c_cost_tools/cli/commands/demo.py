"""``demo``: replay the bundled sample and show the anomalies."""

from __future__ import annotations

import sys

from dd0c_cost_tools.cli.commands.anomalies import tenant_anomalies
from dd0c_cost_tools.cli.commands.replay import run_replay
from dd0c_cost_tools.cli.output import anomaly_table, print_summary


def register(sub) -> None:
    p = sub.add_parser("demo", help="replay a bundled sample through the whole pipeline and show the anomalies")
    p.add_argument("--tenant", default="demo")
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
    print(anomaly_table(anomalies) if anomalies else "no anomalies found")
    outbox = get_settings().resolved_outbox_path()
    if outbox.exists():
        print(f"\nSlack messages that would have been posted: {outbox}")
    return 0 if anomalies else 1
