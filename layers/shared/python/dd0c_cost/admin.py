"""Operator actions on the deployed database, for ``dd0c-cost --stack NAME ...``.

The database sits in isolated subnets, so an operator's laptop cannot reach it; the ``admin``
function can. It is invoked only through ``lambda:Invoke`` by IAM principals the account allows
(no URL, no API route) and runs each action as ``dd0c_operator`` over the admin (schema owner)
login. The event is ``{"action": "tenants.create", "args": {...}}``; the answer is
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ..., "fix": ...}`` for a mistake the
operator can fix. Anything else raises (the invocation fails; the CLI prints it in one line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, Field

from dd0c_cost.model import Model


class AdminRequest(Model):
    model_config = ConfigDict(extra="forbid")

    action: str
    args: dict[str, Any] = Field(default_factory=dict)


class AdminRefused(Exception):
    """A request the operator can correct (unknown tenant, bad input)."""

    def __init__(self, error: str, fix: str | None = None) -> None:
        super().__init__(error)
        self.error, self.fix = error, fix


def handle(event: dict[str, Any]) -> dict[str, Any]:
    try:
        request = AdminRequest.model_validate(event)
        action = ACTIONS.get(request.action)
        if action is None:
            raise AdminRefused(f"unknown action {request.action!r}", f"one of: {', '.join(sorted(ACTIONS))}")
        return {"ok": True, "result": _jsonable(action(request.args))}
    except AdminRefused as exc:
        return {"ok": False, "error": exc.error, "fix": exc.fix}
    except ValueError as exc:  # pydantic validation and the domain's own input checks
        return {"ok": False, "error": str(exc).splitlines()[0], "fix": None}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _admin_url() -> str:
    from dd0c_cost.db.connection import resolve_database_url
    from dd0c_cost.settings import get_settings

    return resolve_database_url(get_settings(), admin=True)


def _operator():
    from dd0c_cost.db import operator

    return operator.open_operator_connection(_admin_url())


def _tenant(conn, name: str):
    from dd0c_cost.db import operator

    tenant_id = operator.find_tenant(conn, name)
    if tenant_id is None:
        raise AdminRefused(
            f"no tenant named {name!r}", f"create it with: dd0c-cost --stack STACK tenants create {name}"
        )
    return tenant_id


def tenants_list(args: dict[str, Any]) -> list[dict]:
    from dd0c_cost.db import operator

    conn = _operator()
    try:
        return [dict(row) for row in operator.list_tenants(conn)]
    finally:
        conn.close()


def tenants_create(args: dict[str, Any]) -> dict:
    from dd0c_cost.db import operator

    name = str(args.get("name") or "")
    if not name:
        raise AdminRefused("tenants.create needs a name")
    conn = _operator()
    try:
        return {"name": name, "id": operator.ensure_tenant(conn, name)}
    finally:
        conn.close()


def keys_create(args: dict[str, Any]) -> dict:
    from dd0c_cost.auth import keys

    conn = _operator()
    try:
        tenant_id = _tenant(conn, str(args.get("tenant") or ""))
        secret, key = keys.create_key(
            conn,
            tenant_id,
            scope=str(args.get("scope") or "write"),
            name=args.get("name"),
            expires_in_days=args.get("expires_in_days"),
        )
    finally:
        conn.close()
    return {"secret": secret, **key}


def accounts_connect(args: dict[str, Any]) -> dict:
    from dd0c_cost.onboarding import OnboardingError, connect_account
    from dd0c_cost.settings import get_settings

    settings = get_settings()
    if not settings.central_bus_arn or not settings.dd0c_account_id:
        raise AdminRefused("the admin function has no central bus ARN or account id", "redeploy the stack")
    conn = _operator()
    try:
        tenant = str(args.get("tenant") or "")
        _tenant(conn, tenant)
        try:
            return connect_account(
                conn,
                tenant,
                str(args.get("account_id") or ""),
                list(args.get("regions") or []),
                settings.central_bus_arn,
                settings.dd0c_account_id,
                template_url=args.get("template_url") or settings.onboarding_template_url,
            )
        except OnboardingError as exc:
            raise AdminRefused(str(exc)) from None
    finally:
        conn.close()


def accounts_list(args: dict[str, Any]) -> list[dict]:
    from dd0c_cost.db import operator

    conn = _operator()
    try:
        return [dict(row) for row in operator.list_accounts(conn, args.get("tenant"))]
    finally:
        conn.close()


def db_status(args: dict[str, Any]) -> dict:
    from dd0c_cost.db.migrate import migration_status

    migrations = migration_status(_admin_url())
    return {
        "database": "the stack's Aurora PostgreSQL (admin function)",
        "migrations_applied": [m["name"] for m in migrations if m["applied_at"]],
        "migrations_pending": [m["name"] for m in migrations if not m["applied_at"]],
        "tenants": [row["name"] for row in tenants_list({})],
    }


ACTIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "tenants.list": tenants_list,
    "tenants.create": tenants_create,
    "keys.create": keys_create,
    "accounts.connect": accounts_connect,
    "accounts.list": accounts_list,
    "db.status": db_status,
}
