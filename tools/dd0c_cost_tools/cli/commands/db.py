"""``migrate`` and ``db``: the schema and the embedded PostgreSQL."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("db", help="manage the embedded PostgreSQL")
    p.add_argument("action", choices=["stop"])
    p.set_defaults(func=cmd_db)


def cmd_migrate(args) -> int:
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli(migrate_first=False)
    applied = migrate(url)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else " (up to date)"))
    return 0


def cmd_db(args) -> int:
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.embedded_pg import stop_default_server

    stopped = stop_default_server(get_settings().data_dir)
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0
