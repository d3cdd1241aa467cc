"""Usage-driven spend: the scheduled poller (issue 12).

Every hour an EventBridge schedule invokes ``usage_fanout`` (:func:`fan_out`), which sends one
message per connected account to the ``usage`` FIFO queue (group: tenant + account; dedup id:
tenant + account + the schedule's hour, the natural key, so a retried schedule sends nothing
twice). ``usage_poll`` (:func:`poll_body`) then, per message:

1. assumes the account's ``dd0c-reader`` role with its ExternalId;
2. reads CloudWatch ``AWS/Billing`` ``EstimatedCharges`` per service (hourly; the first poll of
   an account reads 14 days, which trains the detectors at once) and, where the tenant enables it,
   Cost Explorer hourly cost per service (calls counted and capped per month);
3. in one tenant transaction, with the account's series locked: turns the samples into rates
   (``usage.billing``: gaps, month resets, corrections and currency changes are explicit), scores
   each new rate with the series' ``StreamingDetector`` (``usage.detect``), stores every point by
   its natural key (tenant, account, source, service, hour) and the detectors' states, and raises
   "usage" anomalies in the anomalies table: a rise that continues grows the open anomaly of its
   service (one Slack message that updates), as bursts do in the event scorer;
4. after the commit, hands new revisions to the notify queue (the same notify stage, governance
   and Slack path as the event scorer). A crash between commit and send is repaired by the next
   poll, which re-sends usage anomalies whose newest revision was never notified.

Nothing a customer account answers is fatal: a denied role or a throttled API is recorded in
``usage_polls`` with its kind and the message is consumed; the series' cursors did not move, so
the next hour's poll reads the missed hours. Only our own failures (database, bugs) raise, and
those are retried by SQS and end in the DLQ.

Which source alerts: Cost Explorer when the tenant enabled it and this poll read it in full;
otherwise CloudWatch (whose detectors are trained on every poll either way, so a cap reached
mid-month falls back to them without a cold start).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from pydantic import ConfigDict, Field

from dd0c_cost import outcomes, queues
from dd0c_cost.model import Model
from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.topology_names import USAGE
from dd0c_cost.usage import billing, detect, sources
from dd0c_cost.usage import store as usage_store

CLOUDWATCH, COST_EXPLORER = "cloudwatch", "cost_explorer"
LOOKBACK = timedelta(days=14)  # the first poll's history (CloudWatch keeps hourly data 63 days)
ALERT_WINDOW = timedelta(hours=6)  # older points train the detector but raise nothing
GROUP_WINDOW = timedelta(hours=12)  # a rise within this of an open usage anomaly grows it
ACTOR = "usage (billing series: no API call announced it)"
REGION = "global"  # billing is account-wide
_IDS = uuid.UUID("6f3c1d2e-12a0-4e55-9d1b-0c0ffee00012")


class PollMessage(Model):
    """One account to poll at one hour (the usage queue's message)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: UUID
    account_id: str = Field(pattern=r"^\d{12}$")
    hour: datetime = Field(description="the schedule's event time, truncated to the hour (UTC)")


# The fan-out's database role (migration 019): dd0c_app plus dd0c.usage_poll_targets, the one
# cross-tenant read it needs; only the usage_fanout function's login is a member.
FANOUT_ROLE = "dd0c_usage_fanout"


def hour_of(moment: datetime) -> datetime:
    return billing.utc(moment).replace(minute=0, second=0, microsecond=0)


# --- fan-out ---------------------------------------------------------------------------------------
def fan_out(event: dict, conn=None) -> dict:
    """EventBridge schedule ``{"time": ...}`` -> one message per connected account."""
    from dd0c_cost.db.connection import get_connection

    hour = hour_of(datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")))
    targets = usage_store.poll_targets(conn or get_connection(role=FANOUT_ROLE))
    for tenant_id, account_id in targets:
        message = PollMessage(tenant_id=tenant_id, account_id=account_id, hour=hour)
        queues.send(
            USAGE,
            message.model_dump_json(),
            group=f"{tenant_id}:{account_id}",
            deduplication=queues.dedup_id("usage", tenant_id, account_id, hour.isoformat()),
        )
    outcomes.record("usage_fanout", "sent", None, {"messages": len(targets)})
    return {"hour": hour.isoformat(), "messages": len(targets)}


# --- clients ---------------------------------------------------------------------------------------
class Clients(Protocol):
    def session(self, account_id: str, external_id: str) -> Any: ...
    def cloudwatch(self, session: Any) -> Any: ...
    def cost_explorer(self, session: Any) -> Any: ...


class ReaderRoleClients:
    """The customer's ``dd0c-reader`` role (15-minute session), clients in us-east-1."""

    session_name = "dd0c-usage-poller"

    def session(self, account_id: str, external_id: str):
        import boto3
        from botocore.config import Config

        from dd0c_cost.onboarding import READER_ROLE_NAME

        sts = boto3.client("sts", config=Config(retries={"mode": "standard", "max_attempts": 4}))
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{READER_ROLE_NAME}",
            RoleSessionName=self.session_name,
            ExternalId=external_id,
            DurationSeconds=900,
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=sources.BILLING_REGION,
        )

    def cloudwatch(self, session):
        return session.client("cloudwatch", region_name=sources.BILLING_REGION)

    def cost_explorer(self, session):
        return session.client("ce", region_name=sources.BILLING_REGION)


_clients: Clients = ReaderRoleClients()


def set_clients(clients: Clients | None) -> None:
    """Replace how customer accounts are reached (tests, the local command); None restores."""
    global _clients
    _clients = clients or ReaderRoleClients()


# --- one poll --------------------------------------------------------------------------------------
@dataclass
class PollResult:
    tenant_id: UUID
    account_id: str
    hour: datetime
    status: str = "complete"
    samples: int = 0
    points: int = 0
    anomalies: list[tuple[UUID, int]] = field(default_factory=list)  # (id, revision) to notify
    errors: dict[str, dict] = field(default_factory=dict)
    calls: sources.Calls = field(default_factory=sources.Calls)


def poll_body(body: str | bytes) -> PollResult:
    from dd0c_cost.db.connection import get_connection

    message = PollMessage.model_validate_json(body)
    return poll_account(get_connection(), message.tenant_id, message.account_id, message.hour)


def poll_account(conn, tenant_id: UUID, account_id: str, hour: datetime) -> PollResult:
    from dd0c_cost.db.connection import tenant_transaction

    hour = hour_of(hour)
    result = PollResult(tenant_id, account_id, hour)
    with tenant_transaction(conn, tenant_id):
        config = usage_store.settings(conn, tenant_id)
        external_id = usage_store.external_id(conn, account_id)
        cursors = {
            source: {s: row.cursor for s, row in usage_store.lock_series(conn, tenant_id, account_id, source).items()}
            for source in (CLOUDWATCH, COST_EXPLORER)
        }
    if external_id is None:
        result.status = "not_connected"
        _finish(conn, result)
        return result

    read = _read(conn, result, config, account_id, external_id, hour, cursors)
    if read is None:
        _finish(conn, result)
        return result
    cloudwatch, cost_explorer, ce, ce_complete = read
    alerting = COST_EXPLORER if cost_explorer is not None and ce_complete else CLOUDWATCH
    thresholds = detect.UsageThresholds(config.alert_score, config.alert_floor_usd_per_hour)

    with tenant_transaction(conn, tenant_id):
        ctx = _Context(conn, result, thresholds, ce if config.cost_explorer else None, config, hour)
        for source, series in ((CLOUDWATCH, cloudwatch), (COST_EXPLORER, cost_explorer)):
            if series is None:
                continue
            locked = usage_store.lock_series(conn, tenant_id, account_id, source)
            for service in sorted(series):
                _process_series(ctx, source, service, series[service], locked.get(service), alert=source == alerting)
        # anything raised earlier but never handed to notify (a crash between commit and send)
        pending = set(result.anomalies)
        for item in usage_store.unnotified_usage_anomalies(conn, account_id, hour - GROUP_WINDOW):
            if item not in pending:
                result.anomalies.append(item)
    if result.errors and result.status == "complete":
        result.status = "partial"
    _finish(conn, result)
    return result


def _read(conn, result: PollResult, config, account_id: str, external_id: str, hour: datetime, cursors):
    """The account's series from its sources (no database lock held during AWS calls)."""
    from dd0c_cost.db.connection import tenant_transaction

    try:
        session = _clients.session(account_id, external_id)
    except Exception as exc:  # noqa: BLE001 - classified and recorded; a customer's role never fails the poll
        error = sources.classify(exc)
        result.status = error.kind
        result.errors["assume_role"] = {"kind": error.kind, "detail": error.detail[:500]}
        return None

    def start_of(source: str, floor: datetime) -> datetime:
        known = [c.at for c in cursors[source].values() if c.at is not None]
        return max(min(known) - timedelta(hours=1), floor) if known else floor

    cloudwatch = cost_explorer = ce = None
    try:
        cloudwatch = sources.read_cloudwatch(
            _clients.cloudwatch(session), start_of(CLOUDWATCH, hour - LOOKBACK), hour + timedelta(hours=1), result.calls
        )
    except sources.SourceError as error:
        result.errors[CLOUDWATCH] = {"kind": error.kind, "detail": error.detail[:500]}
    ce_complete = False
    if config.cost_explorer:
        ce = _clients.cost_explorer(session)
        month = billing.month_start(hour)

        def take() -> bool:
            with tenant_transaction(conn, result.tenant_id):
                return usage_store.take_call(conn, result.tenant_id, month, sources.CE_API, config.ce_monthly_call_cap)

        try:
            cost_explorer, ce_complete = sources.read_cost_explorer(
                ce, start_of(COST_EXPLORER, hour - LOOKBACK), hour, take, result.calls
            )
            if not ce_complete:
                result.errors[COST_EXPLORER] = {"kind": "capped", "detail": "monthly Cost Explorer call cap reached"}
        except sources.SourceError as error:
            result.errors[COST_EXPLORER] = {"kind": error.kind, "detail": error.detail[:500]}
    if cloudwatch is None and cost_explorer is None:
        kinds = {e["kind"] for e in result.errors.values()}
        result.status = next(iter(kinds)) if len(kinds) == 1 else "failed"
        return None
    return cloudwatch, cost_explorer, ce, ce_complete


@dataclass
class _Context:
    conn: Any
    result: PollResult
    thresholds: detect.UsageThresholds
    ce: Any
    config: usage_store.UsageSettings
    hour: datetime


def _process_series(
    ctx: _Context,
    source: str,
    service: str,
    by_currency: dict[str, list[billing.Sample]],
    row: usage_store.SeriesRow | None,
    *,
    alert: bool,
) -> None:
    result = ctx.result
    cursor = row.cursor if row else billing.Cursor()
    currency = billing.pick_currency(by_currency, cursor.currency)
    if currency is None:
        return
    samples = by_currency[currency]
    convert = billing.rates_from_cumulative if source == CLOUDWATCH else billing.rates_from_hourly
    points, new_cursor = convert(samples, cursor, currency)
    if not points:
        return
    detector = detect.restore(row.detector if row else None)
    alert_after = ctx.hour - ALERT_WINDOW
    scored: list[tuple[billing.RatePoint, float | None]] = []
    last_rate = last_baseline = None
    for point in points:
        if point.kind == billing.CURRENCY_CHANGE:
            detector = detect.new_detector()
        judged = detect.judge(detector, point, ctx.thresholds, alert_after)
        scored.append((point, round(judged.score, 6) if point.scored else None))
        if point.scored:
            last_rate, last_baseline = point.rate_per_hour, judged.baseline
        if judged.alert and alert:
            _raise(ctx, source, service, judged)
    result.samples += len(points)
    result.points += usage_store.insert_points(ctx.conn, result.tenant_id, result.account_id, source, service, scored)
    usage_store.save_series(
        ctx.conn,
        result.tenant_id,
        result.account_id,
        source,
        service,
        new_cursor,
        detector.to_state(),
        rate=last_rate,
        baseline=last_baseline,
        added=len(points),
    )


def _raise(ctx: _Context, source: str, service: str, judged: detect.Judged) -> None:
    """Raise a usage anomaly, or grow the service's open one."""
    result, conn, point = ctx.result, ctx.conn, judged.point
    event_id = f"usage:{source}:{service}:{point.at:%Y-%m-%dT%H:%MZ}"
    existing = usage_store.open_usage_anomaly(conn, result.account_id, service, point.at - GROUP_WINDOW)
    before = judged.baseline or 0.0
    if existing is not None:
        before = float(existing[0].attributes.get("rate_before", before))
    top, note = _usage_types(ctx, source, service, point)
    anomaly = _anomaly(result, source, service, judged, before, top, note)
    if existing is None:
        usage_store.insert_anomaly(conn, anomaly)
        result.anomalies.append((anomaly.id, 1))
        outcomes.record("usage", "anomaly", source)
        return
    grown = anomaly.model_copy(update={"id": existing[0].id})
    _, revision, notified = usage_store.grow_anomaly(conn, grown, event_id)
    if revision > notified:
        result.anomalies.append((existing[0].id, revision))
    outcomes.record("usage", "grouped", source)


def _usage_types(ctx: _Context, source: str, service: str, point: billing.RatePoint) -> tuple[list[dict] | None, str]:
    if ctx.ce is None:
        return None, "Cost Explorer is off for this tenant: no usage-type breakdown"
    ce_service = service if source == COST_EXPLORER else sources.CE_SERVICE_NAMES.get(service)
    if ce_service is None:
        return None, f"no Cost Explorer name known for {service}"
    start = point.at - timedelta(hours=max(point.hours or 1.0, 1.0))
    end = min(point.at + timedelta(hours=1), ctx.hour + timedelta(hours=1))

    def take() -> bool:
        month = billing.month_start(ctx.hour)
        return usage_store.take_call(
            ctx.conn, ctx.result.tenant_id, month, sources.CE_API, ctx.config.ce_monthly_call_cap
        )

    try:
        top = sources.top_usage_types(ctx.ce, ce_service, start, end, take, ctx.result.calls)
    except sources.SourceError as error:
        ctx.result.errors["usage_types"] = {"kind": error.kind, "detail": error.detail[:500]}
        return None, f"usage types unavailable ({error.kind})"
    if top is None:
        return None, "monthly Cost Explorer call cap reached: no usage-type breakdown"
    return top, ""


def _anomaly(
    result: PollResult,
    source: str,
    service: str,
    judged: detect.Judged,
    before: float,
    top: list[dict] | None,
    note: str,
) -> Anomaly:
    point = judged.point
    after = float(point.rate_per_hour or 0.0)
    increase = max(after - before, 0.0)
    monthly = increase * detect.HOURS_PER_MONTH
    cur = point.currency
    summary = (
        f"{service} spend rose from {before:,.2f} to {after:,.2f} {cur}/h (+{increase:,.2f} {cur}/h, "
        f"≈ {monthly:,.0f} {cur}/month if it continues) in account {result.account_id}; no API call announced it"
    )
    if top:
        summary += "; top usage types: " + ", ".join(f"{t['usage_type']} {t['cost']:,.2f}" for t in top[:3])
    attributes = {
        "kind": "usage",
        "source": source,
        "currency": cur,
        "rate_before": round(before, 6),
        "rate_after": round(after, 6),
        "increase_per_hour": round(increase, 6),
        "projected_monthly_impact": round(monthly, 2),
        "event_time": point.at.isoformat(),
        "top_usage_types": top,
    }
    if note:
        attributes["usage_types_note"] = note
    return Anomaly(
        id=uuid.uuid5(_IDS, f"{result.tenant_id}:{result.account_id}:{source}:{service}:{point.at.isoformat()}"),
        tenant_id=result.tenant_id,
        account_id=result.account_id,
        region=REGION,
        service=service,
        resource_type="usage",
        resource_ids=[],
        event_ids=[f"usage:{source}:{service}:{point.at:%Y-%m-%dT%H:%MZ}"],
        actor=ACTOR,
        detected_at=point.at,
        score=round(min(max(judged.score, 0.0), 1.0), 6),
        severity=detect.severity_for(monthly),
        estimated_hourly_usd=round(increase, 6),
        summary=summary,
        components=detect.components(judged, cur),
        attributes=attributes,
    )


def _finish(conn, result: PollResult) -> None:
    """Record the poll, then hand new revisions to notify (after the commit, never inside it)."""
    from dd0c_cost.db.connection import tenant_transaction
    from dd0c_cost.events.messages import NotifyMessage
    from dd0c_cost.topology_names import NOTIFY

    with tenant_transaction(conn, result.tenant_id):
        usage_store.record_poll(
            conn,
            result.tenant_id,
            result.account_id,
            result.hour,
            result.status,
            samples=result.samples,
            anomalies=len(result.anomalies),
            detail={"errors": result.errors, "calls": result.calls.made, "refused": result.calls.refused},
        )
    for anomaly_id, revision in result.anomalies:
        message = NotifyMessage(tenant_id=result.tenant_id, anomaly_id=anomaly_id, revision=revision)
        queues.send(
            NOTIFY,
            message.model_dump_json(),
            group=str(result.tenant_id),
            deduplication=queues.dedup_id(message.anomaly_id, message.revision),
        )
    outcomes.record("usage", result.status)


def now_hour() -> datetime:
    """Wall-clock hour, for the local command only (the schedule passes its event time)."""
    return hour_of(datetime.now(UTC))
