"""Remediation from Slack: the "Remediate…" select, the confirmation dialog, and the gates.

Select an action -> gates (the tenant enabled remediation; the person is an allowed user or in an
allowed user group; governance mode enforce; no panic) -> a request row (one open request per
subject and action: double clicks share it) and the confirmation dialog -> submit -> the gates
again, requested -> confirmed (once; an old dialog has expired) -> the remediations queue.
Every request, confirmation, refusal and outcome goes to governance's append-only audit log.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING
from uuid import UUID

from slack_sdk.models.blocks import Option, StaticSelectElement

from dd0c_cost import governance
from dd0c_cost.db.connection import Connection, tenant_transaction
from dd0c_cost.notify.registry import ActionContext, Reply, Subject, load_subject, on_refusal, register_action
from dd0c_cost.notify.slack import SlackNotifyError
from dd0c_cost.remediation import store
from dd0c_cost.remediation.actions import BY_ID, ActionDef, actions_for

if TYPE_CHECKING:  # annotations only: parsing Slack's requests is slack_events' work
    from dd0c_cost.notify.interactions import SlackAction

logger = logging.getLogger(__name__)

ACTION_REMEDIATE = "remediation_request"
MODAL_REMEDIATE = "remediation_confirm"
BLOCK_SIZE, BLOCK_EIP, BLOCK_ERROR = "remediation_size", "remediation_eip", "remediation_error"


def subject_attrs(subject: Subject) -> dict:
    """The subject's attributes, with ``_actor`` (who made the calls) for actions that depend on it."""
    return subject.attributes


def remediation_select(subject: Subject, actions: list[ActionDef]) -> StaticSelectElement | None:
    """The message's "Remediate…" menu for this subject (None when nothing applies)."""
    if not actions:
        return None
    n = len(subject.resource_ids)
    options = [
        Option(
            text=f"{a.label} ({n})" if n > 1 else a.label,
            value=json.dumps(
                {"tenant_id": str(subject.tenant_id), f"{subject.kind}_id": subject.id, "action": a.id},
                separators=(",", ":"),
            ),
        )
        for a in actions
    ]
    return StaticSelectElement(action_id=ACTION_REMEDIATE, placeholder="Remediate…", options=options)


def audit(conn, tenant_id, what: str, action: SlackAction | None, subject: str, **kw) -> None:
    governance.audit(
        conn,
        tenant_id,
        f"remediation.{what}",
        actor=action.user_id if action else "dd0c-cost",
        source="slack" if action else "system",
        subject=subject,
        **kw,
    )


def _user_allowed(ctx: ActionContext, settings: store.Settings, user_id: str) -> bool:
    if user_id in settings.allowed_users:
        return True
    for group in settings.allowed_groups:
        try:
            members = ctx.notifier.call(ctx.workspace, "usergroups.users.list", usergroup=group).get("users") or []
        except SlackNotifyError as exc:
            logger.warning("could not read user group %s: %s", group, exc.error)
            continue
        if user_id in members:
            return True
    return False


def gate(ctx: ActionContext, conn: Connection, action: SlackAction, subject: Subject) -> tuple[str, str] | None:
    """(refusal code, words) if this person may not remediate this subject now; None if they may.
    Inside the tenant's transaction."""
    settings = store.settings(conn)
    if settings is None:
        return "remediation_disabled", "Remediation is not enabled for this workspace (an admin turns it on)."
    if not _user_allowed(ctx, settings, action.user_id):
        return "not_allowed", "You are not among the people or user groups allowed to remediate."
    decision = governance.may_remediate(conn, action.tenant_id, governance.decision_time(conn), automatic=False)
    if not decision:
        reason = decision.reason
        words = {
            "shadow": "Governance is in shadow mode: dd0c only watches.",
            "audit": "Governance is in audit mode: dd0c alerts but does not act (switch to enforce to remediate).",
            "panic": "Panic mode is on: every action is halted.",
            "global_panic": "Panic mode is on for all of dd0c/cost: every action is halted.",
        }.get(reason or "", f"Governance refuses remediation ({reason}).")
        return ("panic" if "panic" in str(reason) else "governance_mode"), words
    return None


def _refuse(conn, action: SlackAction, subject_key: str, code: str, words: str, *, modal: bool = False) -> Reply:
    audit(
        conn,
        action.tenant_id,
        "refused",
        action,
        subject_key,
        state=code,
        reason=words,
        detail={"action": action.value.get("action"), "kind": action.kind},
    )
    return Reply.refused(code, f"Refused: {words} Nothing was changed.", modal_block=BLOCK_ERROR if modal else None)


