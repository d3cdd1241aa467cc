"""``usage``: the usage-driven spend poller, locally (``poll``), and its per-tenant settings
(``configure``)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("usage", help="poll billing series through the real handlers (moto), or configure usage polling")
    p.add_argument(
        "action", choices=["poll", "configure"], help="poll the billing series now, or configure the usage path"
    )
    p.add_argument("--tenant", required=True, help="the tenant to poll or configure")
    p.add_argument("--billing", type=Path, help="JSON Lines of {account, service, currency, timestamp, value}")
    p.add_argument("--sample", action="store_true", help="a generated fortnight with a data-transfer spike")
    p.add_argument("--at", help="the schedule's time (ISO 8601; default: the newest sample's hour)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--enabled", choices=["on", "off"], help="configure: poll this tenant's usage or not")
    p.add_argument("--cost-explorer", choices=["on", "off"], help="hourly Cost Explorer (USD 0.01 a call)")
    p.add_argument("--ce-monthly-call-cap", type=int, help="configure: most Cost Explorer calls a month")
    p.add_argument("--alert-score", type=float, help="configure: detector score that alerts (0-1)")
    p.add_argument("--alert-floor-usd-per-hour", type=float, help="configure: smallest $/h rise that alerts")
    p.set_defaults(func=cmd_usage)


def cmd_usage(args) -> int:
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    if args.action == "configure":
        return _configure(url, args)
    from dd0c_cost_tools.local import usage

    at = datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else None
    if args.sample:
        from datetime import UTC

        end = (at or datetime(2026, 11, 16, 12, tzinfo=UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        records = usage.sample_records(end)
    elif args.billing:
        records = usage.read_records(args.billing)
    else:
        raise SystemExit(
            "dd0c-cost: give --billing FILE or --sample (locally, moto's CloudWatch holds no billing data)"
        )
    summary = usage.poll(args.tenant, url, records, at)
    if args.json:
        print(json.dumps(summary.as_json(), indent=2, default=str))
        return 0
    print(f"hour (UTC)        {summary.hour:%Y-%m-%d %H:%M}")
    print(f"samples loaded    {summary.samples_loaded}")
    for p in summary.polls:
        print(f"account {p['account_id']}: {p['status']}, {p['samples']} samples, {p['anomalies']} anomalies")
    for a in summary.anomalies:
        print(f"{a['detected_at'][:16]}  {a['severity']:<8}  {a['score']:.2f}  {a['summary']}")
    return 0


def _configure(url: str, args) -> int:
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.usage import store

    conn = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(conn, args.tenant)
        if tenant_id is None:
            raise SystemExit(f"dd0c-cost: no tenant named {args.tenant!r}")
        values = {}
        for name in ("enabled", "cost_explorer"):
            raw = getattr(args, name)
            if raw is not None:
                values[name] = raw == "on"
        for name in ("ce_monthly_call_cap", "alert_score", "alert_floor_usd_per_hour"):
            if getattr(args, name) is not None:
                values[name] = getattr(args, name)
        with tenant_transaction(conn, tenant_id):
            current = store.set_settings(conn, tenant_id, by="operator", **values)
    finally:
        conn.close()
    for name in store.SETTING_NAMES:
        print(f"{name:<26}{getattr(current, name)}")
    return 0
