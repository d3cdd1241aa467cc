"""The remediations queue's consumer: run one confirmed remediation in the customer's account.

It assumes the customer's remediation role with the account's ExternalId, runs the action's
steps (writing each to the audit log), and posts the result, or AWS's error, in the alert's
thread. Governance is asked again here, at execution time: a panic pressed after the click
withholds the action. A step that waits for AWS (a snapshot completing, a NAT gateway going
away) gives the message back to the queue and resumes at that step.
"""

from __future__ import annotations

import logging
from uuid import UUID

from dd0c_cost import governance, outcomes
from dd0c_cost.db.connection import get_connection, tenant_transaction
from dd0c_cost.events.messages import RemediationMessage
from dd0c_cost.notify.delivery import NoWorkspace, workspace_for
from dd0c_cost.notify.registry import ActionContext, load_subject
from dd0c_cost.notify.slack import SlackNotifyError, get_notifier
from dd0c_cost.onboarding import REMEDIATOR_ROLE_NAME
from dd0c_cost.remediation import store
from dd0c_cost.remediation.actions import BY_ID, Done, Next, Protected, Wait, actions_for
from dd0c_cost.settings import get_settings

logger = logging.getLogger(__name__)

MAX_STEPS_PER_RUN = 6
RETRYABLE_AWS_ERRORS = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
    }
)


class RemediationPending(RuntimeError):
    """AWS is still working (or throttled us): SQS brings the message back after ``retry_in`` s."""

    def __init__(self, why: str, retry_in: int = 30) -> None:
        super().__init__(why)
        self.retry_in = retry_in


def customer_session(account_id: str, region: str, role_name: str, external_id: str, session_name: str):
    """A boto3 session in the customer's account, through its remediation role and ExternalId."""
    import boto3

    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}",
        RoleSessionName=session_name[:64],
        ExternalId=external_id,
        DurationSeconds=900,
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _aws_error(exc: Exception) -> tuple[str, bool]:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Error")
        return f"AWS {code}: {error.get('Message') or exc}", code in RETRYABLE_AWS_ERRORS
    if isinstance(exc, BotoCoreError):
        return f"AWS: {exc}", True
    return str(exc), False


