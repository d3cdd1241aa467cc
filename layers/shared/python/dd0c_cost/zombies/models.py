"""The zombie hunter's data: resource descriptions (what the inventory read), metric queries and
series (what CloudWatch said), evaluations (what a criterion concluded), findings (what is stored)
and the queue message that asks for one scan.

Pure data: no I/O. Times are timezone-aware UTC datetimes; days are UTC dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator, model_validator

from dd0c_cost.model import Model

HOURS_PER_MONTH = 730  # AWS's convention for monthly prices (the price snapshot's too)
IGNORE_TAG = "dd0c:ignore"


class ResourceType(StrEnum):
    EBS_VOLUME = "ebs_volume"
    EC2_INSTANCE = "ec2_instance"
    RDS_INSTANCE = "rds_instance"
    ELASTIC_IP = "elastic_ip"
    NAT_GATEWAY = "nat_gateway"
    LOAD_BALANCER = "load_balancer"
    EBS_SNAPSHOT = "ebs_snapshot"
    SAGEMAKER_ENDPOINT = "sagemaker_endpoint"
    ELASTICACHE_CLUSTER = "elasticache_cluster"
    REDSHIFT_CLUSTER = "redshift_cluster"
    OPENSEARCH_DOMAIN = "opensearch_domain"


class Verdict(StrEnum):
    ZOMBIE = "zombie"
    IDLE_SUSPECT = "idle_suspect"
    INSUFFICIENT_DATA = "insufficient_data"


class FindingStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    REMEDIATED = "remediated"
    IGNORED = "ignored"
    GONE = "gone"  # the resource no longer exists (closed by a scan that could check)
    IN_USE = "in_use"  # the resource is busy again (closed by a scan that could check)


# A scan may move these (close, refresh); a person's decision (ignored, remediated) stays.
LIVE_STATUSES = frozenset({FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED, FindingStatus.SNOOZED})
CLOSED_STATUSES = frozenset({FindingStatus.GONE, FindingStatus.IN_USE})
# What a person (Slack, API) may set.
SETTABLE_STATUSES = frozenset(
    {
        FindingStatus.OPEN,
        FindingStatus.ACKNOWLEDGED,
        FindingStatus.SNOOZED,
        FindingStatus.REMEDIATED,
        FindingStatus.IGNORED,
    }
)


def utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime (naive values are taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Resource:
    """One resource as the inventory described it. ``attributes`` holds the type's facts the
    criteria and the pricing read (sizes, types, attachments, listeners ...), JSON-serialisable."""

    resource_type: ResourceType
    resource_id: str
    account_id: str
    region: str
    created_at: datetime | None  # None: the API does not say (Elastic IPs, OpenSearch domains)
    state: str = ""
    name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type.value, self.resource_id)


@dataclass(frozen=True, order=True)
class MetricQuery:
    """One CloudWatch statistic of one metric, as daily values over the scan window."""

    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]  # (name, value) pairs: the metric's full dimension set
    stat: str  # Sum | Average | Maximum | Minimum | SampleCount

    def as_metric_stat(self, period_s: int) -> dict[str, Any]:
        return {
            "Metric": {
                "Namespace": self.namespace,
                "MetricName": self.metric,
                "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
            },
            "Period": period_s,
            "Stat": self.stat,
        }


Series = Mapping[date, float]  # UTC day -> the statistic for that day; days without data are absent


@dataclass(frozen=True)
class Window:
    """The whole UTC days a scan looks at: ``days`` days ending at the start of the scan's day."""

    scan_time: datetime
    days: int = 14

    @property
    def end(self) -> datetime:
        t = utc(self.scan_time)
        return datetime(t.year, t.month, t.day, tzinfo=UTC)

    @property
    def start(self) -> datetime:
        from datetime import timedelta

        return self.end - timedelta(days=self.days)

    def day_list(self, last: int | None = None) -> list[date]:
        """The window's days, oldest first (the last ``last`` only, if given)."""
        from datetime import timedelta

        first = self.start.date()
        every = [first + timedelta(days=i) for i in range(self.days)]
        return every if last is None else every[-last:]


