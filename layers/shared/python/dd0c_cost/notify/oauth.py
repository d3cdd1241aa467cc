"""Per-tenant Slack installation: Slack's OAuth v2 flow with ``slack_sdk.oauth``, its two stores
on PostgreSQL (under row-level security) and the bot token sealed at rest.

The flow:

1. A tenant (API key: ``POST /v1/slack/install``) or an operator (``dd0c-cost slack install-link``)
   asks for an install link. It carries a fresh OAuth state bound to that tenant (only its
   sha256 is stored; it expires after ``STATE_TTL_S``).
2. ``GET /slack/install?state=…`` checks the state is alive, pins it to the browser in a cookie,
   and redirects to Slack's consent screen (``AuthorizeUrlGenerator``).
3. Slack redirects to ``GET /slack/oauth_redirect?code=…&state=…``: the state must match the
   browser's cookie and be alive; it is consumed (once), the code is exchanged with
   ``oauth.v2.access``, and the installation is saved for the state's tenant, replacing any
   earlier one. The bot token is sealed (``dd0c_cost.crypto``) before it reaches the database.

A tenant therefore only ever gets an installation through a state it asked for, and the
installation store is always bound to one tenant: nothing here can deliver one tenant's alerts
into another tenant's workspace.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from slack_sdk.oauth import AuthorizeUrlGenerator, InstallationStore, OAuthStateStore, RedirectUriPageRenderer
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation

from dd0c_cost.crypto import Sealer, get_sealer, secret_context
from dd0c_cost.db.connection import Connection, tenant_transaction
from dd0c_cost.notify import store
from dd0c_cost.notify.installation import TOKEN_PURPOSE, open_bot_token, quiet_logger, workspace_matches
from dd0c_cost.settings import Settings

# What the bot needs: post and update messages (chat:write), post to public channels it was not
# invited to (chat:write.public), let the installer pick the default channel on the consent
# screen (incoming-webhook), and resolve the user groups a tenant allows to remediate.
BOT_SCOPES = ("chat:write", "chat:write.public", "incoming-webhook", "usergroups:read")
STATE_TTL_S = 600
STATE_COOKIE = "dd0c-slack-oauth-state"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class InstallError(Exception):
    """The install cannot proceed; ``status`` is the HTTP status, ``reason`` is shown to the person."""

    def __init__(self, reason: str, status: int, code: str) -> None:
        super().__init__(reason)
        self.reason, self.status, self.code = reason, status, code


# --- the two slack_sdk stores ------------------------------------------------------------------
class PostgresOAuthStateStore(OAuthStateStore):
    """OAuth state in ``dd0c.slack_oauth_states``: issued for one tenant, valid once, expiring."""

    def __init__(self, conn: Connection, *, expiration_seconds: int = STATE_TTL_S) -> None:
        self.conn = conn
        self.expiration_seconds = expiration_seconds
        self._logger = logging.getLogger(__name__)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    def issue(self, *args: Any, tenant_id: UUID | None = None, by: str = "api", **kwargs: Any) -> str:
        if tenant_id is None:
            raise ValueError("an install state belongs to a tenant: issue(tenant_id=...)")
        state = secrets.token_urlsafe(32)
        expires_at = datetime.now(UTC) + timedelta(seconds=self.expiration_seconds)
        with tenant_transaction(self.conn, tenant_id):
            store.insert_state(self.conn, tenant_id, state, by=by, expires_at=expires_at)
        return state

    def peek(self, state: str) -> UUID | None:
        return store.state_tenant(self.conn, state)

    def consume_for_tenant(self, state: str) -> UUID | None:
        return store.consume_state(self.conn, state)

    def consume(self, state: str) -> bool:
        return self.consume_for_tenant(state) is not None


class PostgresInstallationStore(InstallationStore):
    """slack_sdk's installation store, bound to one tenant: what it saves and finds is that
    tenant's (row-level security), and bot tokens are sealed at rest."""

    def __init__(self, conn: Connection, tenant_id: UUID, sealer: Sealer | None = None) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.sealer = sealer or get_sealer()
        self._logger = logging.getLogger(__name__)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    def _context(self) -> dict[str, str]:
        return secret_context(self.tenant_id, TOKEN_PURPOSE)

    def save(self, installation: Installation) -> store.InstallationRow:
        if not installation.bot_token:
            raise ValueError("the installation has no bot token (the app needs bot scopes)")
        fields = {
            "app_id": installation.app_id,
            "enterprise_id": installation.enterprise_id,
            "enterprise_name": installation.enterprise_name,
            "team_id": installation.team_id,
            "team_name": installation.team_name,
            "is_enterprise_install": bool(installation.is_enterprise_install),
            "bot_id": installation.bot_id,
            "bot_user_id": installation.bot_user_id,
            "bot_scopes": list(installation.bot_scopes or []),
            "installer_user_id": installation.user_id,
            "default_channel_id": installation.incoming_webhook_channel_id,
            "default_channel_name": installation.incoming_webhook_channel,
        }
        sealed = self.sealer.seal(installation.bot_token, context=self._context())
        with tenant_transaction(self.conn, self.tenant_id):
            return store.save_installation(self.conn, self.tenant_id, fields, sealed)

    def save_bot(self, bot: Bot) -> None:
        self.save(
            Installation(
                app_id=bot.app_id,
                enterprise_id=bot.enterprise_id,
                enterprise_name=bot.enterprise_name,
                team_id=bot.team_id,
                team_name=bot.team_name,
                bot_token=bot.bot_token,
                bot_id=bot.bot_id,
                bot_user_id=bot.bot_user_id,
                bot_scopes=bot.bot_scopes,
                user_id="",
                is_enterprise_install=bot.is_enterprise_install,
            )
        )

    def active(self) -> store.InstallationRow | None:
        with tenant_transaction(self.conn, self.tenant_id):
            return store.active_installation(self.conn)

    def open_token(self, row: store.InstallationRow):
        """The row's bot token, opened (a ``Redacted``)."""
        return open_bot_token(self.tenant_id, row, self.sealer)

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        row = self.active()
        if row is None or not workspace_matches(row, enterprise_id=enterprise_id, team_id=team_id):
            return None
        return Bot(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id,
            enterprise_name=row.enterprise_name,
            team_id=row.team_id,
            team_name=row.team_name,
            bot_token=self.open_token(row).reveal(),
            bot_id=row.bot_id or "",
            bot_user_id=row.bot_user_id or "",
            bot_scopes=row.bot_scopes,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        row = self.active()
        if row is None or not workspace_matches(row, enterprise_id=enterprise_id, team_id=team_id):
            return None
        if user_id is not None and user_id != row.installer_user_id:
            return None  # only bot installations are kept; user tokens are never requested
        return Installation(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id,
            enterprise_name=row.enterprise_name,
            team_id=row.team_id,
            team_name=row.team_name,
            bot_token=self.open_token(row).reveal(),
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            user_id=row.installer_user_id or "",
            is_enterprise_install=row.is_enterprise_install,
            incoming_webhook_channel_id=row.default_channel_id,
            incoming_webhook_channel=row.default_channel_name,
            installed_at=row.installed_at.timestamp(),
        )

    def _remove(self) -> None:
        with tenant_transaction(self.conn, self.tenant_id):
            store.remove_installation(self.conn)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._remove()

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self._remove()

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._remove()


# --- the flow --------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstallLink:
    url: str
    expires_at: datetime

    def as_json(self) -> dict:
        return {"install_url": self.url, "expires_at": self.expires_at.isoformat()}


@dataclass(frozen=True)
class InstallResult:
    tenant_id: UUID
    installation: store.InstallationRow
    page: str  # the HTML page shown to the installer


def require_oauth_app(settings: Settings) -> tuple[str, str]:
    if not settings.slack_client_id or not settings.slack_client_secret:
        raise InstallError(
            "this deployment has no Slack app configured (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET; see docs/deploy.md)",
            503,
            "slack_app_not_configured",
        )
    return settings.slack_client_id, settings.slack_client_secret


def create_install_link(
    conn: Connection, tenant_id: UUID, *, by: str, public_url: str, settings: Settings
) -> InstallLink:
    require_oauth_app(settings)
    state_store = PostgresOAuthStateStore(conn)
    state = state_store.issue(tenant_id=tenant_id, by=by)
    expires_at = datetime.now(UTC) + timedelta(seconds=state_store.expiration_seconds)
    return InstallLink(f"{public_url.rstrip('/')}{INSTALL_PATH}?state={state}", expires_at)


def authorize_url(conn: Connection, state: str | None, *, settings: Settings, redirect_uri: str) -> str:
    """Where ``GET /slack/install`` sends the browser: Slack's consent screen for this state."""
    client_id, _ = require_oauth_app(settings)
    if not state:
        raise InstallError(
            "open the install link dd0c gave you (it carries a state); this one has none", 400, "missing_state"
        )
    if PostgresOAuthStateStore(conn).peek(state) is None:
        raise InstallError("this install link has expired or was already used; ask for a new one", 410, "expired_state")
    generator = AuthorizeUrlGenerator(
        client_id=client_id,
        scopes=list(BOT_SCOPES),
        redirect_uri=redirect_uri,
        authorization_url=settings.slack_authorize_url,
    )
    return generator.generate(state)


def page_renderer() -> RedirectUriPageRenderer:
    return RedirectUriPageRenderer(install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH)


def complete_install(
    conn: Connection,
    *,
    code: str | None,
    state: str | None,
    cookie_state: str | None,
    error: str | None,
    settings: Settings,
    redirect_uri: str,
    sealer: Sealer | None = None,
) -> InstallResult:
    """Finish the install Slack redirected back with. Raises InstallError (nothing saved)."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client_id, client_secret = require_oauth_app(settings)
    if not state:
        raise InstallError("the redirect carries no state", 400, "missing_state")
    if not cookie_state or not secrets.compare_digest(cookie_state, state):
        # The browser that finishes the install must be the one that started it (CSRF).
        raise InstallError(
            "this browser did not start this install; open the install link again", 400, "state_mismatch"
        )
    tenant_id = PostgresOAuthStateStore(conn).consume_for_tenant(state)
    if tenant_id is None:
        raise InstallError("this install link has expired or was already used; ask for a new one", 410, "expired_state")
    if error:
        raise InstallError(f"Slack did not install the app ({error})", 400, "slack_declined")
    if not code:
        raise InstallError("the redirect carries no code", 400, "missing_code")

    base_url = (
        settings.slack_api_base_url if settings.slack_api_base_url.endswith("/") else settings.slack_api_base_url + "/"
    )
    client = WebClient(base_url=base_url, timeout=10, logger=quiet_logger())
    try:
        response = client.oauth_v2_access(
            client_id=client_id, client_secret=client_secret, code=code, redirect_uri=redirect_uri
        )
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        raise InstallError(
            f"Slack refused the code ({data.get('error') or 'unknown_error'})", 400, "slack_refused"
        ) from None

    installed_enterprise = response.get("enterprise") or {}
    installed_team = response.get("team") or {}
    installer = response.get("authed_user") or {}
    incoming_webhook = response.get("incoming_webhook") or {}
    installation = Installation(
        app_id=response.get("app_id"),
        enterprise_id=installed_enterprise.get("id"),
        enterprise_name=installed_enterprise.get("name"),
        team_id=installed_team.get("id"),
        team_name=installed_team.get("name"),
        bot_token=response.get("access_token"),
        bot_id=response.get("bot_id"),
        bot_user_id=response.get("bot_user_id"),
        bot_scopes=response.get("scope") or "",
        user_id=installer.get("id") or "",
        incoming_webhook_channel=incoming_webhook.get("channel"),
        incoming_webhook_channel_id=incoming_webhook.get("channel_id"),
        is_enterprise_install=bool(response.get("is_enterprise_install")),
        token_type=response.get("token_type"),
    )
    row = PostgresInstallationStore(conn, tenant_id, sealer).save(installation)
    page = page_renderer().render_success_page(
        app_id=installation.app_id or "",
        team_id=installation.team_id,
        is_enterprise_install=installation.is_enterprise_install,
        enterprise_url=installed_enterprise.get("url"),
    )
    return InstallResult(tenant_id=tenant_id, installation=row, page=page)


__all__ = [
    "BOT_SCOPES",
    "INSTALL_PATH",
    "REDIRECT_PATH",
    "STATE_COOKIE",
    "STATE_TTL_S",
    "InstallError",
    "InstallLink",
    "InstallResult",
    "PostgresInstallationStore",
    "PostgresOAuthStateStore",
    "authorize_url",
    "complete_install",
    "create_install_link",
    "page_renderer",
    "quiet_logger",
    "workspace_matches",
]
