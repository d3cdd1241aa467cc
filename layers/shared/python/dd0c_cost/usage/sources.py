"""Reading a customer account's billing series through its ``dd0c-reader`` role.

- CloudWatch (``us-east-1``, where AWS publishes billing metrics): ``ListMetrics`` finds the
  account's ``AWS/Billing`` ``EstimatedCharges`` metrics with exactly the dimensions
  ``ServiceName`` and ``Currency``; ``GetMetricData`` reads them hourly (``Maximum`` of the
  month-to-date value), up to 500 series per call. Free within CloudWatch's API free tier.
- Cost Explorer (``GetCostAndUsage``, ``HOURLY``, ``UnblendedCost`` grouped by ``SERVICE``):
  only where the tenant enables it, since each request (each page) costs USD 0.01; every call
  is counted before it is made and refused past the tenant's monthly cap (``take``). Hourly
  granularity covers the last 14 days and must be enabled in the account's Cost Explorer
  preferences.

Errors are classified (``SourceError.kind``: access_denied, throttled, not_enabled, failed) so
the poller can record them; none is fatal to a poll.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dd0c_cost.usage.billing import Sample, utc

BILLING_REGION = "us-east-1"
NAMESPACE = "AWS/Billing"
METRIC = "EstimatedCharges"
PERIOD_S = 3600
MAX_QUERIES = 500  # GetMetricData's limit per request
CE_API = "ce:GetCostAndUsage"
CE_HOURLY_DAYS = 14  # Cost Explorer keeps hourly data for 14 days

# CloudWatch ServiceName -> Cost Explorer SERVICE, for the top usage types of an anomaly raised on
# a CloudWatch series. Names as Cost Explorer lists them; a service missing here gets no
# breakdown (the anomaly says so) rather than a wrong one.
CE_SERVICE_NAMES = {
    "AmazonEC2": "Amazon Elastic Compute Cloud - Compute",
    "AWSDataTransfer": "AWS Data Transfer",
    "AmazonS3": "Amazon Simple Storage Service",
    "AWSLambda": "AWS Lambda",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "AmazonRDS": "Amazon Relational Database Service",
    "AmazonDynamoDB": "Amazon DynamoDB",
    "AmazonVPC": "Amazon Virtual Private Cloud",
    "AmazonSageMaker": "Amazon SageMaker",
    "AmazonRedshift": "Amazon Redshift",
    "AmazonKinesis": "Amazon Kinesis",
    "AmazonElastiCache": "Amazon ElastiCache",
    "AmazonSNS": "Amazon Simple Notification Service",
    "AWSQueueService": "Amazon Simple Queue Service",
}

Series = dict[str, dict[str, list[Sample]]]  # service -> currency -> samples


class SourceError(RuntimeError):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def classify(exc: Exception) -> SourceError:
    """botocore errors by their code: what the poller records."""
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidClientTokenId"):
        return SourceError("access_denied", f"{code}: {exc}")
    if "Throttl" in code or code in ("RequestLimitExceeded", "LimitExceededException", "TooManyRequestsException"):
        return SourceError("throttled", f"{code}: {exc}")
    if code == "DataUnavailableException" or "not enabled" in str(exc).lower():
        return SourceError("not_enabled", f"{code}: {exc}")
    return SourceError("failed", f"{code or type(exc).__name__}: {exc}")


@dataclass
class Calls:
    """API calls made by one poll, by name (what the reader role was used for)."""

    made: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)

    def add(self, api: str) -> None:
        self.made[api] = self.made.get(api, 0) + 1


def _guard(call: Callable, *args, **kwargs):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call(*args, **kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc) from exc


def billing_metrics(cloudwatch, calls: Calls) -> list[tuple[str, str]]:
    """(service, currency) of every per-service EstimatedCharges metric of the account."""
    found: set[tuple[str, str]] = set()
    token = None
    while True:
        kwargs = {"Namespace": NAMESPACE, "MetricName": METRIC}
        if token:
            kwargs["NextToken"] = token
        calls.add("cloudwatch:ListMetrics")
        page = _guard(cloudwatch.list_metrics, **kwargs)
        for metric in page.get("Metrics", []):
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            if set(dims) == {"ServiceName", "Currency"}:
                found.add((dims["ServiceName"], dims["Currency"]))
        token = page.get("NextToken")
        if not token:
            return sorted(found)


def read_cloudwatch(cloudwatch, start: datetime, end: datetime, calls: Calls) -> Series:
    """Hourly month-to-date samples of every per-service billing metric in [start, end)."""
    metrics = billing_metrics(cloudwatch, calls)
    out: Series = {}
    for offset in range(0, len(metrics), MAX_QUERIES):
        chunk = metrics[offset : offset + MAX_QUERIES]
        queries = [
            {
                "Id": f"m{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": METRIC,
                        "Dimensions": [
                            {"Name": "ServiceName", "Value": service},
                            {"Name": "Currency", "Value": currency},
                        ],
                    },
                    "Period": PERIOD_S,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
            for i, (service, currency) in enumerate(chunk)
        ]
        token = None
        while True:
            kwargs = {
                "MetricDataQueries": queries,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            calls.add("cloudwatch:GetMetricData")
            page = _guard(cloudwatch.get_metric_data, **kwargs)
            for result in page.get("MetricDataResults", []):
                service, currency = chunk[int(result["Id"][1:])]
                samples = out.setdefault(service, {}).setdefault(currency, [])
                samples.extend(
                    Sample(utc(t), float(v))
                    for t, v in zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                )
            token = page.get("NextToken")
            if not token:
                break
    return out


def _ce_time(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_cost_explorer(
    ce, start: datetime, end: datetime, take: Callable[[], bool], calls: Calls
) -> tuple[Series, bool]:
    """Hourly unblended cost per service in [start, end) (clipped to the last 14 days); returns
    (series, complete). Each page is one paid call: ``take()`` must allow it first; a refusal
    stops the read (complete=False) with what was read so far."""
    start = max(utc(start), utc(end) - timedelta(days=CE_HOURLY_DAYS))
    out: Series = {}
    token = None
    while True:
        if not take():
            calls.refused[CE_API] = calls.refused.get(CE_API, 0) + 1
            return out, False
        kwargs = {
            "TimePeriod": {"Start": _ce_time(start), "End": _ce_time(end)},
            "Granularity": "HOURLY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        }
        if token:
            kwargs["NextPageToken"] = token
        calls.add(CE_API)
        page = _guard(ce.get_cost_and_usage, **kwargs)
        for period in page.get("ResultsByTime", []):
            at = datetime.fromisoformat(period["TimePeriod"]["Start"].replace("Z", "+00:00"))
            for group in period.get("Groups", []):
                cost = group["Metrics"]["UnblendedCost"]
                service = group["Keys"][0]
                out.setdefault(service, {}).setdefault(cost["Unit"], []).append(Sample(utc(at), float(cost["Amount"])))
        token = page.get("NextPageToken")
        if not token:
            return out, True


def top_usage_types(
    ce, service: str, start: datetime, end: datetime, take: Callable[[], bool], calls: Calls, *, limit: int = 5
) -> list[dict] | None:
    """The usage types that cost most in [start, end) for one Cost Explorer service (one paid
    call, first page only); None if the cap refused the call."""
    if not take():
        calls.refused[CE_API] = calls.refused.get(CE_API, 0) + 1
        return None
    calls.add(CE_API)
    page = _guard(
        ce.get_cost_and_usage,
        TimePeriod={"Start": _ce_time(start), "End": _ce_time(end)},
        Granularity="HOURLY",
        Metrics=["UnblendedCost"],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": [service]}},
        GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
    )
    totals: dict[str, list] = {}
    for period in page.get("ResultsByTime", []):
        for group in period.get("Groups", []):
            cost = group["Metrics"]["UnblendedCost"]
            entry = totals.setdefault(group["Keys"][0], [0.0, cost["Unit"]])
            entry[0] += float(cost["Amount"])
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [{"usage_type": k, "cost": round(v[0], 4), "currency": v[1]} for k, v in ranked]
