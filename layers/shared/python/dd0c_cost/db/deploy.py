"""What the migrate function does on deploy, in AWS: migrate with the admin secret, then make
sure the runtime logins exist: the app secret's as a member of dd0c_app, the normaliser secret's
as a member of dd0c_normalizer (migration 008)."""

from __future__ import annotations

import json

from dd0c_cost.db.connection import resolve_database_url
from dd0c_cost.db.migrate import ensure_app_login, migrate
from dd0c_cost.settings import get_settings


def apply_migrations_for_deploy() -> list[str]:
    settings = get_settings()
    admin_url = resolve_database_url(settings, admin=True)
    applied = migrate(admin_url)
    if settings.database_secret_arn and not settings.database_url:
        from aws_lambda_powertools.utilities.parameters import get_secret

        app = json.loads(get_secret(settings.database_secret_arn))
        ensure_app_login(admin_url, app["username"], app["password"])
    if settings.database_normalizer_secret_arn and not settings.database_url:
        from aws_lambda_powertools.utilities.parameters import get_secret

        from dd0c_cost.db.connection import NORMALIZER_ROLE

        login = json.loads(get_secret(settings.database_normalizer_secret_arn))
        ensure_app_login(admin_url, login["username"], login["password"], role=NORMALIZER_ROLE)
    return applied
