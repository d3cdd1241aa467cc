"""The messages that ask a worker to act on something already stored: notify an anomaly, create
a ticket, run a remediation. Apart from ``events.models`` (the cost event and the ingest message):
the notify, tickets and remediate functions import only these, not the cost event's models."""

from __future__ import annotations

from uuid import UUID

from pydantic import ConfigDict, Field

from dd0c_cost.model import Model


class NotifyMessage(Model):
    model_config = ConfigDict(extra="forbid")

    tenant_id: UUID
    anomaly_id: UUID
    revision: int = 1
    redeliver: bool = Field(
        default=False,
        description="sent again because the tenant installed Slack or changed its routes: posted if the "
        "anomaly is still undelivered, ignored otherwise",
    )


class TicketMessage(Model):
    """A ticket someone asked for in Slack, waiting to be created in its target."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: UUID
    ticket_id: UUID


class RemediationMessage(Model):
    """A remediation someone confirmed in Slack, waiting to run in the customer's account."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: UUID
    remediation_id: UUID
