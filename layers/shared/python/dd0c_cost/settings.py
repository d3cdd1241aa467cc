"""Typed settings, read from the environment once, lazily (never at import time).

A plain pydantic model filled from ``os.environ`` (names case-insensitive; a field's alias, when
it has one, is its variable's name), not pydantic-settings: that package imports botocore and its
own sources at import time, about a second of every Lambda's cold start for what a dictionary
comprehension does here. Every value is a scalar; keyword arguments override the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from dd0c_cost.model import Model


def default_data_dir() -> Path:
    """Per-user data directory (XDG) for the embedded database, outbox and rejects."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dd0c-cost"


class Settings(Model):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(), **{_env_key(k): v for k, v in values.items()}})

    # PostgreSQL. Unset: the CLI starts its own embedded server (dd0c_cost_tools.local.embedded_pg).
    database_url: str | None = None
    # In AWS: Secrets Manager secrets (RDS secret JSON: host, port, username, password, dbname).
    # The app secret is the runtime login; the admin secret is used only by the migrate function.
    database_secret_arn: str | None = None
    database_admin_secret_arn: str | None = None
    # The logins of the functions with a role of their own (topology.DATABASE_ROLES) come to the
    # migrate function as DATABASE_<ROLE>_SECRET_ARN (DatabaseRoleSpec.secret_env).
    # Role every runtime transaction runs as; it is subject to row-level security.
    database_app_role: str = "dd0c_app"

    data_dir: Path = Field(default_factory=default_data_dir, alias="DD0C_DATA_DIR")

    # Queue URLs come from QUEUE_URL_<NAME> for every queue of the topology (queue_url_env_var):
    # the CDK sets them for a function's output queues, the local runner to moto queue URLs.
    _queue_urls: dict[str, str] = PrivateAttr(default_factory=dict)
    # Where deterministic rejects go in AWS: the ingest queue's DLQ, with the reason attached.
    rejects_queue_url: str | None = None

    # Slack. With neither a bot token nor an OAuth app configured, messages go to the outbox file.
    slack_api_base_url: str = "https://slack.com/api/"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    # In AWS: a Secrets Manager secret {"signing_secret", "client_id", "client_secret"} (and, for
    # single-workspace mode, "bot_token" and "tenant"), read on first use.
    slack_secret_arn: str | None = None
    slack_channel: str = "#cost-alerts"
    outbox_path: Path | None = Field(default=None, alias="DD0C_OUTBOX_PATH")
    # Single-workspace mode (demo, self-hosters): SLACK_BOT_TOKEN serves this one tenant (by
    # name) and no other; SLACK_TEAM_ID (else auth.test) is the workspace its clicks come from.
    slack_tenant: str | None = None
    slack_team_id: str | None = None
    slack_enterprise_id: str | None = None
    # Multi-workspace mode: the Slack app's OAuth credentials (GET /slack/install).
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    # The public base URL of the HTTP API (redirect URL, links back); else the request's host.
    public_url: str | None = Field(default=None, alias="DD0C_PUBLIC_URL")
    dashboard_url: str | None = Field(default=None, alias="DD0C_DASHBOARD_URL")

    # The optional LLM explanation (dd0c_cost.explain): an OpenAI-compatible endpoint. In AWS the key
    # may also come from the Slack secret ("llm_api_key"). Any of the three unset: no explanations.
    llm_base_url: str | None = Field(default=None, alias="DD0C_LLM_BASE_URL")
    llm_model: str | None = Field(default=None, alias="DD0C_LLM_MODEL")
    llm_api_key: str | None = Field(default=None, alias="DD0C_LLM_API_KEY")

    # Secrets at rest (bot tokens, ticket credentials): a KMS key in AWS, else a key file in the
    # data directory (crypto.LocalKeySealer).
    kms_key_id: str | None = Field(default=None, alias="DD0C_KMS_KEY_ID")

    # Scoring: process-wide defaults (scoring.config.config_from_settings); per-tenant overrides
    # live in dd0c.tenant_settings (`dd0c-cost tenants configure`).
    min_samples_for_zscore: int = Field(default=5, alias="DD0C_MIN_SAMPLES")
    zscore_threshold: float = Field(default=3.0, alias="DD0C_ZSCORE_THRESHOLD")
    alert_floor_usd_per_hour: float = Field(default=1.0, alias="DD0C_ALERT_FLOOR_USD_PER_HOUR")
    cold_start_floor_usd_per_hour: float = Field(default=5.0, alias="DD0C_COLD_START_FLOOR_USD_PER_HOUR")

    # Onboarding: what `accounts connect` hands a customer (the central bus, our account, and
    # where the customer template is published).
    central_bus_arn: str | None = Field(default=None, alias="DD0C_CENTRAL_BUS_ARN")
    dd0c_account_id: str | None = Field(default=None, alias="DD0C_ACCOUNT_ID")
    onboarding_template_url: str | None = Field(default=None, alias="DD0C_ONBOARDING_TEMPLATE_URL")

    # Governance: the mode of a tenant that never chose one (shadow | audit | enforce).
    default_governance_mode: Literal["shadow", "audit", "enforce"] = Field(
        default="audit", alias="DD0C_DEFAULT_GOVERNANCE_MODE"
    )

    # Limits.
    ingest_max_records: int = 500
    ingest_max_body_bytes: int = 1_000_000

    def model_post_init(self, context: object, /) -> None:
        from dd0c_cost.topology_names import QUEUE_NAMES, queue_url_env_var

        environ = {key.upper(): value for key, value in os.environ.items()}
        for queue_name in QUEUE_NAMES:
            url = environ.get(queue_url_env_var(queue_name))
            if url:
                self._queue_urls[queue_name] = url

    def queue_url(self, queue_name: str) -> str:
        url = self._queue_urls.get(queue_name)
        if not url:
            from dd0c_cost.topology_names import queue_url_env_var

            raise RuntimeError(f"queue URL for {queue_name!r} is not configured ({queue_url_env_var(queue_name)})")
        return url

    def resolved_outbox_path(self) -> Path:
        return self.outbox_path or (self.data_dir / "slack-outbox.jsonl")

    @property
    def slack_configured(self) -> bool:
        """True when this deployment talks to Slack at all (an env token or an OAuth app); False
        (the demo): every message goes to the outbox file."""
        return bool(self.slack_bot_token or self.slack_client_id)