@dataclass(frozen=True)
class Evaluation:
    """What a criterion concluded about one resource."""

    criterion: str
    verdict: Verdict
    idle_since: datetime  # best evidence of when the idleness began (kept if a scan saw it earlier)
    evidence: Mapping[str, Any]
    owner_kind: str | None = None  # set: "fix in owner" (not offered for deletion)
    owner_name: str | None = None


@dataclass(frozen=True)
class Exclusion:
    """The resource is left alone, and why (opt-out tag, spot instance ...)."""

    reason: str


@dataclass(frozen=True)
class PriceComponent:
    component: str  # instance_hours, storage, provisioned_iops, throughput, public_ipv4, multi_az, nat_hours ...
    quantity: float
    unit: str
    usd_per_month: float | None  # None: unpriced (reason says why)
    source: str = ""
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "quantity": self.quantity,
            "unit": self.unit,
            "usd_per_month": None if self.usd_per_month is None else round(self.usd_per_month, 6),
            "source": self.source,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Waste:
    components: tuple[PriceComponent, ...]

    @property
    def monthly_usd(self) -> float | None:
        priced = [c.usd_per_month for c in self.components if c.usd_per_month is not None]
        return round(sum(priced), 6) if priced else None

    @property
    def unpriced_reason(self) -> str | None:
        reasons = [f"{c.component}: {c.reason}" for c in self.components if c.usd_per_month is None]
        return "; ".join(reasons) if reasons else None

    def so_far_usd(self, since: datetime, until: datetime) -> float | None:
        monthly = self.monthly_usd
        if monthly is None:
            return None
        hours = max(0.0, (utc(until) - utc(since)).total_seconds() / 3600)
        return round(monthly / HOURS_PER_MONTH * hours, 6)


# --- stored findings ----------------------------------------------------------------------------


class ZombieFinding(Model):
    """A finding as stored and listed (CLI ``zombies --json``, ``GET /v1/zombies``)."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    tenant_id: UUID
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    resource_name: str | None = None
    criterion: str
    verdict: Verdict
    evidence: dict[str, Any] = Field(default_factory=dict)
    first_seen_idle: datetime
    last_scanned_at: datetime
    monthly_waste_usd: float | None = None
    waste_so_far_usd: float | None = None
    price_components: list[dict[str, Any]] = Field(default_factory=list)
    unpriced_reason: str | None = None
    owner_kind: str | None = None
    owner_name: str | None = None
    status: FindingStatus
    snoozed_until: datetime | None = None
    status_changed_by: str | None = None
    closed_at: datetime | None = None

    @property
    def fix_in_owner(self) -> bool:
        return self.owner_kind is not None

    def summary_line(self) -> str:
        waste = "unpriced" if self.monthly_waste_usd is None else f"${self.monthly_waste_usd:,.2f}/month"
        return f"{self.resource_type} {self.resource_id} ({self.account_id} {self.region}): {self.criterion}, {waste}"


# --- the queue message ----------------------------------------------------------------------------

SCAN: Final = "scan"
DIGEST: Final = "digest"


class ZombieMessage(Model):
    """One unit of work on the zombie queue: scan one account in one region at ``scan_time``, or
    post one tenant's weekly digest. ``scan_time`` is the schedule's event time, not wall time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    kind: Literal["scan", "digest"]
    tenant_id: UUID
    scan_time: datetime
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")

    @field_validator("scan_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return utc(value)

    @model_validator(mode="after")
    def _scan_has_a_target(self) -> ZombieMessage:
        if self.kind == SCAN and (self.account_id is None or self.region is None):
            raise ValueError("a scan message needs account_id and region")
        return self

    @property
    def group(self) -> str:
        """FIFO message group: one account+region at a time (API rate limits are per account and
        region); digests per tenant."""
        return f"{self.account_id}:{self.region}" if self.kind == SCAN else f"digest:{self.tenant_id}"

    @property
    def natural_key(self) -> tuple[str, ...]:
        if self.kind == SCAN:
            return (SCAN, str(self.tenant_id), self.account_id or "", self.region or "", self.scan_time.isoformat())
        return (DIGEST, str(self.tenant_id), self.scan_time.isoformat())
