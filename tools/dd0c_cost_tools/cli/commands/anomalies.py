"""``anomalies``: a tenant's anomalies."""

from __future__ import annotations

import json

from dd0c_cost_tools.cli.output import anomaly_table


def register(sub) -> None:
    p = sub.add_parser("anomalies", help="list a tenant's anomalies")
    p.add_argument("--tenant", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_anomalies)


def tenant_anomalies(tenant: str, limit: int = 100):
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.scoring.store import list_anomalies
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    op = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(op, tenant)
    finally:
        op.close()
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {tenant!r} (replay creates it)")
    conn = open_connection(url)
    try:
        with tenant_transaction(conn, tenant_id):
            return list_anomalies(conn, limit=limit)
    finally:
        conn.close()


def cmd_anomalies(args) -> int:
    anomalies = tenant_anomalies(args.tenant, args.limit)
    if args.json:
        print(json.dumps([a.model_dump(mode="json") for a in anomalies], indent=None))
    elif anomalies:
        print(anomaly_table(anomalies))
    else:
        print(f"no anomalies for tenant {args.tenant}")
    return 0
