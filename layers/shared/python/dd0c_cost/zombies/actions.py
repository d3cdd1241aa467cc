"""What people can do with a zombie finding from Slack, as one interface the Slack dispatch plugs in.

- Action ids (``ACTION_*``) and the button/select value: ``{"tenant_id": …, "zombie_id": …}``
  (the subject convention of ``notify.registry``: ``<kind>_id`` next to ``tenant_id``), plus
  ``snooze_seconds`` for the snooze options.
- ``apply_action(conn, tenant_id, zombie_id, action_id, user, snooze_seconds)``: the status change,
  at event time (the tenant's newest scan or event), through ``dal.set_status`` (history kept).
- ``subject_facts(finding)``: what a ticket or a remediation needs to know about the finding
  (title, summary, facts, resource), for the "zombie" subject kind of the action registry.
- ``remediation_plan(finding)``: what "remediate" would do, under the same rules as anomaly
  remediation: delete only after a final snapshot; RDS "stop" warns that AWS starts a stopped
  instance again after 7 days; resources managed elsewhere ("fix in owner") are never offered.

The status actions and the "zombie" subject are registered in ``notify.registry`` (loaded with
the built-in actions), so Slack clicks on the digest go through the same verified dispatch as
anomaly buttons: the workspace must be the tenant's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from uuid import UUID

from dd0c_cost.notify.registry import ActionContext, Reply, Subject, register_action, register_subject
from dd0c_cost.zombies.models import FindingStatus, ZombieFinding

ACTION_ACKNOWLEDGE: Final = "zombie_acknowledge"
ACTION_SNOOZE: Final = "zombie_snooze"
ACTION_IGNORE: Final = "zombie_ignore"
ACTION_REMEDIATED: Final = "zombie_remediated"
ACTION_IDS: Final = frozenset({ACTION_ACKNOWLEDGE, ACTION_SNOOZE, ACTION_IGNORE, ACTION_REMEDIATED})
SUBJECT_KIND: Final = "zombie"

SNOOZE_OPTIONS: Final[dict[str, int]] = {"7 days": 7 * 86400, "30 days": 30 * 86400, "90 days": 90 * 86400}
DEFAULT_SNOOZE_SECONDS: Final = 7 * 86400
_STATUS = {
    ACTION_ACKNOWLEDGE: FindingStatus.ACKNOWLEDGED,
    ACTION_SNOOZE: FindingStatus.SNOOZED,
    ACTION_IGNORE: FindingStatus.IGNORED,
    ACTION_REMEDIATED: FindingStatus.REMEDIATED,
}


def button_value(finding: ZombieFinding, *, snooze_seconds: int | None = None) -> str:
    value: dict[str, str | int] = {"tenant_id": str(finding.tenant_id), f"{SUBJECT_KIND}_id": str(finding.id)}
    if snooze_seconds is not None:
        value["snooze_seconds"] = snooze_seconds
    return json.dumps(value, separators=(",", ":"))


def apply_action(
    conn, tenant_id: UUID, zombie_id: UUID, action_id: str, user: str, *, snooze_seconds: int | None = None
):
    """A verified Slack action on a finding; the updated finding, or None if it is not the tenant's.
    Raises ``dal.StatusChangeRefused`` for a closed finding (gone / in use)."""
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.zombies import dal

    status = _STATUS[action_id]
    with tenant_transaction(conn, tenant_id):
        at = dal.newest_scan_time(conn)
        if at is None:
            return None
        until = (
            at + timedelta(seconds=snooze_seconds or DEFAULT_SNOOZE_SECONDS)
            if status is FindingStatus.SNOOZED
            else None
        )
        return dal.set_status(conn, zombie_id, status, by=user, at=at, snoozed_until=until)


def subject_facts(f: ZombieFinding) -> dict:
    """The finding as a ticket / remediation subject (fields of ``notify.registry.Subject``)."""
    waste = "price unknown" if f.monthly_waste_usd is None else f"${f.monthly_waste_usd:,.2f}/month"
    return {
        "kind": SUBJECT_KIND,
        "id": str(f.id),
        "tenant_id": f.tenant_id,
        "title": f"Zombie {f.resource_type.replace('_', ' ')} {f.resource_id}: {waste}",
        "summary": f"{f.criterion} ({f.verdict.value}) in {f.account_id} {f.region}, idle since {f.first_seen_idle:%Y-%m-%d}.",
        "facts": (
            ("Resource", f"{f.resource_type} {f.resource_id}"),
            ("Account / region", f"{f.account_id} {f.region}"),
            ("Criterion", f.criterion),
            ("Monthly waste", waste),
            ("Idle since", f"{f.first_seen_idle:%Y-%m-%d}"),
        )
        + ((("Managed by", f"{f.owner_kind} {f.owner_name}"),) if f.owner_kind else ()),
        "account_id": f.account_id,
        "region": f.region,
        "resource_type": f.resource_type,
        "resource_ids": (f.resource_id,),
        "hourly_usd": None if f.monthly_waste_usd is None else f.monthly_waste_usd / 730,
    }


@dataclass(frozen=True)
class RemediationPlan:
    action: str | None  # "delete", "stop", "release" ... None: not offered
    steps: tuple[str, ...]
    warning: str | None = None
    reason_not_offered: str | None = None


_PLANS = {
    "ebs_volume": RemediationPlan(
        "delete", ("create a final snapshot", "wait for it to complete", "delete the volume")
    ),
    "ebs_snapshot": RemediationPlan("delete", ("delete the snapshot (its source volume is already gone)",)),
    "ec2_instance": RemediationPlan("terminate", ("snapshot every attached volume", "terminate the instance")),
    "rds_instance": RemediationPlan(
        "stop",
        ("stop the DB instance (or delete with a final snapshot)",),
        warning="AWS starts a stopped RDS instance again after 7 days",
    ),
    "elastic_ip": RemediationPlan("release", ("disassociate if needed", "release the address")),
    "nat_gateway": RemediationPlan("delete", ("delete the NAT gateway", "release its Elastic IP")),
    "load_balancer": RemediationPlan("delete", ("delete the load balancer",)),
    "sagemaker_endpoint": RemediationPlan("delete", ("delete the endpoint (its configuration and model stay)",)),
    "elasticache_cluster": RemediationPlan("delete", ("delete with a final snapshot",)),
    "redshift_cluster": RemediationPlan("pause", ("pause the cluster (or delete with a final snapshot)",)),
    "opensearch_domain": RemediationPlan("delete", ("take a manual snapshot", "delete the domain")),
}


def remediation_plan(f: ZombieFinding) -> RemediationPlan:
    if f.owner_kind:
        return RemediationPlan(None, (), reason_not_offered=f"managed by {f.owner_kind} {f.owner_name}: fix it there")
    if f.verdict.value != "zombie":
        return RemediationPlan(None, (), reason_not_offered=f"verdict is {f.verdict.value}, not zombie")
    return _PLANS.get(f.resource_type, RemediationPlan(None, (), reason_not_offered="no remediation for this type"))


# Zombie resource types as the remediation actions name them (remediation.actions.ActionDef.resource_types).
REMEDIATION_TYPES = {
    "ec2_instance": "ec2:instance",
    "ebs_volume": "ec2:volume",
    "rds_instance": "rds:db",
    "nat_gateway": "ec2:natgateway",
    "elastic_ip": "ec2:elastic-ip",
}
# What the digest offers for a zombie: nothing that deletes without a final snapshot (no
# "terminate"), nothing for "fix in owner" resources or for suspects / insufficient data.
ZOMBIE_REMEDIATIONS = {
    "ec2_instance": ("ec2_stop",),
    "ebs_volume": ("ebs_snapshot_delete",),
    "rds_instance": ("rds_stop",),
    "nat_gateway": ("nat_delete",),
    "elastic_ip": ("eip_release",),
}


def allowed_remediations(f: ZombieFinding) -> tuple[str, ...]:
    if f.owner_kind or f.verdict.value != "zombie" or f.status.value not in ("open", "acknowledged", "snoozed"):
        return ()
    if f.resource_type == "ec2_instance" and f.criterion != "ec2_idle":
        return ()  # a stopped instance: stopping again does nothing, terminating has no final snapshot
    return ZOMBIE_REMEDIATIONS.get(f.resource_type, ())


@register_subject(SUBJECT_KIND)
def load_zombie(conn, subject_id: str) -> Subject | None:
    """The finding as a registry subject, inside the caller's tenant transaction."""
    from dd0c_cost.zombies import dal

    try:
        finding = dal.get_finding(conn, UUID(subject_id))
    except ValueError:
        return None
    if finding is None:
        return None
    facts = subject_facts(finding)
    return Subject(
        kind=SUBJECT_KIND,
        id=facts["id"],
        tenant_id=finding.tenant_id,
        title=facts["title"],
        summary=facts["summary"],
        facts=facts["facts"],
        account_id=finding.account_id,
        region=finding.region,
        resource_type=REMEDIATION_TYPES.get(finding.resource_type, finding.resource_type),
        resource_ids=facts["resource_ids"],
        hourly_usd=facts["hourly_usd"],
        attributes={
            "criterion": finding.criterion,
            "verdict": finding.verdict.value,
            "owner_kind": finding.owner_kind,
            "allowed_remediations": list(allowed_remediations(finding)),
        },
    )


