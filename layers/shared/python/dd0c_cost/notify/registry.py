"""Slack actions: one registry keyed by action id, per subject kind, and the one dispatcher.

An *action* is what a button, select or modal does (``action_id``, or a modal's
``callback_id``). A *subject* is the thing it acts on, named in the element's JSON value as
``<kind>_id`` next to ``tenant_id``: ``{"tenant_id": …, "anomaly_id": …}``. Actions say which
subject kinds they accept; a subject kind registers a loader that turns an id into a
``Subject`` (its facts, resources and Slack message). The ticket and remediation actions only
use ``Subject``, so another feature (the zombie digest) reuses them by registering its own
subject kind::

    @register_subject("zombie")
    def load_zombie(conn, zombie_id) -> Subject | None: ...

and rendering ``tickets.slack.ticket_button(subject)`` / ``remediation.slack.remediation_select``.

``dispatch`` is the only door: the request is already verified as Slack's (``parse_interaction``);
``dispatch`` then checks that the clicking workspace is the tenant's own installation before any
handler runs. Handlers answer with a ``Reply``: the HTTP body for Slack (for modals:
``response_action``) and, optionally, an ephemeral note for the person who clicked.
"""

from __future__ import annotations

import importlib
import json
import logging
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from dd0c_cost.db.connection import Connection
from dd0c_cost.settings import Settings

if TYPE_CHECKING:  # annotations only: parsing Slack's requests is slack_events' work
    from dd0c_cost.notify.interactions import SlackAction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subject:
    """What an action acts on, as tickets and remediation need it."""

    kind: str  # "anomaly", "zombie", …
    id: str
    tenant_id: UUID
    title: str  # one line, e.g. the ticket title
    summary: str  # plain text paragraph
    facts: tuple[tuple[str, str], ...] = ()  # (label, value), in reading order
    link: str | None = None  # back to the dashboard
    account_id: str | None = None
    region: str | None = None
    service: str | None = None
    resource_type: str | None = None
    resource_ids: tuple[str, ...] = ()
    attributes: dict = field(default_factory=dict)
    channel: str | None = None  # its Slack message, if it has one
    ts: str | None = None
    event_ids: tuple[str, ...] = ()
    hourly_usd: float | None = None


SubjectLoader = Callable[[Connection, str], "Subject | None"]


@dataclass
class ActionContext:
    """What a handler gets: the tenant's connection (no transaction open), settings, the
    tenant's verified Slack workspace and the notifier to talk to it."""

    conn: Connection
    settings: Settings
    workspace: Any  # notify.delivery.Workspace
    notifier: Any  # notify.slack.SlackNotifier


@dataclass(frozen=True)
class Reply:
    """The answer to one interaction."""

    ok: bool = True
    error: str | None = None  # a stable code when refused: not_found, foreign_workspace, not_allowed, …
    message: str | None = None  # shown to the person who clicked (ephemeral), when set
    body: dict = field(default_factory=dict)  # for modals: {"response_action": …}

    @classmethod
    def refused(cls, error: str, message: str, *, modal_block: str | None = None) -> Reply:
        body = {"response_action": "errors", "errors": {modal_block: message}} if modal_block else {}
        return cls(ok=False, error=error, message=message, body=body)


Handler = Callable[["SlackAction", ActionContext], Reply]


@dataclass(frozen=True)
class ActionSpec:
    action_id: str
    subjects: tuple[str, ...]
    handler: Handler
    kind: Literal["block_actions", "view_submission"]


_ACTIONS: dict[str, ActionSpec] = {}
_SUBJECTS: dict[str, SubjectLoader] = {}


def register_action(
    action_id: str,
    *,
    subjects: tuple[str, ...] = ("anomaly",),
    kind: Literal["block_actions", "view_submission"] = "block_actions",
) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        existing = _ACTIONS.get(action_id)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"action {action_id!r} is already registered by {existing.handler.__module__}")
        _ACTIONS[action_id] = ActionSpec(action_id, tuple(subjects), handler, kind)
        return handler

    return decorate


def add_subjects(action_id: str, *subjects: str) -> None:
    """Let an existing action accept more subject kinds (e.g. tickets for zombies)."""
    spec = _ACTIONS[action_id]
    _ACTIONS[action_id] = ActionSpec(
        spec.action_id, tuple(dict.fromkeys([*spec.subjects, *subjects])), spec.handler, spec.kind
    )


def register_subject(kind: str) -> Callable[[SubjectLoader], SubjectLoader]:
    def decorate(loader: SubjectLoader) -> SubjectLoader:
        _SUBJECTS[kind] = loader
        return loader

    return decorate


# The module that registers each built-in subject kind's loader: a worker imports only the kind
# it loads (an anomaly's ticket never needs the zombie actions, ≈ 44 M instructions).
SUBJECT_MODULES: dict[str, str] = {"anomaly": "dd0c_cost.notify.actions", "zombie": "dd0c_cost.zombies.actions"}


def subject_loader(kind: str) -> SubjectLoader:
    """The loader registered for ``kind``, importing its built-in module on first need."""
    if kind not in _SUBJECTS and kind in SUBJECT_MODULES:
        importlib.import_module(SUBJECT_MODULES[kind])
    loader = _SUBJECTS.get(kind)
    if loader is None:
        raise LookupError(f"no subject loader for {kind!r}")
    return loader


