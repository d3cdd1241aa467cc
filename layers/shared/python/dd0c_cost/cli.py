"""``dd0c-cost``: the operator and developer command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _progress_printer(enabled: bool):
    if not enabled:
        return None
    interactive = sys.stderr.isatty()
    last = {"shown": -1}

    def show(stage: str, done: int, total: int) -> None:
        step = max(1, total // (20 if interactive else 4))
        if done == total or done - last["shown"] >= step:
            last["shown"] = done
            end = "\r" if interactive and done < total else "\n"
            print(f"  {stage}: {done:,}/{total:,} records", end=end, file=sys.stderr, flush=True)

    return show


def _format_table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def anomaly_table(anomalies) -> str:
    rows = [
        [
            a.detected_at.strftime("%Y-%m-%d %H:%M"),
            a.severity.value,
            f"{a.score:.2f}",
            f"${a.estimated_hourly_usd:,.2f}",
            a.account_id,
            a.region,
            str(a.attributes.get("actor_name") or a.actor)[:40],
            f"{a.attributes.get('quantity', 1):g} × {a.attributes.get('instance_type') or a.resource_type}",
        ]
        for a in anomalies
    ]
    return _format_table(rows, ["detected (UTC)", "severity", "score", "$/h", "account", "region", "who", "what"])


# --- commands -------------------------------------------------------------------------------


def cmd_migrate(args) -> int:
    from dd0c_cost.local.database import database_url_for_cli
    from dd0c_cost.db.migrate import migrate

    url = database_url_for_cli(migrate_first=False)
    applied = migrate(url)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else " (up to date)"))
    return 0


def _print_summary(summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.as_json()))
        return
    rejected_total = sum(summary.rejected.values())
    print(f"tenant               {summary.tenant}")
    print(f"records read         {summary.read:,}")
    print(f"cost events          {summary.cost_events:,}")
    print(f"not cost-relevant    {summary.not_cost_relevant:,}")
    print(f"rejected             {rejected_total:,}")
    for reason, count in sorted(summary.rejected.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {reason:<19}{count:,}")
    print(f"anomalies            {summary.anomalies:,}")
    if rejected_total:
        print(f"rejects written to   {summary.rejects_file}")


def _replay(paths: list[Path], tenant: str, *, show_progress: bool):
    from dd0c_cost.local.database import database_url_for_cli
    from dd0c_cost.local.replay import replay
    from dd0c_cost.settings import get_settings

    url = database_url_for_cli()
    rejects = get_settings().data_dir / "rejects" / f"{tenant}.jsonl"
    return replay(paths, tenant, url, rejects_path=rejects, progress=_progress_printer(show_progress))


def cmd_replay(args) -> int:
    summary = _replay([Path(p) for p in args.paths], args.tenant, show_progress=not args.json)
    _print_summary(summary, args.json)
    return 0


def _tenant_anomalies(tenant: str, limit: int = 100):
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.local.database import database_url_for_cli
    from dd0c_cost.scoring.store import list_anomalies

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
    anomalies = _tenant_anomalies(args.tenant, args.limit)
    if args.json:
        print(json.dumps([a.model_dump(mode="json") for a in anomalies], indent=None))
    elif anomalies:
        print(anomaly_table(anomalies))
    else:
        print(f"no anomalies for tenant {args.tenant}")
    return 0


def cmd_demo(args) -> int:
    from dd0c_cost.local.sample import sample_path
    from dd0c_cost.settings import get_settings

    tenant = args.tenant
    print(f"dd0c/cost demo: replaying a bundled sample of CloudTrail activity as tenant {tenant!r}", file=sys.stderr)
    summary = _replay([sample_path()], tenant, show_progress=True)
    _print_summary(summary, as_json=False)
    anomalies = _tenant_anomalies(tenant, 20)
    print()
    print(anomaly_table(anomalies) if anomalies else "no anomalies found")
    outbox = get_settings().resolved_outbox_path()
    if outbox.exists():
        print(f"\nSlack messages that would have been posted: {outbox}")
    return 0 if anomalies else 1


def cmd_tenants(args) -> int:
    from dd0c_cost.db import operator
    from dd0c_cost.local.database import database_url_for_cli

    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        if args.action == "create":
            print(operator.ensure_tenant(conn, args.name))
        elif args.action == "configure":
            _configure_tenant(conn, args)
        else:
            rows = operator.list_tenants(conn)
            print(_format_table([[r["name"], str(r["id"]), str(r["accounts"])] for r in rows], ["tenant", "id", "accounts"]))
    finally:
        conn.close()
    return 0


def _configure_tenant(conn, args) -> None:
    """Per-tenant scoring overrides: set with --NAME VALUE, reset to the default with --NAME default."""
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.scoring.config import DEFAULT_CONFIG, TENANT_SETTING_COLUMNS
    from dd0c_cost.scoring.store import set_tenant_settings

    tenant_id = operator.find_tenant(conn, args.name)
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {args.name!r}")
    values = {}
    for name in TENANT_SETTING_COLUMNS:
        raw = getattr(args, name)
        if raw is not None:
            values[name] = None if raw == "default" else float(raw)
    try:
        with tenant_transaction(conn, tenant_id):
            overrides = set_tenant_settings(conn, tenant_id, by="operator", **values)
    except ValueError as exc:
        raise SystemExit(f"dd0c-cost: {exc}") from None
    for name in TENANT_SETTING_COLUMNS:
        value = overrides.get(name, getattr(DEFAULT_CONFIG, name, None))
        print(f"{name:<26}{value}{'' if name in overrides else '  (default)'}")


def cmd_accounts(args) -> int:
    """Connect an account: record it for the tenant and print what the customer launches."""
    from dd0c_cost.db import operator
    from dd0c_cost.local.database import database_url_for_cli
    from dd0c_cost.onboarding import OnboardingError, connect_account
    from dd0c_cost.settings import get_settings

    settings = get_settings()
    bus = args.central_bus_arn or settings.central_bus_arn
    dd0c_account = args.dd0c_account_id or settings.dd0c_account_id
    if not bus or not dd0c_account:
        raise SystemExit(
            "dd0c-cost: accounts connect needs the central bus ARN and the dd0c account id "
            "(--central-bus-arn/--dd0c-account-id, or DD0C_CENTRAL_BUS_ARN/DD0C_ACCOUNT_ID; see the CDK stack outputs)"
        )
    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        result = connect_account(
            conn, args.tenant, args.account_id, args.regions, bus, dd0c_account, template_url=settings.onboarding_template_url
        )
    except OnboardingError as exc:
        raise SystemExit(f"dd0c-cost: {exc}") from None
    finally:
        conn.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"account      {result['account_id']} -> tenant {result['tenant']}")
    print(f"external id  {result['external_id']}")
    print(f"regions      {', '.join(result['regions'])} (reader role created in {result['home_region']})")
    for stack in result["stacks"]:
        print(f"  {stack['region']}: {stack['quick_create_url']}")
    for step in result.get("next_steps", []):
        print(f"- {step}")
    return 0


def cmd_keys(args) -> int:
    from dd0c_cost.db import operator
    from dd0c_cost.local.database import database_url_for_cli

    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        tenant_id = operator.find_tenant(conn, args.tenant)
        if tenant_id is None:
            raise SystemExit(f"dd0c-cost: no tenant named {args.tenant!r}")
        secret = operator.create_api_key(conn, tenant_id)
    finally:
        conn.close()
    print(secret)
    print("store it now: only its hash is kept", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    from dd0c_cost.local.serve import serve

    return serve(port=args.port)


def cmd_db(args) -> int:
    from dd0c_cost.local.embedded_pg import stop_default_server
    from dd0c_cost.settings import get_settings

    stopped = stop_default_server(get_settings().data_dir)
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


def cmd_bench(args, rest: list[str]) -> int:
    import importlib

    module = {
        "nab": "dd0c_cost.bench.nab",
        "score": "dd0c_cost.bench.score_core",
        "normalize": "dd0c_cost.bench.normalize",
    }[args.name]
    return importlib.import_module(module).main(rest)


def cmd_contracts(args) -> int:
    from dd0c_cost import contracts

    if args.check:
        stale = contracts.stale()
        for path in stale:
            print(f"out of date: {path} (run: dd0c-cost contracts)", file=sys.stderr)
        return 1 if stale else 0
    for path in contracts.write():
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dd0c-cost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="replay a bundled sample through the whole pipeline and show the anomalies")
    p.add_argument("--tenant", default="demo")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("replay", help="replay CloudTrail files (JSON Lines, envelopes, S3 log files) through the pipeline")
    p.add_argument("paths", nargs="+")
    p.add_argument("--tenant", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("anomalies", help="list a tenant's anomalies")
    p.add_argument("--tenant", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_anomalies)

    p = sub.add_parser("serve", help="run the HTTP API (ingest, dashboard, Slack interactions) on localhost")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("tenants", help="list, create or configure tenants (scoring thresholds per tenant)")
    p.add_argument("action", choices=["list", "create", "configure"])
    p.add_argument("name", nargs="?")
    from dd0c_cost.scoring.config import TENANT_SETTING_COLUMNS

    for setting in TENANT_SETTING_COLUMNS:
        p.add_argument(f"--{setting.replace('_', '-')}", dest=setting, metavar="VALUE|default")
    p.set_defaults(func=cmd_tenants)

    p = sub.add_parser("accounts", help="connect an AWS account to a tenant and print its onboarding links")
    p.add_argument("action", choices=["connect"])
    p.add_argument("account_id")
    p.add_argument("--tenant", required=True)
    p.add_argument("--regions", nargs="+", required=True, help="regions whose CloudTrail events to forward")
    p.add_argument("--central-bus-arn")
    p.add_argument("--dd0c-account-id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts)

    p = sub.add_parser("keys", help="create a tenant API key for POST /v1/ingest and the dashboard API")
    p.add_argument("action", choices=["create"])
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("db", help="manage the embedded PostgreSQL")
    p.add_argument("action", choices=["stop"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("contracts", help="regenerate events/schemas/*.json and docs/openapi.json from the models")
    p.add_argument("--check", action="store_true", help="fail if the checked-in files differ from the models")
    p.set_defaults(func=cmd_contracts)

    p = sub.add_parser("pricing", help="pricing refresh: rebuild the price snapshot from the AWS Price List API", add_help=False)
    p.add_argument("action", choices=["refresh"])
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=None)

    p = sub.add_parser("bench", help="benchmarks: nab, score, normalize (pass --json for machine output)", add_help=False)
    p.add_argument("name", choices=["nab", "score", "normalize"])
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except Exception as exc:  # noqa: BLE001 - the operator gets one clear line, not a traceback
        from dd0c_cost.db.migrate import MigrationDrift
        from dd0c_cost.local.embedded_pg import EmbeddedPostgresError

        import psycopg

        if isinstance(exc, (MigrationDrift, EmbeddedPostgresError, psycopg.OperationalError, FileNotFoundError)):
            print(f"dd0c-cost: {exc}", file=sys.stderr)
            return 2
        raise


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "bench":
        return cmd_bench(args, args.rest)
    if args.command == "pricing":
        from dd0c_cost.pricing.refresh import main as refresh_main

        return refresh_main(args.rest)
    if args.command == "tenants" and args.action in {"create", "configure"} and not args.name:
        parser.error(f"tenants {args.action} needs a NAME")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