_DONE = {
    ACTION_ACKNOWLEDGE: "acknowledged",
    ACTION_SNOOZE: "snoozed",
    ACTION_IGNORE: "ignored: dd0c will not raise it again",
    ACTION_REMEDIATED: "marked remediated",
}


def _snooze_seconds(action) -> int | None:
    """The chosen option's seconds (the select's value carries them), within the snooze options."""
    raw = action.snooze_seconds or action.value.get("snooze_seconds")
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= max(SNOOZE_OPTIONS.values()):
        return None
    return raw


def _status_action(action, ctx: ActionContext) -> Reply:
    from dd0c_cost.zombies import dal

    try:
        finding = apply_action(
            ctx.conn,
            action.tenant_id,
            UUID(action.subject_id),
            action.action_id,
            action.user_id,
            snooze_seconds=_snooze_seconds(action),
        )
    except dal.StatusChangeRefused as exc:
        return Reply.refused("not_allowed", f"Nothing was changed: {exc}.")
    if finding is None:
        return Reply.refused("not_found", "This finding is not one of your workspace's. Nothing was changed.")
    return Reply(
        message=f"{finding.resource_type.replace('_', ' ')} {finding.resource_id}: {_DONE[action.action_id]} by {action.user_mention}."
    )


for _action_id in _STATUS:
    register_action(_action_id, subjects=(SUBJECT_KIND,))(_status_action)


