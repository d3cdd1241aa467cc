"""The weekly zombie digest: one Slack message per tenant, largest waste first, with the same
kind of buttons as anomaly alerts (``zombies.actions``).

``build_digest_message`` is pure (Block Kit JSON from findings); ``post_weekly_digest`` is what the
``zombie_hunter`` function runs for a digest message: once per tenant and ISO week (the
``zombie_digests`` row is the natural key), at the schedule's event time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from dd0c_cost.zombies import actions
from dd0c_cost.zombies.models import ZombieFinding, utc

MAX_FINDINGS_SHOWN = 12  # 2 blocks each + header/summary/footer stay within Slack's 50 blocks
CRITERION_TEXT = {
    "ebs_unattached": "unattached volume",
    "ebs_no_io": "attached volume with no I/O for 14 days",
    "ec2_idle": "idle instance (CPU and network) for 14 days",
    "ec2_stopped": "instance stopped for 30+ days, volumes still billed",
    "rds_no_connections": "database with zero connections for 14 days",
    "eip_unassociated": "Elastic IP not associated",
    "eip_on_stopped_instance": "Elastic IP on a stopped instance",
    "nat_no_traffic": "NAT gateway without traffic for 14 days",
    "lb_no_listeners": "load balancer without listeners",
    "lb_no_target_groups": "load balancer without target groups",
    "lb_no_targets": "load balancer without registered targets",
    "lb_no_traffic": "load balancer without requests or flows for 14 days",
    "snapshot_orphaned": "snapshot of a deleted volume, 90+ days, unused by any AMI",
    "sagemaker_no_invocations": "endpoint without invocations for 7 days",
    "elasticache_no_connections": "cache cluster with zero connections on every node",
    "redshift_no_connections": "Redshift cluster with zero connections for 14 days",
    "opensearch_no_activity": "OpenSearch domain without search or indexing for 14 days",
}


def week_start(at: datetime) -> date:
    """Monday (UTC) of the week of ``at``: one digest per tenant and week."""
    day = utc(at).date()
    return day - timedelta(days=day.weekday())


def _money(value: float | None) -> str:
    return "price unknown" if value is None else f"${value:,.2f}"


def _finding_blocks(f: ZombieFinding, extra_elements: Sequence[Callable[[ZombieFinding], list]]) -> list:
    what = CRITERION_TEXT.get(f.criterion, f.criterion)
    name = (
        f"{f.resource_name} ({f.resource_id})"
        if f.resource_name and f.resource_name != f.resource_id
        else f.resource_id
    )
    lines = [
        f"*{_money(f.monthly_waste_usd)}/month* · `{name}` · {f.resource_type.replace('_', ' ')} · {f.account_id} {f.region}",
        f"{what}{' (suspect)' if f.verdict.value == 'idle_suspect' else ''} · idle since {f.first_seen_idle:%Y-%m-%d}"
        + (f" · {_money(f.waste_so_far_usd)} so far" if f.waste_so_far_usd is not None else ""),
    ]
    if f.unpriced_reason:
        lines.append(f"_{f.unpriced_reason}_")
    if f.owner_kind:
        lines.append(f"Managed by {f.owner_kind} `{f.owner_name}`: fix it there.")
    value = actions.button_value(f)
    elements: list[Any] = [
        ButtonElement(text="Acknowledge", action_id=actions.ACTION_ACKNOWLEDGE, value=value),
        StaticSelectElement(
            placeholder="Snooze",
            action_id=actions.ACTION_SNOOZE,
            options=[
                Option(text=label, value=actions.button_value(f, snooze_seconds=s))
                for label, s in actions.SNOOZE_OPTIONS.items()
            ],
        ),
        ButtonElement(text="Ignore", action_id=actions.ACTION_IGNORE, value=value),
    ]
    for extra in extra_elements:  # ticket / remediation (issue 10's registry), when installed
        elements.extend(extra(f))
    return [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000]), block_id=f"zombie:{f.id}"),
        ActionsBlock(elements=elements[:25], block_id=f"zombie-actions:{f.id}"),
    ]


def build_digest_message(
    findings: Sequence[ZombieFinding],
    *,
    week: date,
    total: int | None = None,
    dashboard_url: str | None = None,
    extra_elements: Sequence[Callable[[ZombieFinding], list]] = (),
) -> dict[str, Any]:
    """``{"text", "blocks"}`` for the week's digest: findings largest waste first (as given)."""
    total = len(findings) if total is None else total
    priced = [f.monthly_waste_usd for f in findings if f.monthly_waste_usd is not None]
    monthly = sum(priced)
    header = f"🧟 {total} zombie resource{'s' if total != 1 else ''}: {_money(monthly)}/month"
    blocks: list[Any] = [
        HeaderBlock(text=PlainTextObject(text=header[:150])),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        f"Week of {week:%Y-%m-%d} · largest waste first"
                        + (f" · {len(findings) - len(priced)} unpriced" if len(priced) < len(findings) else "")
                        + (
                            f" · showing {min(len(findings), MAX_FINDINGS_SHOWN)} of {total}"
                            if total > MAX_FINDINGS_SHOWN
                            else ""
                        )
                    )
                )
            ]
        ),
    ]
    for f in list(findings)[:MAX_FINDINGS_SHOWN]:
        blocks.append(DividerBlock())
        blocks.extend(_finding_blocks(f, extra_elements))
    if dashboard_url:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"<{dashboard_url}|All findings on the dashboard>")])
        )
    return {"text": header, "blocks": [b.to_dict() for b in blocks]}


