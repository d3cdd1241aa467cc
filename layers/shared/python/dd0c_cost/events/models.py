"""The priced cost event (CostEvent v1) and the messages that carry records between stages.

The notify, ticket and remediation messages live in ``events.messages`` (their workers import
only them) and are re-exported here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from dd0c_cost.events.messages import NotifyMessage, RemediationMessage, TicketMessage
from dd0c_cost.model import Model

COST_EVENT_SCHEMA_VERSION = "1"
# Where a record came from (its Origin.source).
OriginSource = Literal["eventbridge", "api", "s3", "replay"]


class CostAction(StrEnum):
    """What the call did to spend: create/start add $/h, stop/delete remove it, modify changes it."""

    CREATE = "create"
    START = "start"
    MODIFY = "modify"
    STOP = "stop"
    DELETE = "delete"


class Actor(Model):
    """Who made the call, as CloudTrail's userIdentity says."""

    model_config = ConfigDict(frozen=True)

    principal_arn: str | None = None
    identity_type: str | None = None
    display_name: str = Field(description="short human name: user name, role session, or 'root'")
    account_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    session_issuer_arn: str | None = None


class PriceQuote(Model):
    """A unit price and where it came from."""

    model_config = ConfigDict(frozen=True)

    usd_per_hour: float | None = Field(description="per unit (one instance, one GB-month/730, ...); None if unknown")
    source: str = Field(description="price data source, e.g. 'karpenter', 'ec2instances', 'aws-price-list'")
    as_of: str = Field(description="date of the price data (YYYY-MM-DD)")
    estimated: bool = Field(default=False, description="derived (e.g. regional ratio) rather than a listed price")
    unit: str = "hour"


class CostEvent(Model):
    """CostEvent v1: what a CloudTrail call just started (or stopped) costing, who did it, where."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1"] = COST_EVENT_SCHEMA_VERSION
    tenant_id: UUID
    account_id: str = Field(pattern=r"^\d{12}$")
    region: str
    event_id: str = Field(min_length=1, max_length=128, description="CloudTrail eventID")
    event_time: datetime = Field(description="CloudTrail eventTime (UTC); drives every baseline and window")
    event_source: str
    event_name: str
    actor: Actor
    service: str = Field(description="e.g. 'ec2', 'rds'")
    resource_type: str = Field(description="e.g. 'ec2:instance'")
    resource_ids: list[str] = Field(default_factory=list)
    action: CostAction
    quantity: float = Field(ge=0, description="number of resources (or units) the call affected")
    attributes: dict[str, Any] = Field(default_factory=dict, description="sizing: instance type, tenancy, ...")
    unit_price: PriceQuote | None = None
    estimated_usd_per_hour: float | None = Field(
        default=None, description="signed change in spend rate: + for create/start, - for stop/delete"
    )
    estimated_usd_per_month: float | None = None
    price_unknown: bool = False

    @property
    def series_key(self) -> str:
        """The spend series this event belongs to (also the cost-events queue's message group)."""
        return f"{self.tenant_id}:{self.account_id}:{self.service}"


class Origin(Model):
    """Where a record came from, so a reject can point at its file and line."""

    model_config = ConfigDict(frozen=True)

    source: OriginSource = "eventbridge"
    file: str | None = None
    line: int | None = None


class IngestMessage(Model):
    """The body of an ingest-queue message sent by our own producers (API, S3, replay).

    EventBridge sends the bare envelope instead; ``parse_ingest_body`` accepts both.
    """

    model_config = ConfigDict(extra="forbid")

    tenant_id: UUID | None = Field(default=None, description="set when the producer authenticated a tenant")
    origin: Origin = Field(default_factory=Origin)
    record: Any = Field(description="a CloudTrail record or an EventBridge envelope, as received")


__all__ = [
    "COST_EVENT_SCHEMA_VERSION",
    "Actor",
    "CostAction",
    "CostEvent",
    "IngestMessage",
    "NotifyMessage",
    "Origin",
    "OriginSource",
    "PriceQuote",
    "RemediationMessage",
    "TicketMessage",
]
