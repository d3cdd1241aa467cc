"""Deploy-time configuration: CDK context in, one validated, typed object out.

Every knob an operator can turn is a context key (``cdk.json`` or ``-c key=value``); nothing
here reads AWS or the environment, so synth needs no credentials and performs no lookups.
Values given on the command line arrive as strings, so each parser accepts both forms.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Aws
from aws_cdk import aws_logs as logs
from constructs import Node

from dd0c_cost.topology import TOPOLOGY, BucketTriggerSpec, Topology

REPO_ROOT = Path(__file__).resolve().parents[2]

# One architecture everywhere: the functions, both layers and scripts/build_deps_layer.sh
# (which downloads manylinux2014_aarch64 wheels). Graviton is ~20% cheaper per GB-second.
LAMBDA_ARCHITECTURE = "arm64"
LAMBDA_RUNTIME = "python3.11"  # Amazon Linux 2; the deps layer is built for cp311

DATABASE_NAME = "dd0c"  # matches the default in dd0c_cost.db.connection.resolve_database_url
DATABASE_ADMIN_USER = "dd0c_admin"
DATABASE_APP_LOGIN = "dd0c_app_login"
# The functions with a database role of their own log in as topology.DATABASE_ROLES[*].login.
DATABASE_PORT = 5432

BUILD_DEPS_SCRIPT = "scripts/build_deps_layer.sh"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$")
_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


# S3 bucket names: at most 63 characters. Ours end in -<12-digit account>-<region>, and the
# longest region name today is 14 characters (ap-southeast-N).
_BUCKET_NAME_MAX = 63
_BUCKET_SUFFIX_MAX = 1 + 12 + 1 + 14


def bucket_name(prefix: str, spec: BucketTriggerSpec) -> str:
    """``<prefix>-<name>-<account>-<region>``: globally unique without a lookup, and known
    before the bucket exists (see log_buckets.py for why that matters)."""
    return f"{prefix}-{spec.name}-{Aws.ACCOUNT_ID}-{Aws.REGION}"


class ConfigError(ValueError):
    """A context value is missing or malformed; the message says which key and how to fix it."""


@dataclass(frozen=True)
class DeployConfig:
    topology: Topology
    connected_account_ids: tuple[str, ...]
    organization_id: str | None
    alarm_email: str | None
    deps_layer_path: Path
    functions_path: Path
    name_prefix: str
    log_level: str
    log_retention_days: int
    slack_channel: str
    llm_base_url: str | None
    llm_model: str | None
    slack_secret_arn: str | None
    nat_gateways: int
    db_min_capacity: float
    db_max_capacity: float
    db_deletion_protection: bool
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    # X-Ray SDK subsegments in the functions (Powertools Tracer). Off by default: importing the SDK
    # costs ~0.8 s of every cold start, and Lambda's active tracing records each invocation anyway.
    xray_sdk: bool = False

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def bus_name(self) -> str:
        """topology.bus_name, unless a non-default prefix asks for a second copy in one account."""
        return self.topology.bus_name if self.name_prefix == self.topology.bus_name else self.name_prefix

    @classmethod
    def from_node(cls, node: Node, topology: Topology = TOPOLOGY) -> DeployConfig:
        def get(key: str) -> Any:
            return node.try_get_context(key)

        accounts = _string_list(get("connectedAccountIds"), "connectedAccountIds")
        for account in accounts:
            if not _ACCOUNT_ID.match(account):
                raise ConfigError(f"connectedAccountIds: {account!r} is not a 12-digit AWS account id")
        if len(set(accounts)) != len(accounts):
            raise ConfigError("connectedAccountIds: duplicate account ids")

        org = _optional_str(get("organizationId"))
        if org is not None and not _ORG_ID.match(org):
            raise ConfigError(f"organizationId: {org!r} is not an AWS Organizations id (o-xxxxxxxxxx)")

        email = _optional_str(get("alarmEmail"))
        if email is not None and "@" not in email:
            raise ConfigError(f"alarmEmail: {email!r} is not an email address")

        slack_secret_arn = _optional_str(get("slackSecretArn"))
        if slack_secret_arn is not None and not _SECRET_ARN.match(slack_secret_arn):
            raise ConfigError(
                "slackSecretArn must be a complete Secrets Manager ARN (ending in the 6-character suffix)"
            )

        prefix = _optional_str(get("namePrefix")) or topology.bus_name
        if not re.match(r"^[a-z][a-z0-9-]{1,30}$", prefix):
            raise ConfigError(f"namePrefix: {prefix!r} must be lower-case letters, digits and '-' (2-31 chars)")

        for bucket in topology.bucket_triggers:
            if len(prefix) + 1 + len(bucket.name) + _BUCKET_SUFFIX_MAX > _BUCKET_NAME_MAX:
                raise ConfigError(
                    f"namePrefix: {prefix!r} is too long for the S3 bucket name "
                    f"'{prefix}-{bucket.name}-<account>-<region>' (63 characters at most); shorten it"
                )

        log_level = (_optional_str(get("logLevel")) or "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ConfigError(f"logLevel: {log_level!r} is not a Python log level")

        db_min = _number(get("dbMinCapacity"), "dbMinCapacity", 0.5)
        db_max = _number(get("dbMaxCapacity"), "dbMaxCapacity", 4.0)
        if not (0 <= db_min <= db_max <= 256) or db_max < 1:
            raise ConfigError("dbMinCapacity/dbMaxCapacity: need 0 <= min <= max <= 256 ACU and max >= 1")

        retention_days = int(_number(get("logRetentionDays"), "logRetentionDays", 30))
        if retention_days not in _RETENTION:
            raise ConfigError(f"logRetentionDays: {retention_days} is not one of {sorted(_RETENTION)}")

        return cls(
            topology=topology,
            connected_account_ids=tuple(accounts),
            organization_id=org,
            alarm_email=email,
            deps_layer_path=_path(get("depsLayerPath") or "build/deps-layer"),
            functions_path=_path(get("functionsPath") or "functions"),
            name_prefix=prefix,
            log_level=log_level,
            log_retention_days=retention_days,
            slack_channel=_optional_str(get("slackChannel")) or "#cost-alerts",
            llm_base_url=_optional_str(get("llmBaseUrl")),
            llm_model=_optional_str(get("llmModel")),
            slack_secret_arn=slack_secret_arn,
            nat_gateways=int(_number(get("natGateways"), "natGateways", 1)),
            db_min_capacity=db_min,
            db_max_capacity=db_max,
            db_deletion_protection=_bool(get("dbDeletionProtection"), "dbDeletionProtection", True),
            api_throttle_rate_limit=int(_number(get("apiThrottleRateLimit"), "apiThrottleRateLimit", 50)),
            api_throttle_burst_limit=int(_number(get("apiThrottleBurstLimit"), "apiThrottleBurstLimit", 100)),
            xray_sdk=_bool(get("xraySdk"), "xraySdk", False),
        )


def _path(value: Any) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _string_list(value: Any, key: str) -> list[str]:
    """A JSON list, or a comma-separated string (both are natural on the command line)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{key}: not valid JSON: {exc}") from exc
        else:
            value = [part for part in (p.strip() for p in text.split(",")) if part]
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of strings")
    return [str(v).strip() for v in value]


def _number(value: Any, key: str, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {value!r} is not a number") from exc


def _bool(value: Any, key: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ConfigError(f"{key}: {value!r} is not true/false")
