"""The remediations queue: one message per confirmed remediation, its own message group (a
remediation waiting for AWS never holds back another), deduplicated by the request id."""

from __future__ import annotations

from dd0c_cost import queues
from dd0c_cost.events.messages import RemediationMessage
from dd0c_cost.remediation.store import Remediation
from dd0c_cost.topology import REMEDIATIONS


def enqueue(request: Remediation) -> None:
    message = RemediationMessage(tenant_id=request.tenant_id, remediation_id=request.id)
    queues.send(
        REMEDIATIONS,
        message.model_dump_json(),
        group=str(request.id),
        deduplication=queues.dedup_id("remediation", request.id),
    )
