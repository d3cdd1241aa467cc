"""Batched CloudWatch reads: every statistic a scan needs, through ``GetMetricData`` with up to 500
queries a call (CloudWatch's limit), daily periods over the scan window, paginated by NextToken.

One call serves up to 500 resource-metrics, so a region with 1,000 resources of four metrics each
costs 8 calls, not 4,000 ``GetMetricStatistics``. A query CloudWatch could not answer
(``StatusCode`` other than Complete after the last page, or a call that failed) is reported in
``failed`` and its resource is left unchecked, never treated as idle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from dd0c_cost.zombies.models import MetricQuery, Window

MAX_QUERIES_PER_CALL = 500  # GetMetricData's limit on MetricDataQueries
DAY_S = 86_400


@dataclass
class MetricFetch:
    series: dict[MetricQuery, dict[date, float]] = field(default_factory=dict)
    failed: dict[MetricQuery, str] = field(default_factory=dict)  # query -> why
    calls: int = 0  # GetMetricData requests made (pages included)
    queries: int = 0  # distinct statistics asked for


def _day(value: datetime) -> date:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).date()


def fetch_daily(cloudwatch, queries: Iterable[MetricQuery], window: Window, *, on_error=None) -> MetricFetch:
    """Daily values of ``queries`` over ``window``.

    ``cloudwatch`` is a boto3 CloudWatch client. A call that raises (after botocore's own retries)
    marks its queries failed with the error's classification (``on_error(exc) -> str``, default
    the exception's class name) and the fetch continues with the next batch.
    """
    unique = sorted(set(queries))
    result = MetricFetch(queries=len(unique))
    for start in range(0, len(unique), MAX_QUERIES_PER_CALL):
        batch = unique[start : start + MAX_QUERIES_PER_CALL]
        by_id = {f"q{i}": q for i, q in enumerate(batch)}
        request = {
            "MetricDataQueries": [
                {"Id": qid, "MetricStat": q.as_metric_stat(DAY_S), "ReturnData": True} for qid, q in by_id.items()
            ],
            "StartTime": window.start,
            "EndTime": window.end,
            "ScanBy": "TimestampAscending",
        }
        status: dict[str, str] = {}
        try:
            token = None
            while True:
                page = cloudwatch.get_metric_data(**request, **({"NextToken": token} if token else {}))
                result.calls += 1
                for item in page.get("MetricDataResults", []):
                    query = by_id.get(item["Id"])
                    if query is None:
                        continue
                    series = result.series.setdefault(query, {})
                    first, last = window.start.date(), window.end.date()
                    for ts, value in zip(item.get("Timestamps", []), item.get("Values", []), strict=True):
                        day = _day(ts)
                        if first <= day < last:
                            series[day] = float(value)
                    status[item["Id"]] = item.get("StatusCode", "Complete")
                token = page.get("NextToken")
                if not token:
                    break
        except Exception as exc:  # noqa: BLE001 - classified and reported per query, never dropped
            why = on_error(exc) if on_error else type(exc).__name__
            for query in batch:
                result.failed[query] = why
                result.series.pop(query, None)
            continue
        for qid, query in by_id.items():
            code = status.get(qid, "Missing")
            if code != "Complete":
                result.failed[query] = f"StatusCode {code}"
                result.series.pop(query, None)
            else:
                result.series.setdefault(query, {})
    return result