def previous_size(conn: Connection, subject: Subject) -> int | None:
    """The node group's desired size before this anomaly (the newest earlier event that said it)."""
    if not subject.resource_ids:
        return None
    row = conn.execute(
        """SELECT attributes->>'desired_size' AS size FROM dd0c.cost_events
           WHERE resource_ids && %s AND NOT (event_id = ANY(%s)) AND attributes ? 'desired_size'
           ORDER BY event_time DESC, id DESC LIMIT 1""",
        [list(subject.resource_ids), list(subject.event_ids)],
    ).fetchone()
    try:
        return int(float(row["size"])) if row and row["size"] is not None else None
    except ValueError:
        return None


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def confirmation_modal(subject: Subject, definition: ActionDef, request: store.Remediation, guess: int | None) -> dict:
    from dd0c_cost.notify.message import format_rate

    ids = ", ".join(f"`{r}`" for r in request.resource_ids[:20]) + (" …" if len(request.resource_ids) > 20 else "")
    lines = [
        f"*{definition.verb.capitalize()} {len(request.resource_ids)} resource{'s' if len(request.resource_ids) != 1 else ''}?*",
        f"{ids}\naccount `{request.account_id}` · region `{request.region}`",
    ]
    if subject.hourly_usd is not None:
        lines.append(f"Now costing {format_rate(subject.hourly_usd)}.")
    blocks: list[dict] = [
        {"type": "section", "block_id": BLOCK_ERROR, "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
    ]
    if definition.warning:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"⚠️ {definition.warning}"}]})
    if definition.asks_size:
        element = {"type": "number_input", "action_id": "size", "is_decimal_allowed": False, "min_value": "0"}
        if guess is not None:
            element["initial_value"] = str(guess)
        blocks.append(
            {
                "type": "input",
                "block_id": BLOCK_SIZE,
                "optional": definition.id == "asg_restore",
                "label": _plain("Scale back to"),
                "hint": _plain(
                    "Empty: its size before this burst" if definition.id == "asg_restore" else "Desired size"
                ),
                "element": element,
            }
        )
    if definition.offers_eip_release:
        blocks.append(
            {
                "type": "input",
                "block_id": BLOCK_EIP,
                "optional": True,
                "label": _plain("Elastic IP"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "release",
                    "options": [{"text": _plain("Also release its Elastic IP"), "value": "release"}],
                },
            }
        )
    metadata = {
        "tenant_id": str(subject.tenant_id),
        f"{subject.kind}_id": subject.id,
        "remediation_id": str(request.id),
        "channel": request.slack_channel,
        "ts": request.slack_ts,
    }
    return {
        "type": "modal",
        "callback_id": MODAL_REMEDIATE,
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "title": _plain("Confirm remediation"),
        "submit": _plain(definition.verb.capitalize()[:24]),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


@register_action(ACTION_REMEDIATE, subjects=("anomaly",))
def request_remediation(action: SlackAction, ctx: ActionContext) -> Reply:
    definition = BY_ID.get(str(action.value.get("action")))
    subject_key = f"{action.subject_kind}:{action.subject_id}"
    with tenant_transaction(ctx.conn, action.tenant_id):
        subject = load_subject(ctx.conn, action.subject_kind, action.subject_id)
        if subject is None:
            return Reply.refused("not_found", "This alert is not one of your workspace's alerts. Nothing was changed.")
        if definition is None or definition not in actions_for(subject.resource_type, subject_attrs(subject)):
            return _refuse(
                ctx.conn, action, subject_key, "unknown_action", "That action does not apply to this resource."
            )
        refusal = gate(ctx, ctx.conn, action, subject)
        if refusal:
            return _refuse(ctx.conn, action, subject_key, *refusal)
        if not subject.account_id or not subject.region or not subject.resource_ids:
            return _refuse(ctx.conn, action, subject_key, "no_resources", "The alert names no resource to act on.")
        request, created = store.open_request(
            ctx.conn,
            action.tenant_id,
            subject_kind=subject.kind,
            subject_id=subject.id,
            action=definition.id,
            account_id=subject.account_id,
            region=subject.region,
            resource_ids=list(subject.resource_ids),
            params={"remediation_id": None},
            requested_by=action.user_id,
            slack_channel=action.channel_id or subject.channel,
            slack_ts=action.message_ts or subject.ts,
        )
        if request.status != "requested":
            return Reply(
                message=f"This is already {request.status} (by <@{request.confirmed_by or request.requested_by}>)."
            )
        audit(
            ctx.conn,
            action.tenant_id,
            "requested",
            action,
            subject_key,
            state="requested",
            reason=definition.label,
            detail={
                "remediation_id": str(request.id),
                "action": definition.id,
                "resources": request.resource_ids,
                "new": created,
            },
        )
        guess = previous_size(ctx.conn, subject) if definition.id == "eks_nodegroup_restore" else None
    view = confirmation_modal(subject, definition, request, guess)
    try:
        ctx.notifier.call(ctx.workspace, "views.open", trigger_id=action.trigger_id, view=view)
    except SlackNotifyError as exc:
        if exc.error in ("expired_trigger_id", "invalid_trigger_id"):
            return Reply.refused(
                "expired", "That click is too old to open the confirmation (Slack allows 3 s); try again."
            )
        return Reply.refused("slack_error", f"Slack refused to open the confirmation ({exc.error}).")
    return Reply()


def _dialog_params(definition: ActionDef, values: dict) -> tuple[dict, str | None]:
    params: dict = {}
    if definition.asks_size:
        raw = ((values.get(BLOCK_SIZE) or {}).get("size") or {}).get("value")
        if raw not in (None, ""):
            try:
                size = int(str(raw))
            except ValueError:
                return {}, "A whole number, please"
            if size < 0:
                return {}, "A size of 0 or more"
            params["size"] = size
        elif definition.id != "asg_restore":
            return {}, "The size to scale back to"
    if definition.offers_eip_release:
        chosen = ((values.get(BLOCK_EIP) or {}).get("release") or {}).get("selected_options") or []
        params["release_eip"] = any(o.get("value") == "release" for o in chosen)
    return params, None


@register_action(MODAL_REMEDIATE, subjects=("anomaly",), kind="view_submission")
def confirm_remediation(action: SlackAction, ctx: ActionContext) -> Reply:
    from dd0c_cost.remediation.queue import enqueue

    subject_key = f"{action.subject_kind}:{action.subject_id}"
    try:
        remediation_id = UUID(str(action.value.get("remediation_id")))
    except ValueError:
        return Reply.refused(
            "bad_input", "This dialog is damaged; start again from the alert.", modal_block=BLOCK_ERROR
        )
    with tenant_transaction(ctx.conn, action.tenant_id):
        request = store.get(ctx.conn, remediation_id)
        subject = load_subject(ctx.conn, action.subject_kind, action.subject_id)
        if request is None or subject is None or request.subject_id != subject.id:
            return Reply.refused("not_found", "This request is not one of yours.", modal_block=BLOCK_ERROR)
        definition = BY_ID[request.action]
        if definition not in actions_for(subject.resource_type, subject_attrs(subject)):
            return _refuse(  # e.g. the zombie finding was ignored or found busy since the dialog opened
                ctx.conn,
                action,
                subject_key,
                "unknown_action",
                "That action no longer applies to this resource.",
                modal=True,
            )
        refusal = gate(ctx, ctx.conn, action, subject)
        if refusal:
            return _refuse(ctx.conn, action, subject_key, *refusal, modal=True)
        params, problem = _dialog_params(definition, action.view_values)
        if problem:
            return Reply.refused("bad_input", problem, modal_block=BLOCK_SIZE)
        if store.expire_if_stale(ctx.conn, remediation_id):
            audit(
                ctx.conn,
                action.tenant_id,
                "expired",
                action,
                subject_key,
                state="expired",
                reason="confirmed after the dialog's 15 minutes",
                detail={"remediation_id": str(remediation_id)},
            )
            return Reply.refused(
                "expired", "This confirmation has expired; start again from the alert.", modal_block=BLOCK_ERROR
            )
        confirmed = store.confirm(
            ctx.conn, remediation_id, by=action.user_id, params={**params, "remediation_id": str(remediation_id)}
        )
        if confirmed is None:  # a second submission of the same dialog, or a Slack retry
            return Reply()
        audit(
            ctx.conn,
            action.tenant_id,
            "confirmed",
            action,
            subject_key,
            state="confirmed",
            reason=definition.label,
            detail={"remediation_id": str(remediation_id), "params": params},
        )
    enqueue(confirmed)
    if confirmed.slack_channel and confirmed.slack_ts:
        try:
            ctx.notifier.reply(
                ctx.workspace,
                confirmed.slack_channel,
                confirmed.slack_ts,
                f"🛠 <@{action.user_id}> confirmed: {definition.label.lower()} ({', '.join(confirmed.resource_ids[:5])}"
                f"{' …' if len(confirmed.resource_ids) > 5 else ''})…",
                anomaly_id=subject.id,
            )
        except SlackNotifyError as exc:
            logger.warning("could not post in the thread: %s", exc.error)
    return Reply()


@on_refusal
def _audit_foreign_workspace(action: SlackAction, reply: Reply) -> None:
    """A remediation attempt from another workspace is refused before any handler: audit it too."""
    if action.action_id not in (ACTION_REMEDIATE, MODAL_REMEDIATE):
        return
    from dd0c_cost.db.connection import get_connection

    conn = get_connection()
    with tenant_transaction(conn, action.tenant_id):
        audit(
            conn,
            action.tenant_id,
            "refused",
            action,
            f"{action.subject_kind}:{action.subject_id}",
            state=reply.error,
            reason=f"from workspace {action.team_id}",
            detail={"action": action.value.get("action")},
        )


__all__ = ["ACTION_REMEDIATE", "MODAL_REMEDIATE", "confirmation_modal", "gate", "remediation_select"]
