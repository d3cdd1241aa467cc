"""A tenant's installed Slack bot as the functions that post use it: its bot token opened from its
sealed form, which workspace it covers, and the logger for the HTTP clients that carry tokens.

Apart from ``notify.oauth`` (the install flow, on slack_sdk's OAuth stores), which no function that
posts to Slack needs: importing the flow cost their cold start and first call slack_sdk's OAuth
package (docs/decisions.md: "What a Slack post needs, and nothing else").
"""

from __future__ import annotations

import logging
from uuid import UUID

from dd0c_cost.crypto import Redacted, Sealer, get_sealer, secret_context
from dd0c_cost.notify.store import InstallationRow

TOKEN_PURPOSE = "slack_bot_token"  # the sealed token's context: {tenant_id, purpose}


def quiet_logger() -> logging.Logger:
    """A logger for Slack clients that handle tokens: slack_sdk logs response bodies (which carry
    ``access_token`` for oauth.v2.access) at DEBUG, so this one never goes below INFO."""
    logger = logging.getLogger("dd0c_cost.slack_sdk")
    logger.setLevel(logging.INFO)
    return logger


def open_bot_token(tenant_id: UUID, row: InstallationRow, sealer: Sealer | None = None) -> Redacted:
    """The installation's bot token, opened (it was sealed for this tenant and purpose)."""
    if row.bot_token_sealed is None:  # a removed installation keeps no token
        raise ValueError(f"installation {row.id} has no bot token")
    return (sealer or get_sealer()).open(row.bot_token_sealed, context=secret_context(tenant_id, TOKEN_PURPOSE))


def workspace_matches(row: InstallationRow, *, enterprise_id: str | None, team_id: str | None) -> bool:
    """True when a request from (enterprise_id, team_id) comes from this installation's workspace.

    An org-wide (Grid) installation covers every workspace of its enterprise; a workspace
    installation covers its team only (and, inside a Grid, only when the enterprise agrees)."""
    if row.is_enterprise_install:
        return enterprise_id is not None and row.enterprise_id == enterprise_id
    if team_id is None or row.team_id != team_id:
        return False
    return row.enterprise_id is None or enterprise_id is None or row.enterprise_id == enterprise_id


__all__ = ["TOKEN_PURPOSE", "open_bot_token", "quiet_logger", "workspace_matches"]
