"""What the scorer decides, as stored in the anomalies table and shown in Slack and the API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import ConfigDict, Field

from dd0c_cost.model import Model


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AnomalyStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    EXPECTED = "expected"
    FALSE_POSITIVE = "false_positive"


class ScoreComponent(Model):
    """One part of the score, with a reason a person can read at 3 a.m."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: float = Field(ge=0, le=1)
    reason: str


class Anomaly(Model):
    """An anomaly as the dashboard API, the CLI and Slack see it."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    tenant_id: UUID
    account_id: str
    region: str
    service: str
    resource_type: str
    resource_ids: list[str]
    event_ids: list[str] = Field(description="CloudTrail eventIDs that raised it")
    actor: str = Field(description="principal ARN or display name of who made the calls")
    detected_at: datetime = Field(description="event time of the (last) event that raised it")
    score: float = Field(ge=0, le=1)
    severity: Severity
    estimated_hourly_usd: float
    status: AnomalyStatus = AnomalyStatus.OPEN
    summary: str = Field(description="one line: who did what, where, for how much")
    components: list[ScoreComponent] = Field(default_factory=list)
    attributes: dict = Field(default_factory=dict, description="e.g. instance_type, quantity")
    snoozed_until: datetime | None = None
