"""Request and response models of the HTTP API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dd0c_cost.scoring.models import Anomaly, AnomalyStatus


class IngestRejection(BaseModel):
    index: int = Field(description="position of the record in the request")
    reason: str
    detail: str


class IngestAccepted(BaseModel):
    accepted: int = Field(description="records queued for normalisation")
    rejected: list[IngestRejection] = Field(default_factory=list)


class AnomalyList(BaseModel):
    anomalies: list[Anomaly]


class StatusChange(BaseModel):
    """A person's verdict on an anomaly; "expected" and "false_positive" teach the scorer."""

    status: AnomalyStatus
    by: str = Field(default="api", max_length=200, description="who decided (shown in Slack and kept as feedback)")


class AccountRequest(BaseModel):
    """A tenant asks to connect one of its AWS accounts; an operator approves it."""

    account_id: str = Field(pattern=r"^\d{12}$")
    regions: list[str] = Field(min_length=1, max_length=40, description="regions whose CloudTrail events to forward")


class FieldError(BaseModel):
    field: str = Field(description="where: e.g. 'query.limit' or 'body.reason'")
    message: str


class ErrorBody(BaseModel):
    """The one error shape of every route: a stable machine code, words for people, and for
    invalid input which fields were wrong."""

    error: str = Field(description="stable code, e.g. invalid_request, not_found, read_only_key")
    message: str
    detail: list[FieldError] = Field(default_factory=list)
