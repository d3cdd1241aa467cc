"""Response and request bodies of the dashboard API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from dd0c_cost.model import Model
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus, Severity

SortKey = Literal["detected_at", "-detected_at", "estimated_hourly_usd", "-estimated_hourly_usd", "score", "-score"]
Dimension = Literal["service", "account", "region"]


class AnomalyRow(Anomaly):
    notify_withheld: Literal["shadow", "panic"] | None = Field(
        default=None, description="why nobody was notified (governance), if so"
    )
    delivery_status: Literal["pending", "slack", "outbox", "undelivered"] = Field(
        default="pending", description="what became of its Slack message (GET /v1/anomalies/{id} has the rest)"
    )
    delivery_detail: str | None = Field(
        default=None,
        description="delivered: the route that chose the channel; undelivered: why (slack_not_installed, "
        "slack_uninstalled, slack_tokens_revoked, no_route, slack:<error>)",
    )
    ticket_status: Literal["queued", "created", "failed"] | None = Field(
        default=None, description="its ticket (Create ticket in Slack), if one was asked for"
    )
    ticket_key: str | None = Field(default=None, description="PROJ-123, owner/repo#42, or what the webhook answered")
    ticket_url: str | None = None


class AnomalyPage(Model):
    anomalies: list[AnomalyRow]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class CostEventView(Model):
    event_id: str
    event_time: datetime
    event_name: str
    event_source: str
    account_id: str
    region: str
    service: str
    resource_type: str
    resource_ids: list[str]
    action: str
    quantity: float
    actor: str
    estimated_usd_per_hour: float | None
    score: float | None
    cloudtrail_url: str = Field(description="the event in the AWS CloudTrail console")


class TimelineEntry(Model):
    at: datetime = Field(description="event time (events, detection) or when it was recorded (people, governance)")
    kind: Literal["event", "detected", "notified", "withheld", "status", "audit"]
    text: str
    actor: str | None = None


class Links(Model):
    console: str
    slack: dict | None = Field(default=None, description="channel and message ts of the Slack message, if posted")
    resources: list[dict] = Field(default_factory=list, description="AWS console links of the resources")
    tickets: list[dict] = Field(default_factory=list)


class AuditEntryView(Model):
    id: int
    at: datetime
    recorded_at: datetime
    actor: str
    source: str
    action: str
    subject: str
    state: str | None
    reason: str
    detail: dict
    scope: Literal["tenant", "global"]


class AnomalyDetail(Model):
    anomaly: AnomalyRow
    monthly_usd: float = Field(description="$/h x 730")
    events: list[CostEventView]
    timeline: list[TimelineEntry]
    links: Links
    audit: list[AuditEntryView]


class SpendGroup(Model):
    key: str
    usd_per_hour: float


class SpendNow(Model):
    at: datetime | None = Field(description="the tenant's clock: event time of the newest event")
    total_usd_per_hour: float
    by: Dimension
    groups: list[SpendGroup]


class SpendPoint(Model):
    t: datetime
    usd_per_hour: float


class SpendSeries(Model):
    by: Dimension | None
    key: str | None
    start: datetime
    end: datetime
    points: list[SpendPoint]
    anomalies: list[dict] = Field(
        description="anomalies in the range, to mark on the plot: id, t, severity, usd_per_hour"
    )


class BaselineView(Model):
    series_key: str
    level_usd_per_hour: float
    mean_usd_per_hour: float
    stddev_usd_per_hour: float
    samples: int
    weight_hours: float
    first_event_at: datetime | None
    last_event_at: datetime | None


class AccountView(Model):
    account_id: str
    regions: list[str]
    approved: bool
    requested_via: str
    last_event_at: datetime | None
    events_last_24h: int
    events_per_day_7d: float
    flow: Literal["flowing", "quiet", "stale", "never", "pending"] = Field(
        description="flowing: an event in the last 24 h of the tenant's clock; quiet: in 7 days; stale: older; "
        "never: no event yet; pending: awaiting operator approval"
    )


class AccountList(Model):
    clock: datetime | None
    accounts: list[AccountView]


class Summary(Model):
    clock: datetime | None
    open_by_severity: dict[str, int]
    open_usd_per_hour: float = Field(description="$/h of open and acknowledged anomalies")
    caught_usd_per_month: float = Field(description="$/h of every anomaly in the last 30 days x 730")
    saved_usd: float = Field(
        description="projected 30-day savings: anomalies whose resources were stopped or "
        "deleted after detection, $/h x hours of the 30 days left"
    )
    saved_anomalies: int
    anomalies_30d: int
    spend_usd_per_hour: float
    mode: str
    panic: bool
    global_panic: bool


class GovernanceView(Model):
    model_config = ConfigDict(use_enum_values=True)

    clock: datetime | None
    mode: Literal["shadow", "audit", "enforce"]
    mode_since: datetime | None
    default_mode: bool = Field(description="true when the tenant never chose a mode")
    panic: bool
    global_panic: bool
    rules: dict[str, str]
    policy: dict


class ModeChange(Model):
    mode: Literal["shadow", "audit", "enforce"] | None = Field(description="null: the rule inherits the tenant's mode")
    rule: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    reason: str = Field(min_length=1, max_length=2000)
    by: str = Field(default="api", min_length=1, max_length=200)


class PanicChange(Model):
    on: bool
    reason: str = Field(min_length=1, max_length=2000)
    by: str = Field(default="api", min_length=1, max_length=200)


class PolicyChange(Model):
    model_config = ConfigDict(extra="forbid")

    auto_promote: bool | None = None
    promote_after_days: float | None = Field(default=None, ge=1, le=365)
    promote_max_mode: Literal["shadow", "audit", "enforce"] | None = None
    min_reviewed: int | None = Field(default=None, ge=1, le=100000)
    fp_rate_ceiling: float | None = Field(default=None, ge=0, le=1)
    auto_demote: bool | None = None
    demote_window_days: float | None = Field(default=None, ge=1, le=90)
    demote_min_reviewed: int | None = Field(default=None, ge=1, le=100000)
    demote_fp_rate: float | None = Field(default=None, ge=0, le=1)


class ScoringChange(Model):
    model_config = ConfigDict(extra="forbid")

    alert_floor_usd_per_hour: float | None = Field(default=None, ge=0, le=1_000_000)
    score_threshold: float | None = Field(default=None, gt=0, le=1)
    cold_start_days: float | None = Field(default=None, ge=0, le=90)
    cold_start_usd_per_hour: float | None = Field(default=None, ge=0, le=1_000_000)
    cold_start_resources: float | None = Field(default=None, ge=0, le=1_000_000)
    burst_gap_s: float | None = Field(default=None, gt=0, le=21600)


class SettingsView(Model):
    scoring: dict = Field(description="the tenant's scoring overrides (absent: the default)")
    scoring_defaults: dict
    governance: GovernanceView
    routing: dict = Field(default_factory=dict, description="Slack routing (issue 10)")
    remediators: list[str] = Field(default_factory=list, description="who may remediate (issue 10)")


class SettingsChange(Model):
    model_config = ConfigDict(extra="forbid")

    scoring: ScoringChange | None = None
    governance_policy: PolicyChange | None = None
    reset: list[str] = Field(default_factory=list, max_length=20, description="setting names to reset to the default")
    by: str = Field(default="api", min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)


class StatusChangeBody(Model):
    model_config = ConfigDict(extra="forbid")

    status: AnomalyStatus
    by: str = Field(default="api", min_length=1, max_length=200)
    snooze_hours: float | None = Field(default=None, gt=0, le=24 * 90, description="with status=snoozed")


__all__ = [name for name in dir() if name[0].isupper()]
_ = (UUID, Severity)