def _env_key(name: str) -> str:
    """The key a field is validated under: its alias if it has one, else its name."""
    field = Settings.model_fields.get(name)
    return (field.alias or name) if field is not None else name


@lru_cache(maxsize=1)
def _environment_names() -> dict[str, str]:
    """lower-case variable name -> the key it fills (alias or field name)."""
    return {(f.alias or name).lower(): (f.alias or name) for name, f in Settings.model_fields.items()}


def _from_environment() -> dict[str, str]:
    names = _environment_names()
    return {names[k.lower()]: v for k, v in os.environ.items() if k.lower() in names}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings()
    if settings.slack_secret_arn:
        settings = _with_slack_secret(settings)
    return settings


def _with_slack_secret(settings: Settings) -> Settings:
    import json

    from aws_lambda_powertools.utilities.parameters import get_secret

    secret = json.loads(get_secret(settings.slack_secret_arn, max_age=300))
    return settings.model_copy(
        update={
            "slack_bot_token": settings.slack_bot_token or secret.get("bot_token") or None,
            "slack_signing_secret": settings.slack_signing_secret or secret.get("signing_secret"),
            "slack_client_id": settings.slack_client_id or secret.get("client_id") or None,
            "slack_client_secret": settings.slack_client_secret or secret.get("client_secret") or None,
            "slack_tenant": settings.slack_tenant or secret.get("tenant") or None,
            "llm_api_key": settings.llm_api_key or secret.get("llm_api_key") or None,
        }
    )


def env_var(field: str) -> str:
    """The environment variable that sets a ``Settings`` field: the one name the CDK, the local
    runner and the settings share (queue URLs: ``topology.queue_url_env_var``)."""
    info = Settings.model_fields[field]
    return info.alias or field.upper()


def reset_settings() -> None:
    """For the local runner and tests, after they change the environment."""
    get_settings.cache_clear()
