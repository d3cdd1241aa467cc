"""``migrate`` and ``db stop|status``: the schema and the database the CLI uses."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("migrate", help="apply the numbered SQL migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("db", help="the database the CLI uses: its status, or stop the embedded server")
    actions = p.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    s = actions.add_parser("status", help="which database, whether it runs, migrations applied and pending, tenants")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_status)
    s = actions.add_parser("stop", help="stop the embedded PostgreSQL (its data stays)")
    s.set_defaults(func=cmd_stop)


def cmd_migrate(args) -> int:
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli(migrate_first=False)
    applied = migrate(url)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else " (up to date)"))
    return 0


def cmd_stop(args) -> int:
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.embedded_pg import stop_default_server

    stopped = stop_default_server(get_settings().data_dir)
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


def cmd_status(args) -> int:
    """Reports without starting anything: a stopped embedded server stays stopped."""
    from psycopg.conninfo import conninfo_to_dict

    from dd0c_cost.db.migrate import migration_status
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.embedded_pg import default_server

    settings = get_settings()
    status: dict = {}
    if args.remote_action:
        from dd0c_cost_tools.cli import remote

        status = remote.call(args.stack, args.remote_action, {})
        url: str | None = "remote"
    elif settings.database_url:
        info = conninfo_to_dict(settings.database_url)
        status["database"] = (
            f"DATABASE_URL: {info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"
        )
        url = settings.database_url
    else:
        server = default_server(settings.data_dir)
        running = server.is_running()
        status["database"] = f"embedded PostgreSQL in {server.data_dir} ({'running' if running else 'stopped'})"
        url = server.url if running else None
    if url is not None and not args.remote_action:
        from dd0c_cost.db import operator

        migrations = migration_status(url)
        status["migrations_applied"] = [m["name"] for m in migrations if m["applied_at"]]
        status["migrations_pending"] = [m["name"] for m in migrations if not m["applied_at"]]
        if any(name.startswith("001_") for name in status["migrations_applied"]):
            conn = operator.open_operator_connection(url)
            try:
                status["tenants"] = [r["name"] for r in operator.list_tenants(conn)]
            finally:
                conn.close()
    if args.json:
        print(json.dumps(status))
        return 0
    print(status["database"])
    if url is None:
        print("start it with any command that needs it (e.g. dd0c-cost migrate)")
        return 0
    applied, pending = status["migrations_applied"], status["migrations_pending"]
    print(f"migrations   {len(applied)} applied" + (f", latest {applied[-1]}" if applied else ""))
    print(
        f"pending      {', '.join(pending) if pending else 'none'}" + (" (run: dd0c-cost migrate)" if pending else "")
    )
    if "tenants" in status:
        print(f"tenants      {', '.join(status['tenants']) or 'none'}")
    return 0
