"""One scan of one account in one region: inventory -> batched metrics -> criteria -> prices.

``scan_region`` makes AWS calls (through the session it is given) and nothing else; storing the
result is ``dal.apply_scan``'s job. The scan time is an input (the schedule's event time), so a
scan is deterministic given what AWS answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from dd0c_cost.pricing import PriceBook
from dd0c_cost.zombies import criteria, inventory, metrics
from dd0c_cost.zombies.criteria import Context
from dd0c_cost.zombies.models import Evaluation, Exclusion, MetricQuery, Resource, ResourceType, Waste, Window, utc

# Status of a scan, worst first when combining.
COMPLETE, PARTIAL, ACCESS_DENIED, THROTTLED, FAILED = "complete", "partial", "access_denied", "throttled", "failed"


@dataclass(frozen=True)
class Finding:
    resource: Resource
    evaluation: Evaluation
    waste: Waste


@dataclass
class RegionScan:
    account_id: str
    region: str
    scan_time: datetime
    findings: list[Finding] = field(default_factory=list)
    exclusions: list[tuple[Resource, Exclusion]] = field(default_factory=list)
    present: set[tuple[str, str]] = field(default_factory=set)  # every resource the inventory saw
    checked: set[tuple[str, str]] = field(default_factory=set)  # resources fully evaluated
    complete_types: set[ResourceType] = field(default_factory=set)  # types whose inventory is complete
    errors: dict[str, dict] = field(default_factory=dict)  # section (or "metrics", "assume_role") -> {kind, detail}
    resources: int = 0
    metric_queries: int = 0
    metric_calls: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str:
        kinds = {e["kind"] for e in self.errors.values()}
        if not kinds:
            return COMPLETE
        if "assume_role" in self.errors:
            return (
                ACCESS_DENIED
                if self.errors["assume_role"]["kind"] == "access_denied"
                else (THROTTLED if self.errors["assume_role"]["kind"] == "throttled" else FAILED)
            )
        if not self.complete_types and not self.checked:
            return ACCESS_DENIED if kinds == {"access_denied"} else THROTTLED if "throttled" in kinds else FAILED
        return PARTIAL

    @property
    def throttled(self) -> bool:
        return any(e["kind"] == "throttled" for e in self.errors.values())


def denied(account_id: str, region: str, scan_time: datetime, kind: str, detail: str) -> RegionScan:
    """The scan that could not start (the role could not be assumed)."""
    return RegionScan(account_id, region, utc(scan_time), errors={"assume_role": {"kind": kind, "detail": detail}})


def scan_region(
    session,
    account_id: str,
    region: str,
    scan_time: datetime,
    *,
    book: PriceBook,
    prior_idle_since: Mapping[tuple[str, str], datetime] | None = None,
    client_config=None,
) -> RegionScan:
    """Scan ``region`` of ``account_id`` with ``session`` (the customer's reader role).

    ``prior_idle_since``: first_seen_idle of the live findings already stored for this account and
    region, by (resource type, resource id); criteria that have no timestamp of their own (Elastic
    IPs) count from it.
    """
    scan_time = utc(scan_time)
    prior = prior_idle_since or {}
    result = RegionScan(account_id, region, scan_time)
    inv = inventory.read_region(session, account_id, region, client_config=client_config)
    result.api_calls = dict(inv.calls)
    result.errors.update({name: {"kind": e.kind, "detail": e.detail} for name, e in inv.errors.items()})
    unchecked_types = inv.unchecked_types()
    result.complete_types = set(ResourceType) - unchecked_types
    resources = [r for r in inv.resources if r.resource_type not in unchecked_types]
    result.resources = len(inv.resources)
    result.present = {r.key for r in inv.resources}

    wanted: dict[tuple[str, str], list[MetricQuery]] = {r.key: criteria.metric_queries(r) for r in resources}
    fetched = _fetch_metrics(session, client_config, wanted, result)
    for resource in resources:
        queries = wanted[resource.key]
        if any(q in fetched.failed for q in queries):
            continue  # unchecked: its finding (if any) stays as it is
        ctx = Context(scan_time, prior.get(resource.key))
        outcome = criteria.evaluate(resource, {q: fetched.series.get(q, {}) for q in queries}, ctx)
        result.checked.add(resource.key)
        if isinstance(outcome, Exclusion):
            result.exclusions.append((resource, outcome))
        elif isinstance(outcome, Evaluation):
            from dd0c_cost.zombies.waste import waste_of

            result.findings.append(Finding(resource, outcome, waste_of(book, resource)))
    result.findings.sort(key=lambda f: f.resource.key)
    return result


def _fetch_metrics(
    session, client_config, wanted: dict[tuple[str, str], list[MetricQuery]], result: RegionScan
) -> metrics.MetricFetch:
    """Every statistic the criteria want, in batched ``GetMetricData`` calls over the scan's window;
    the calls and what went unanswered are recorded on ``result``."""
    fetched = metrics.MetricFetch()
    all_queries = [q for qs in wanted.values() for q in qs]
    if all_queries:
        cloudwatch = session.client("cloudwatch", region_name=result.region, config=client_config)
        fetched = metrics.fetch_daily(
            cloudwatch, all_queries, Window(result.scan_time, criteria.WINDOW_DAYS), on_error=inventory.classify_error
        )
    result.metric_queries, result.metric_calls = fetched.queries, fetched.calls
    result.api_calls["cloudwatch:GetMetricData"] = fetched.calls
    if fetched.failed:
        kinds = sorted(set(fetched.failed.values()))
        kind = "throttled" if "throttled" in kinds else "access_denied" if kinds == ["access_denied"] else "error"
        result.errors["metrics"] = {
            "kind": kind,
            "detail": f"{len(fetched.failed)} of {fetched.queries} statistics unanswered: {', '.join(kinds)}",
        }
    return fetched
