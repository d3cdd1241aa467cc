"""Request and response models of the HTTP API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dd0c_cost.model import Model
from dd0c_cost.scoring.models import Anomaly, AnomalyStatus


class IngestRejection(Model):
    index: int = Field(description="position of the record in the request")
    reason: str
    detail: str


class IngestAccepted(Model):
    accepted: int = Field(description="records queued for normalisation")
    rejected: list[IngestRejection] = Field(default_factory=list)


class Delivery(Model):
    """What became of the anomaly's Slack message."""

    status: Literal["pending", "slack", "outbox", "undelivered"]
    detail: str | None = Field(
        default=None,
        description="delivered: the route that chose the channel; undelivered: why (slack_not_installed, "
        "slack_uninstalled, slack_tokens_revoked, no_route, slack:<error>)",
    )
    channel: str | None = None
    ts: str | None = Field(default=None, description="the Slack message timestamp")


class TicketView(Model):
    """The anomaly's ticket (one per anomaly)."""

    id: str
    status: Literal["queued", "created", "failed"]
    target: str
    kind: str
    project: str | None = None
    key: str | None = Field(default=None, description="PROJ-123, owner/repo#42, or what the webhook answered")
    url: str | None = None
    error: str | None = Field(default=None, description="the target's last refusal")
    attempts: int


class RemediationRequestView(Model):
    id: str
    action: str
    status: Literal["requested", "confirmed", "running", "succeeded", "failed", "refused", "expired"]
    step: str | None = None
    resource_ids: list[str]
    requested_by: str
    confirmed_by: str | None = None
    error: str | None = None
    summary: str | None = None


class AnomalyView(Anomaly):
    delivery: Delivery
    ticket: TicketView | None = None
    remediations: list[RemediationRequestView] = Field(default_factory=list)


class AnomalyList(Model):
    anomalies: list[Anomaly]


class StatusChange(Model):
    """A person's verdict on an anomaly; "expected" and "false_positive" teach the scorer."""

    status: AnomalyStatus
    by: str = Field(default="api", max_length=200, description="who decided (shown in Slack and kept as feedback)")


class AccountRequest(Model):
    """A tenant asks to connect one of its AWS accounts; an operator approves it."""

    account_id: str = Field(pattern=r"^\d{12}$")
    regions: list[str] = Field(min_length=1, max_length=40, description="regions whose CloudTrail events to forward")


class AccountName(Model):
    """The tenant's name for one of its accounts, shown in alerts ("prod-payments (111122223333)")."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100, description="null removes it")


class FieldError(Model):
    field: str = Field(description="where: e.g. 'query.limit' or 'body.reason'")
    message: str


class ErrorBody(Model):
    """The one error shape of every route: a stable machine code, words for people, and for
    invalid input which fields were wrong."""

    error: str = Field(description="stable code, e.g. invalid_request, not_found, read_only_key")
    message: str
    detail: list[FieldError] = Field(default_factory=list)