def post_weekly_digest(conn, tenant_id: UUID, at: datetime) -> str:
    """Post the tenant's digest for the week of ``at`` once, to its Slack (its installation, the
    env workspace bound to it, or the outbox) on its default route; returns the outcome:
    digest_posted | digest_already_posted | digest_empty | digest_withheld (governance: shadow
    mode or panic) | digest_undelivered (no workspace or no route). Slack refusing the post
    raises (SQS retries the message)."""
    from dd0c_cost import governance
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.notify import delivery
    from dd0c_cost.notify import store as slack_store
    from dd0c_cost.notify.slack import get_notifier
    from dd0c_cost.settings import get_settings
    from dd0c_cost.zombies import dal

    week = week_start(at)
    settings = get_settings()
    with tenant_transaction(conn, tenant_id):
        if dal.digest_posted(conn, week):
            return "digest_already_posted"
        findings = dal.digest_candidates(conn, utc(at), limit=200)
        allowed = governance.may_notify(conn, tenant_id, governance.decision_time(conn, utc(at)), rule="zombie-digest")
        workspace = delivery.workspace_for(conn, tenant_id, settings)
        routes = slack_store.list_routes(conn)
        extra = actions.extra_elements(conn, findings)
    monthly = round(sum(f.monthly_waste_usd for f in findings if f.monthly_waste_usd is not None), 2)
    outcome, channel, ts = "digest_posted", None, None
    default = next((r.channel for r in routes if r.kind == "default"), None)
    if not findings:
        outcome = "digest_empty"
    elif not allowed:
        outcome = "digest_withheld"
    elif isinstance(workspace, delivery.NoWorkspace) or not (target := default or workspace.default_channel):
        outcome = "digest_undelivered"
    else:
        message = build_digest_message(findings, week=week, total=len(findings), extra_elements=(extra,))
        posted = get_notifier().post_text(
            workspace,
            target,
            message["text"],
            blocks=message["blocks"],
            kind="zombie_digest",
        )
        channel, ts = posted.channel, posted.ts
    with tenant_transaction(conn, tenant_id):
        if not dal.record_digest(conn, tenant_id, week, len(findings), monthly if findings else None, channel, ts):
            return "digest_already_posted"
        if channel and ts:
            dal.set_slack_message(conn, [f.id for f in findings[:MAX_FINDINGS_SHOWN]], channel, ts)
    return outcome