def extra_elements(conn, findings: list[ZombieFinding]):
    """Ticket button (when the tenant has a ticket target) and the zombie-safe "Remediate…" menu
    (when remediation is set up) for the digest, built by the ticket and remediation modules;
    call inside the tenant's transaction."""
    from dd0c_cost.remediation import store as remediation
    from dd0c_cost.remediation.actions import BY_ID
    from dd0c_cost.remediation.slack import remediation_select
    from dd0c_cost.tickets.slack import ticket_button
    from dd0c_cost.tickets.targets import list_targets

    tickets_on = bool(list_targets(conn))
    remediation_on = remediation.settings(conn) is not None

    def elements(f: ZombieFinding) -> list:
        out: list = []
        if tickets_on:
            out.append(ticket_button(SUBJECT_KIND, str(f.id), f.tenant_id))
        offered = [BY_ID[a] for a in allowed_remediations(f) if a in BY_ID]
        if remediation_on and offered:
            subject = Subject(
                kind=SUBJECT_KIND,
                id=str(f.id),
                tenant_id=f.tenant_id,
                title="",
                summary="",
                resource_ids=(f.resource_id,),
            )
            select = remediation_select(subject, offered)
            if select is not None:
                out.append(select)
        return out

    return elements


def _plug_into_tickets_and_remediation() -> None:
    """Let the ticket and remediation actions accept the zombie subject."""
    from dd0c_cost.notify.registry import action_spec, add_subjects
    from dd0c_cost.remediation.slack import ACTION_REMEDIATE, MODAL_REMEDIATE
    from dd0c_cost.tickets.slack import ACTION_TICKET, MODAL_TICKET

    for action_id in (ACTION_TICKET, MODAL_TICKET, ACTION_REMEDIATE, MODAL_REMEDIATE):
        if action_spec(action_id) is not None:
            add_subjects(action_id, SUBJECT_KIND)


_plug_into_tickets_and_remediation()
