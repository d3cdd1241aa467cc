"""Which database the CLI uses: DATABASE_URL if set, else the embedded per-user server."""

from __future__ import annotations

import os

from dd0c_cost.db.migrate import migrate
from dd0c_cost.settings import get_settings


def database_url_for_cli(*, migrate_first: bool = True) -> str:
    settings = get_settings()
    url = settings.database_url
    if not url:
        from dd0c_cost_tools.local.embedded_pg import ensure_default_server

        url = ensure_default_server(settings.data_dir)
        # The handlers read DATABASE_URL like they would in any deployment.
        os.environ["DATABASE_URL"] = url
    if migrate_first:
        migrate(url)
    return url
