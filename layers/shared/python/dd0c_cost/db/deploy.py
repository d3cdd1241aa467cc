"""What the migrate function does on deploy, in AWS: migrate with the admin secret, then make
sure the runtime logins exist: the app secret's as a member of dd0c_app, and each function with a
role of its own (topology.DATABASE_ROLES: the normaliser, the sweeper...) as a member of that role
only."""

from __future__ import annotations

import json
import os

from dd0c_cost.db.connection import resolve_database_url
from dd0c_cost.db.migrate import ensure_app_login, migrate
from dd0c_cost.settings import get_settings
from dd0c_cost.topology_specs import DATABASE_ROLES


def apply_migrations_for_deploy() -> list[str]:
    settings = get_settings()
    admin_url = resolve_database_url(settings, admin=True)
    applied = migrate(admin_url)
    if settings.database_url:  # local or test database: no secrets to apply
        return applied
    from aws_lambda_powertools.utilities.parameters import get_secret

    if settings.database_secret_arn:
        app = json.loads(get_secret(settings.database_secret_arn))
        ensure_app_login(admin_url, app["username"], app["password"])
    for spec in DATABASE_ROLES:
        arn = os.environ.get(spec.secret_env)
        if arn:
            login = json.loads(get_secret(arn))
            ensure_app_login(admin_url, login["username"], login["password"], role=spec.role)
    return applied
