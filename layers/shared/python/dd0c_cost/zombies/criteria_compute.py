"""Rules for compute and its storage: EC2 instances, EBS volumes and snapshots, SageMaker endpoints
(docs/zombies.md; the rules as the issue states them: ``dd0c_cost.zombies.criteria``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from dd0c_cost.zombies.criteria_shared import (
    EC2_MAX_AVG_CPU,
    EC2_MAX_CPU,
    EC2_MAX_NETWORK_BYTES,
    EC2_STOPPED_DAYS,
    MIN_DAYS_WITH_DATA,
    SHORT_WINDOW_DAYS,
    SNAPSHOT_DAYS,
    WINDOW_DAYS,
    Context,
    Metrics,
    Outcome,
    age_at_least,
    day_start,
    dimensions,
    idle_run_start,
    later,
    series_of,
    zero_filled,
)
from dd0c_cost.zombies.models import Evaluation, Exclusion, MetricQuery, Resource, Verdict, utc

# --- EBS volumes --------------------------------------------------------------------------------


def _ebs_ops(resource: Resource) -> list[MetricQuery]:
    dims = dimensions(("VolumeId", resource.resource_id))
    return [MetricQuery("AWS/EBS", "VolumeReadOps", dims, "Sum"), MetricQuery("AWS/EBS", "VolumeWriteOps", dims, "Sum")]


def queries_ebs_volume(resource: Resource) -> list[MetricQuery]:
    return _ebs_ops(resource)


def evaluate_ebs_volume(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    days = ctx.window.day_list()
    ops = _ebs_ops(resource)
    if resource.state == "available":
        with_data = [d for d in days if any(d in series_of(metrics, q) for q in ops)]
        last_attached_day = max(with_data) if with_data else None
        detached_since = later(
            resource.created_at,
            ctx.window.start if last_attached_day is None else day_start(last_attached_day) + timedelta(days=1),
        )
        if utc(ctx.scan_time) - detached_since < timedelta(days=SHORT_WINDOW_DAYS):
            return None  # unattached for less than the check's window
        return Evaluation(
            criterion="ebs_unattached",
            verdict=Verdict.ZOMBIE,
            idle_since=detached_since,
            evidence={
                "state": "available",
                "unattached_since_at_least": detached_since.isoformat(),
                "last_day_with_io_metrics": last_attached_day.isoformat() if last_attached_day else None,
                "rule": f"unattached for >= {SHORT_WINDOW_DAYS} days",
                "size_gb": resource.attributes.get("size_gb"),
                "volume_type": resource.attributes.get("volume_type"),
            },
        )
    if resource.state != "in-use":
        return None
    attachments = resource.attributes.get("attachments") or []
    if not attachments or any(a.get("instance_state") != "running" for a in attachments):
        return None  # on a stopped instance: the instance's finding holds its volumes
    attached_at = min(
        (utc(datetime.fromisoformat(a["attach_time"])) for a in attachments if a.get("attach_time")), default=None
    )
    if not age_at_least(resource, ctx, WINDOW_DAYS) or (
        attached_at is not None and utc(ctx.scan_time) - attached_at < timedelta(days=WINDOW_DAYS)
    ):
        return None
    totals = zero_filled(metrics, ops, days)
    if any(v != 0 for v in totals.values()):
        return None
    return Evaluation(
        criterion="ebs_no_io",
        verdict=Verdict.IDLE_SUSPECT,
        idle_since=later(ctx.window.start, attached_at),
        evidence={
            "state": "in-use",
            "instances": [a.get("instance_id") for a in attachments],
            "read_write_ops_14d": 0,
            "days_with_data": sum(1 for d in days if any(d in series_of(metrics, q) for q in ops)),
            "rule": "attached to a running instance, zero read and write operations for 14 days (missing = zero)",
        },
    )


# --- EC2 instances ------------------------------------------------------------------------------


def _ec2_queries(resource: Resource) -> dict[str, MetricQuery]:
    dims = dimensions(("InstanceId", resource.resource_id))
    return {
        "cpu_avg": MetricQuery("AWS/EC2", "CPUUtilization", dims, "Average"),
        "cpu_max": MetricQuery("AWS/EC2", "CPUUtilization", dims, "Maximum"),
        "net_in": MetricQuery("AWS/EC2", "NetworkIn", dims, "Sum"),
        "net_out": MetricQuery("AWS/EC2", "NetworkOut", dims, "Sum"),
    }


def queries_ec2_instance(resource: Resource) -> list[MetricQuery]:
    if resource.state != "running":
        return []
    return list(_ec2_queries(resource).values())


_STOP_TIME = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


def stopped_at(state_transition_reason: str | None) -> datetime | None:
    """``User initiated (2026-10-01 09:00:00 GMT)`` -> that instant; None if it names no time."""
    match = _STOP_TIME.search(state_transition_reason or "")
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def evaluate_ec2_instance(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    if resource.attributes.get("lifecycle") == "spot":
        return Exclusion("spot instance: its spot request owns its lifecycle")
    if resource.state == "stopped":
        return _ec2_stopped(resource, ctx)
    if resource.state != "running":
        return None
    return _ec2_idle(resource, metrics, ctx)


def _ec2_stopped(resource: Resource, ctx: Context) -> Outcome:
    """Stopped for >= 30 days: its volumes still bill."""
    since = resource.attributes.get("stopped_at")
    since_dt = utc(datetime.fromisoformat(since)) if since else ctx.prior_idle_since
    if since_dt is None:
        return Evaluation(
            criterion="ec2_stopped",
            verdict=Verdict.INSUFFICIENT_DATA,
            idle_since=utc(ctx.scan_time),
            evidence={
                "state": "stopped",
                "stopped_at": None,
                "rule": f"stopped for >= {EC2_STOPPED_DAYS} days",
                "why": "StateTransitionReason names no stop time; this scan starts the clock",
            },
        )
    if utc(ctx.scan_time) - utc(since_dt) < timedelta(days=EC2_STOPPED_DAYS):
        return None
    return Evaluation(
        criterion="ec2_stopped",
        verdict=Verdict.ZOMBIE,
        idle_since=utc(since_dt),
        evidence={
            "state": "stopped",
            "stopped_at": utc(since_dt).isoformat(),
            "stopped_days": round((utc(ctx.scan_time) - utc(since_dt)).total_seconds() / 86400, 1),
            "volumes": [v.get("volume_id") for v in resource.attributes.get("volumes") or []],
            "rule": f"stopped for >= {EC2_STOPPED_DAYS} days: still paying for its volumes",
        },
    )


def _ec2_idle(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    """Running for >= 14 days, and every day with data idle on CPU and network."""
    launched = resource.attributes.get("launch_time")
    launched_dt = utc(datetime.fromisoformat(launched)) if launched else resource.created_at
    if launched_dt is None or utc(ctx.scan_time) - utc(launched_dt) < timedelta(days=WINDOW_DAYS):
        return None
    q = _ec2_queries(resource)
    days = ctx.window.day_list()
    table: list[list[Any]] = []  # day, average CPU, maximum CPU, network bytes
    for d in days:
        avg = series_of(metrics, q["cpu_avg"]).get(d)
        if avg is None:
            continue
        peak = series_of(metrics, q["cpu_max"]).get(d, avg)
        network = series_of(metrics, q["net_in"]).get(d, 0.0) + series_of(metrics, q["net_out"]).get(d, 0.0)
        if avg > EC2_MAX_AVG_CPU or peak > EC2_MAX_CPU or network > EC2_MAX_NETWORK_BYTES:
            return None  # one busy day is enough: not idle
        table.append([d.isoformat(), round(avg, 4), round(peak, 4), network])
    evidence = {
        "state": "running",
        "days_with_data": len(table),
        "max_daily_avg_cpu_percent": max((r[1] for r in table), default=None),
        "max_cpu_percent": max((r[2] for r in table), default=None),
        "max_daily_network_bytes": max((r[3] for r in table), default=None),
        "daily": table,
        "rule": (
            f"every day with data (>= {MIN_DAYS_WITH_DATA} of {WINDOW_DAYS}) has average CPU <= {EC2_MAX_AVG_CPU:g} %, "
            f"maximum CPU <= {EC2_MAX_CPU:g} % and network <= 5 MB"
        ),
    }
    verdict = Verdict.ZOMBIE if len(table) >= MIN_DAYS_WITH_DATA else Verdict.INSUFFICIENT_DATA
    return Evaluation("ec2_idle", verdict, later(ctx.window.start, launched_dt), evidence)


# --- EBS snapshots ------------------------------------------------------------------------------


def queries_ebs_snapshot(resource: Resource) -> list[MetricQuery]:
    return []


def evaluate_ebs_snapshot(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    attrs = resource.attributes
    if resource.state != "completed" or resource.created_at is None:
        return None
    if utc(ctx.scan_time) - utc(resource.created_at) <= timedelta(days=SNAPSHOT_DAYS):
        return None
    if attrs.get("source_volume_exists") or attrs.get("used_by_images"):
        return None
    since = utc(resource.created_at) + timedelta(days=SNAPSHOT_DAYS)
    return Evaluation(
        "snapshot_orphaned",
        Verdict.ZOMBIE,
        since,
        {
            "started": utc(resource.created_at).isoformat(),
            "source_volume": attrs.get("volume_id"),
            "source_volume_exists": False,
            "used_by_images": [],
            "rule": f"older than {SNAPSHOT_DAYS} days, source volume gone, no AMI uses it "
            f"(waste counted from the day it turned {SNAPSHOT_DAYS} days old)",
        },
    )


# --- SageMaker endpoints ------------------------------------------------------------------------


def _sagemaker_queries(resource: Resource) -> list[MetricQuery]:
    return [
        MetricQuery(
            "AWS/SageMaker",
            "Invocations",
            dimensions(("EndpointName", resource.resource_id), ("VariantName", v["name"])),
            "Sum",
        )
        for v in resource.attributes.get("variants") or []
    ]


def queries_sagemaker_endpoint(resource: Resource) -> list[MetricQuery]:
    return _sagemaker_queries(resource) if resource.state == "InService" else []


def evaluate_sagemaker_endpoint(resource: Resource, metrics: Metrics, ctx: Context) -> Outcome:
    variants = resource.attributes.get("variants") or []
    if variants and all(v.get("serverless") for v in variants):
        return Exclusion("serverless endpoint: no cost while idle")
    if resource.state != "InService" or not age_at_least(resource, ctx, SHORT_WINDOW_DAYS):
        return None
    days = ctx.window.day_list()
    totals = zero_filled(metrics, _sagemaker_queries(resource), days)
    if any(totals[d] != 0 for d in days[-SHORT_WINDOW_DAYS:]):
        return None
    run_start = idle_run_start(totals, days)
    since = later(day_start(run_start) if run_start else ctx.window.start, resource.created_at)
    return Evaluation(
        "sagemaker_no_invocations",
        Verdict.ZOMBIE,
        since,
        {
            "variants": [
                {"name": v["name"], "instance_type": v.get("instance_type"), "instances": v.get("instances")}
                for v in variants
            ],
            "invocations_7d": 0,
            "zero_days": sum(1 for d in days if totals[d] == 0),
            "rule": "zero Invocations on every variant for 7 days (no datapoints = zero)",
        },
    )