class _Run:
    """One delivery of one remediation message."""

    def __init__(self, message: RemediationMessage) -> None:
        self.message = message
        self.conn = get_connection()
        self.settings = get_settings()
        self.subject_key = ""
        self.ctx: ActionContext | None = None
        self.subject = None

    def audit(self, what: str, **kw) -> None:
        with tenant_transaction(self.conn, self.message.tenant_id):
            governance.audit(
                self.conn,
                self.message.tenant_id,
                f"remediation.{what}",
                actor="dd0c-cost",
                source="system",
                subject=self.subject_key,
                **kw,
            )

    def say(self, request: store.Remediation, text: str) -> None:
        if self.ctx is None or not (request.slack_channel and request.slack_ts):
            return
        try:
            self.ctx.notifier.reply(
                self.ctx.workspace, request.slack_channel, request.slack_ts, text, anomaly_id=request.subject_id
            )
        except SlackNotifyError as exc:
            logger.warning("could not post the remediation outcome: %s", exc.error)

    def refresh(self, request: store.Remediation) -> None:
        if self.ctx is not None and request.subject_kind == "anomaly":
            from dd0c_cost.notify.actions import refresh_anomaly_message

            refresh_anomaly_message(self.ctx, UUID(request.subject_id))

    def end(self, request: store.Remediation, status: str, text: str, **kw) -> str:
        with tenant_transaction(self.conn, self.message.tenant_id):
            done = store.finish(self.conn, request.id, status, **kw) or request
        self.say(done, text)
        self.refresh(done)
        outcomes.record("remediate", status, request.action)
        return status

    def run(self) -> str:
        tenant = self.message.tenant_id
        with tenant_transaction(self.conn, tenant):
            request = store.start(self.conn, self.message.remediation_id)
            if request is None:
                outcomes.record("remediate", "nothing_to_do")
                return "nothing_to_do"
            self.subject_key = f"{request.subject_kind}:{request.subject_id}"
            decision = governance.may_remediate(self.conn, tenant, governance.decision_time(self.conn), automatic=False)
            settings = store.settings(self.conn)
            row = self.conn.execute(
                "SELECT external_id FROM dd0c.connected_accounts WHERE account_id = %s", [request.account_id]
            ).fetchone()
            self.subject = load_subject(self.conn, request.subject_kind, request.subject_id)
            workspace = workspace_for(self.conn, tenant, self.settings)
        self.ctx = (
            None
            if isinstance(workspace, NoWorkspace)
            else ActionContext(self.conn, self.settings, workspace, get_notifier())
        )
        definition = BY_ID[request.action]
        refused = self._preflight(request, definition, decision, settings, row)
        if refused is not None:
            return refused
        try:
            session = customer_session(
                request.account_id,
                request.region,
                REMEDIATOR_ROLE_NAME,
                row["external_id"],
                f"dd0c-cost-{str(request.id)[:8]}",
            )
        except Exception as exc:  # noqa: BLE001 - any AWS refusal to assume the role ends here, shown to people
            message, retryable = _aws_error(exc)
            return self._failed(request, message, retryable)
        return self._steps(request, definition, session)

    def _preflight(self, request: store.Remediation, definition, decision, settings, row) -> str | None:
        """The checks at execution time; the request's end status if one refuses, else None."""
        subject = self.subject
        if subject is None or definition not in actions_for(subject.resource_type, subject.attributes):
            # A request the subject does not allow (a forged click that got this far, or a zombie
            # finding ignored or busy again since the confirmation): refused, nothing is called.
            why = "the action does not apply to this subject"
            self.audit("refused", state="unknown_action", reason=why, detail={"remediation_id": str(request.id)})
            return self.end(request, "refused", f"⛔ Not done: {why}.", error=why)
        if not decision:
            self.audit(
                "withheld",
                state=decision.reason,
                reason="governance refused at execution time",
                detail={"remediation_id": str(request.id)},
            )
            return self.end(
                request,
                "refused",
                f"⛔ Not done: governance refused at execution ({decision.reason}).",
                error=f"governance: {decision.reason}",
            )
        if settings is None or row is None or not row["external_id"]:
            self.audit(
                "failed",
                reason="remediation disabled or account not connected",
                detail={"remediation_id": str(request.id)},
            )
            return self.end(
                request,
                "failed",
                "❌ Not done: remediation is disabled or the account is not connected.",
                error="remediation disabled or account not connected",
            )
        return None

    def _steps(self, request: store.Remediation, definition, session) -> str:
        step = request.step or definition.first_step
        params = dict(request.params or {})
        for _ in range(MAX_STEPS_PER_RUN):
            try:
                outcome = definition.steps[step](session, params, list(request.resource_ids))
            except Protected as exc:
                self.audit(
                    "refused",
                    state="protected",
                    reason=str(exc),
                    detail={"remediation_id": str(request.id), "step": step},
                )
                return self.end(request, "refused", f"⛔ Not done: {exc}.", error=str(exc))
            except Exception as exc:  # noqa: BLE001 - AWS's error (or ours) goes to the thread
                message, retryable = _aws_error(exc)
                self.audit(
                    "step",
                    state="error",
                    reason=message[:500],
                    detail={"remediation_id": str(request.id), "step": step},
                )
                return self._failed(request, message, retryable)
            self.audit(
                "step",
                state=type(outcome).__name__.lower(),
                reason=step,
                detail={"remediation_id": str(request.id), "step": step, **getattr(outcome, "params", {})},
            )
            if isinstance(outcome, Done):
                saved = self.subject.hourly_usd if (self.subject is not None and outcome.saves_spend) else None
                self.audit(
                    "succeeded",
                    state="succeeded",
                    reason=outcome.summary,
                    detail={"remediation_id": str(request.id), "result": outcome.result, "hourly_usd_saved": saved},
                )
                return self.end(
                    request,
                    "succeeded",
                    f"✅ {outcome.summary} (confirmed by <@{request.confirmed_by}>).",
                    result={"summary": outcome.summary, **outcome.result},
                    hourly_usd_saved=saved,
                )
            params.update(outcome.params)
            with tenant_transaction(self.conn, self.message.tenant_id):
                store.advance(self.conn, request.id, outcome.step, outcome.params)
            step = outcome.step
            if isinstance(outcome, Wait):
                raise RemediationPending(outcome.why)
            assert isinstance(outcome, Next)
        raise RemediationPending("more steps to go")

    def _failed(self, request: store.Remediation, message: str, retryable: bool) -> str:
        if retryable:
            raise RemediationPending(message)
        self.audit("failed", state="failed", reason=message[:500], detail={"remediation_id": str(request.id)})
        return self.end(request, "failed", f"❌ {BY_ID[request.action].label} failed: {message}", error=message[:1000])


def process_remediation(body: str, receive_count: int = 1) -> str:
    run = _Run(RemediationMessage.model_validate_json(body))
    try:
        return run.run()
    except RemediationPending as exc:
        # The topology (its dataclasses, ≈ 42 M instructions) is only needed when AWS makes it wait.
        from dd0c_cost.topology import REMEDIATIONS, TOPOLOGY

        if receive_count < TOPOLOGY.queue(REMEDIATIONS).max_receive_count:
            raise
        # the last delivery: stop waiting, say so, and let SQS park the message
        with tenant_transaction(run.conn, run.message.tenant_id):
            request = store.get(run.conn, run.message.remediation_id)
        if request is not None:
            run.audit("failed", state="gave_up", reason=str(exc)[:500], detail={"remediation_id": str(request.id)})
            run.end(request, "failed", f"❌ Gave up after {receive_count} attempts: {exc}", error=str(exc)[:1000])
        raise


def handle_record(record) -> str:
    """The Lambda's per-record function: run the remediation, or back off while AWS works."""
    receive_count = int(record.attributes.approximate_receive_count or 1)
    try:
        return process_remediation(record.body, receive_count)
    except RemediationPending as exc:
        from dd0c_cost.lambda_runtime import back_off
        from dd0c_cost.topology import REMEDIATIONS

        back_off(record, REMEDIATIONS, exc.retry_in)
        raise


__all__ = ["RemediationPending", "customer_session", "handle_record", "process_remediation"]