def load_subject(conn: Connection, kind: str, subject_id: str) -> Subject | None:
    """The subject inside the caller's tenant transaction; None when it is not the tenant's."""
    return subject_loader(kind)(conn, subject_id)


def load_builtin_actions() -> None:
    """Import the modules that register the built-in actions (idempotent)."""
    import dd0c_cost.notify.actions
    import dd0c_cost.remediation.slack
    import dd0c_cost.tickets.slack
    import dd0c_cost.zombies.actions  # noqa: F401  (zombie status actions, the zombie subject)


def known_actions() -> dict[str, tuple[str, ...]]:
    load_builtin_actions()
    return {a.action_id: a.subjects for a in _ACTIONS.values()}


def action_spec(action_id: str) -> ActionSpec | None:
    load_builtin_actions()
    return _ACTIONS.get(action_id)


# --- answering Slack ---------------------------------------------------------------------------
def _trusted_response_url(url: str | None, settings: Settings) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    allowed = {"hooks.slack.com"}
    fake = urlsplit(settings.slack_api_base_url).hostname
    if fake and fake not in ("slack.com", "www.slack.com"):
        allowed.add(fake)  # a local Slack fake (tests, offline demos)
    return parts.hostname in allowed and (parts.scheme == "https" or parts.hostname != "hooks.slack.com")


def tell_user(action: SlackAction, text: str, settings: Settings) -> bool:
    """An ephemeral note to the person who clicked, through the interaction's response_url
    (it needs no token, so it also reaches a workspace that is not the tenant's). False when
    it could not be sent; the interaction's outcome does not depend on it."""
    if not _trusted_response_url(action.response_url, settings):
        return False
    body = json.dumps({"response_type": "ephemeral", "replace_original": False, "text": text}).encode()
    request = urllib.request.Request(
        action.response_url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return 200 <= response.status < 300
    except OSError as exc:
        logger.warning("could not answer Slack through response_url: %s", exc.__class__.__name__)
        return False


def dispatch(action: SlackAction, settings: Settings) -> Reply:
    """Run a verified interaction: the workspace must be the tenant's, then the action's handler."""
    from dd0c_cost.db.connection import get_connection, tenant_transaction
    from dd0c_cost.notify import store as slack_store
    from dd0c_cost.notify.delivery import ForeignWorkspace, authorize_workspace
    from dd0c_cost.notify.slack import get_notifier

    spec = action_spec(action.action_id)
    if spec is None or action.subject_kind not in spec.subjects:
        reply = Reply.refused("unknown_action", f"dd0c/cost does not know the action {action.action_id!r}.")
        tell_user(action, reply.message or "", settings)
        return reply
    conn = get_connection()
    try:
        with tenant_transaction(conn, action.tenant_id):
            workspace = authorize_workspace(
                conn, action.tenant_id, settings, team_id=action.team_id, enterprise_id=action.enterprise_id
            )
            # Acted on once: the same signed request delivered again (same timestamp and signature)
            # is answered 200 and changes nothing (dd0c.slack_requests, migration 008).
            fresh = not action.request_key or slack_store.claim_slack_request(
                conn, action.tenant_id, action.request_key, action.slack_timestamp or 0
            )
    except ForeignWorkspace as exc:
        reply = Reply.refused("foreign_workspace", f"Refused: {exc.reason}. Nothing was changed.")
        _on_refusal(action, reply)
        tell_user(action, reply.message or "", settings)
        return (
            reply
            if spec.kind == "block_actions"
            else Reply.refused(
                "foreign_workspace", reply.message or "", modal_block=action.value.get("error_block") or "dd0c_error"
            )
        )
    if not fresh:
        return Reply()
    try:
        reply = spec.handler(
            action, ActionContext(conn=conn, settings=settings, workspace=workspace, notifier=get_notifier())
        )
    except Exception:
        with tenant_transaction(conn, action.tenant_id):  # not acted on: a retry of it may act
            slack_store.release_slack_request(conn, action.request_key)
        raise
    if reply.message and spec.kind == "block_actions":
        tell_user(action, reply.message, settings)
    return reply


# Hooks called on a refusal before any handler runs (remediation audits foreign-workspace attempts).
_REFUSAL_HOOKS: list[Callable[[SlackAction, Reply], None]] = []


def on_refusal(hook: Callable[[SlackAction, Reply], None]) -> Callable[[SlackAction, Reply], None]:
    _REFUSAL_HOOKS.append(hook)
    return hook


def _on_refusal(action: SlackAction, reply: Reply) -> None:
    for hook in _REFUSAL_HOOKS:
        try:
            hook(action, reply)
        except Exception:
            logger.exception("refusal hook failed")


__all__ = [
    "ActionContext",
    "ActionSpec",
    "Reply",
    "Subject",
    "action_spec",
    "add_subjects",
    "dispatch",
    "known_actions",
    "load_builtin_actions",
    "load_subject",
    "on_refusal",
    "register_action",
    "register_subject",
    "subject_loader",
    "tell_user",
]
