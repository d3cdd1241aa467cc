"""Ticket targets (tenant API key): where "Create ticket" sends tickets.

GET    /v1/tickets/targets          -> the targets (never their credentials)
PUT    /v1/tickets/targets/{name}   -> create or replace one (the credential is sealed at rest)
DELETE /v1/tickets/targets/{name}
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from dd0c_cost.api.auth import authenticated_tenant
from dd0c_cost.api.errors import ApiError
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.model import Model
from dd0c_cost.tickets.targets import Target, TargetConfig, delete_target, list_targets, set_target, valid_name

router = APIGatewayHttpRouter()


class TargetIn(Model):
    config: TargetConfig
    credential: str = Field(
        min_length=1,
        max_length=8000,
        description="Jira API token (or OAuth access token), GitHub token (or the App's PEM private key), "
        "or the webhook's signing secret; sealed at rest, never returned",
    )
    is_default: bool = False


class TargetList(Model):
    targets: list[Target]


def _name(name: str) -> str:
    if not valid_name(name):
        raise ApiError(400, "bad_target_name", "a target name is 1-40 lower-case letters, digits, '-' or '_'")
    return name


@router.get("/v1/tickets/targets")
def get_targets() -> TargetList:
    tenant_id = authenticated_tenant(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        return TargetList(targets=list_targets(conn))


@router.put("/v1/tickets/targets/<name>")
def put_target(name: str, target: TargetIn) -> Target:
    tenant_id = authenticated_tenant(router.current_event, write=True)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        return set_target(
            conn,
            tenant_id,
            Target(name=_name(name), config=target.config, is_default=target.is_default),
            target.credential,
            by="api",
        )


@router.delete("/v1/tickets/targets/<name>")
def remove_target(name: str) -> TargetList:
    tenant_id = authenticated_tenant(router.current_event, write=True)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        if not delete_target(conn, _name(name)):
            raise ApiError(404, "not_found", f"no ticket target {name!r}")
        return TargetList(targets=list_targets(conn))


__all__ = ["router"]
