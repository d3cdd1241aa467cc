"""Remediation from Slack (tenant API key): who may remediate, and the requests so far.

GET /v1/remediation   -> enabled?, the allowed Slack users and user groups, the role to deploy
PUT /v1/remediation   -> enable for these users/groups (both empty: disable)
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from dd0c_cost import governance
from dd0c_cost.api.auth import authenticated_tenant
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.model import Model
from dd0c_cost.onboarding import REMEDIATOR_ROLE_NAME
from dd0c_cost.remediation import store

router = APIGatewayHttpRouter()

SLACK_USER = r"^[UW][A-Z0-9]{2,20}$"
SLACK_GROUP = r"^S[A-Z0-9]{2,20}$"


class RemediationAccess(Model):
    allowed_users: list[str] = Field(default_factory=list, max_length=200, description="Slack user ids (U…/W…)")
    allowed_groups: list[str] = Field(default_factory=list, max_length=50, description="Slack user group ids (S…)")


class RemediationView(RemediationAccess):
    enabled: bool
    role_name: str = Field(description="the role the customer template creates with EnableRemediation=true")


def _validate(access: RemediationAccess) -> None:
    import re

    from dd0c_cost.api.errors import ApiError

    bad = [u for u in access.allowed_users if not re.fullmatch(SLACK_USER, u)]
    bad += [g for g in access.allowed_groups if not re.fullmatch(SLACK_GROUP, g)]
    if bad:
        raise ApiError(
            400,
            "invalid_request",
            f"not Slack user (U…) or user group (S…) ids: {', '.join(bad[:5])}",
            [{"field": "body", "message": "Slack ids"}],
        )


def _view(conn) -> RemediationView:
    settings = store.settings(conn)
    return RemediationView(
        enabled=settings is not None,
        allowed_users=list(settings.allowed_users) if settings else [],
        allowed_groups=list(settings.allowed_groups) if settings else [],
        role_name=REMEDIATOR_ROLE_NAME,
    )


@router.get("/v1/remediation")
def get_remediation() -> RemediationView:
    tenant_id = authenticated_tenant(router.current_event)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        return _view(conn)


@router.put("/v1/remediation")
def put_remediation(access: RemediationAccess) -> RemediationView:
    _validate(access)
    tenant_id = authenticated_tenant(router.current_event, write=True)
    conn = get_connection()
    with tenant_transaction(conn, tenant_id):
        if access.allowed_users or access.allowed_groups:
            store.set_settings(
                conn, tenant_id, allowed_users=access.allowed_users, allowed_groups=access.allowed_groups, by="api"
            )
        else:
            store.disable(conn)
        governance.audit(
            conn,
            tenant_id,
            "remediation.access",
            actor="api",
            source="api",
            reason="who may remediate from Slack",
            detail={"users": access.allowed_users, "groups": access.allowed_groups},
        )
        return _view(conn)


__all__ = ["router"]
