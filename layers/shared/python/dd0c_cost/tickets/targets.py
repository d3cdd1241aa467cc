"""Where a tenant's tickets go: Jira Cloud, GitHub Issues, or a generic webhook signed with
HMAC-SHA256. The non-secret part of a target is plain config; its credential is sealed at rest
(``dd0c_cost.crypto``, context ``{tenant_id, purpose: "ticket_target:<name>"}``) and only opened
by the ticket worker, just before the call.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import ConfigDict, Field, HttpUrl, field_validator

from dd0c_cost.crypto import Redacted, Sealer, get_sealer, secret_context
from dd0c_cost.db.connection import Connection
from dd0c_cost.model import Model

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class JiraConfig(Model):
    """Jira Cloud, REST API v3. ``auth``: "basic" (Atlassian account email + API token) or
    "bearer" (an OAuth 2.0 (3LO) access token; ``base_url`` is then
    ``https://api.atlassian.com/ex/jira/<cloud id>`` and ``site_url`` the browse site)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["jira"] = "jira"
    base_url: HttpUrl
    site_url: HttpUrl | None = Field(default=None, description="where issues are browsed, if not base_url")
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,29}$", description="project key, e.g. OPS")
    issue_type: str = Field(default="Task", min_length=1, max_length=60)
    auth: Literal["basic", "bearer"] = "basic"
    email: str | None = Field(default=None, max_length=200, description="basic auth: the token's Atlassian account")
    labels: list[str] = Field(default_factory=lambda: ["dd0c-cost"], max_length=10)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError("not an email address")
        return value


class GitHubConfig(Model):
    """GitHub Issues. ``auth``: "token" (a fine-grained token with Issues: write) or "app" (a
    GitHub App: ``app_id`` + ``installation_id``; the sealed credential is the App's private key)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["github"] = "github"
    # validate_default: the default is then an HttpUrl like any given value, not a str that the
    # JSON serialiser warns about on every dump of a config that leaves it out.
    api_url: HttpUrl = Field(default="https://api.github.com", validate_default=True)
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$", description="owner/name")
    auth: Literal["token", "app"] = "token"
    app_id: int | None = None
    installation_id: int | None = None
    labels: list[str] = Field(default_factory=lambda: ["dd0c-cost"], max_length=10)


class WebhookConfig(Model):
    """A generic webhook: dd0c POSTs the ticket as JSON with ``X-Dd0c-Signature:
    sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``, ``X-Dd0c-Timestamp`` and
    ``Idempotency-Key`` (the ticket id). It may answer ``{"key": …, "url": …}``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["webhook"] = "webhook"
    url: HttpUrl


TargetConfig = Annotated[JiraConfig | GitHubConfig | WebhookConfig, Field(discriminator="kind")]


class Target(Model):
    """A configured target as the API shows it: never the credential."""

    name: str = Field(pattern=NAME_PATTERN)
    config: TargetConfig
    is_default: bool = False

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def project(self) -> str | None:
        if isinstance(self.config, JiraConfig):
            return self.config.project
        if isinstance(self.config, GitHubConfig):
            return self.config.repo
        return None


def _purpose(name: str) -> str:
    return f"ticket_target:{name}"


def _target(row: dict) -> Target:
    return Target(name=row["name"], config=row["config"], is_default=row["is_default"])


def list_targets(conn: Connection) -> list[Target]:
    rows = conn.execute(
        """SELECT name, config, is_default FROM dd0c.ticket_targets WHERE tenant_id = dd0c.current_tenant()
           ORDER BY is_default DESC, name"""
    ).fetchall()
    return [_target(r) for r in rows]


def get_target(conn: Connection, name: str) -> Target | None:
    row = conn.execute(
        "SELECT name, config, is_default FROM dd0c.ticket_targets WHERE tenant_id = dd0c.current_tenant() AND name = %s",
        [name],
    ).fetchone()
    return _target(row) if row else None


def set_target(
    conn: Connection,
    tenant_id: UUID,
    target: Target,
    credential: str,
    *,
    by: str,
    sealer: Sealer | None = None,
) -> Target:
    """Create or replace a target (inside the tenant's transaction). The first target, or one
    marked default, becomes the default."""
    if not credential:
        raise ValueError("a ticket target needs its credential (API token, GitHub token or App key, or webhook secret)")
    sealed = (sealer or get_sealer()).seal(credential, context=secret_context(tenant_id, _purpose(target.name)))
    has_default = conn.execute(
        "SELECT 1 FROM dd0c.ticket_targets WHERE tenant_id = %s AND is_default AND name <> %s", [tenant_id, target.name]
    ).fetchone()
    make_default = target.is_default or not has_default
    if make_default:
        conn.execute(
            "UPDATE dd0c.ticket_targets SET is_default = false WHERE tenant_id = %s AND is_default", [tenant_id]
        )
    conn.execute(
        """INSERT INTO dd0c.ticket_targets (tenant_id, name, kind, config, secret_sealed, is_default, updated_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, name) DO UPDATE SET kind = EXCLUDED.kind, config = EXCLUDED.config,
               secret_sealed = EXCLUDED.secret_sealed, is_default = EXCLUDED.is_default,
               updated_by = EXCLUDED.updated_by, updated_at = now()""",
        [
            tenant_id,
            target.name,
            target.kind,
            Jsonb(json.loads(target.config.model_dump_json())),
            sealed,
            make_default,
            by,
        ],
    )
    return target.model_copy(update={"is_default": make_default})


def delete_target(conn: Connection, name: str) -> bool:
    row = conn.execute(
        "DELETE FROM dd0c.ticket_targets WHERE tenant_id = dd0c.current_tenant() AND name = %s RETURNING name", [name]
    ).fetchone()
    return row is not None


def open_credential(conn: Connection, tenant_id: UUID, name: str, *, sealer: Sealer | None = None) -> Redacted:
    row = conn.execute(
        "SELECT secret_sealed FROM dd0c.ticket_targets WHERE tenant_id = %s AND name = %s", [tenant_id, name]
    ).fetchone()
    if row is None:
        raise LookupError(f"ticket target {name!r} is gone")
    return (sealer or get_sealer()).open(bytes(row["secret_sealed"]), context=secret_context(tenant_id, _purpose(name)))


def valid_name(name: str) -> bool:
    return bool(re.fullmatch(NAME_PATTERN, name))


__all__ = [
    "GitHubConfig",
    "JiraConfig",
    "Target",
    "TargetConfig",
    "WebhookConfig",
    "delete_target",
    "get_target",
    "list_targets",
    "open_credential",
    "set_target",
]
