"""The zombie hunter on moto (tests, the demo, the benchmark): seeding resources with past creation
times, daily CloudWatch datapoints, and one honest adapter where moto's CloudWatch differs from AWS.

moto's ``GetMetricData`` ignores the namespace of a query that has dimensions, accepts more
than 500 queries, and rescans every datapoint for every query and period. ``cloudwatch_like_aws``
replaces it (for the test's duration) with an indexed implementation over moto's stored
datapoints that matches a metric the way CloudWatch does (namespace, name and the exact
dimension set), refuses more than 500 queries, and buckets periods from StartTime. Everything
else (put_metric_data, storage, the other services) is moto's own.

moto has no API to create resources in the past, so ``backdate`` sets the creation / launch /
stop times on moto's model objects directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import boto3

REGION = "us-east-1"
GET_METRIC_DATA_LIMIT = 500


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stat(datums: list, stat: str) -> float:
    sums, counts, maxes, mins = 0.0, 0.0, [], []
    for d in datums:
        if hasattr(d, "value"):
            sums += d.value
            counts += 1
            maxes.append(d.value)
            mins.append(d.value)
        else:
            sums += d.sum
            counts += d.sample_count
            maxes.append(d.max)
            mins.append(d.min)
    if stat == "Sum":
        return sums
    if stat == "Average":
        return sums / counts if counts else 0.0
    if stat == "Maximum":
        return max(maxes)
    if stat == "Minimum":
        return min(mins)
    if stat == "SampleCount":
        return counts
    raise ValueError(f"statistic {stat!r} is not supported by the test adapter")


def _aws_like_get_metric_data(self, queries, start_time, end_time, scan_by="TimestampDescending"):
    from moto.cloudwatch.exceptions import ValidationError

    if len(queries) > GET_METRIC_DATA_LIMIT:
        raise ValidationError(
            f"The collection MetricDataQueries must not have a size greater than {GET_METRIC_DATA_LIMIT}."
        )
    start, end = _aware(start_time).replace(microsecond=0), _aware(end_time).replace(microsecond=0)
    if start >= end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    index: dict[tuple, list] = defaultdict(list)
    for datum in self.metric_data:
        ts = _aware(datum.timestamp)
        if start <= ts < end:
            dims = frozenset((d.name, d.value) for d in datum.dimensions)
            index[(datum.namespace, datum.name, dims)].append((ts, datum))
    results = []
    for query in queries:
        if "MetricStat" not in query:
            raise ValidationError("the test adapter answers MetricStat queries only")
        stat = query["MetricStat"]
        metric = stat["Metric"]
        key = (
            metric["Namespace"],
            metric["MetricName"],
            frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])),
        )
        period = timedelta(seconds=int(stat["Period"]))
        buckets: dict[datetime, list] = defaultdict(list)
        for ts, datum in index.get(key, []):
            buckets[start + period * ((ts - start) // period)].append(datum)
        stamps = sorted(buckets, reverse=scan_by != "TimestampAscending")
        values = [_stat(buckets[t], stat["Stat"]) for t in stamps]
        results.append(
            {
                "id": query["Id"],
                "label": query.get("Label") or f"{metric['MetricName']} {stat['Stat']}",
                "values": values,
                "timestamps": stamps,
                "status_code": "Complete",
            }
        )
    return [r for r, q in zip(results, queries, strict=True) if q.get("ReturnData", True)]


@contextmanager
def cloudwatch_like_aws():
    """Patch moto's CloudWatch GetMetricData to match metrics as CloudWatch does (see above)."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.get_metric_data
    CloudWatchBackend.get_metric_data = _aws_like_get_metric_data
    try:
        yield
    finally:
        CloudWatchBackend.get_metric_data = original


# --- seeding ------------------------------------------------------------------------------------


def put_daily(
    cloudwatch,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    values: Mapping[date, float] | Iterable[tuple[date, float]],
    *,
    maximum: Mapping[date, float] | None = None,
) -> None:
    """One aggregated datapoint per day at noon UTC: Sum = Maximum = Minimum = value (one sample),
    unless ``maximum`` gives the day's maximum (then Sum = value, SampleCount 1)."""
    items = list(values.items() if isinstance(values, Mapping) else values)
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    data = []
    for day, value in items:
        peak = (maximum or {}).get(day, value)
        data.append(
            {
                "MetricName": metric,
                "Dimensions": dims,
                "Timestamp": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                "StatisticValues": {
                    "SampleCount": 1,
                    "Sum": float(value),
                    "Minimum": float(min(value, peak)),
                    "Maximum": float(peak),
                },
            }
        )
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 1000])


def put_many(cloudwatch, namespace: str, items: Iterable[tuple[str, Mapping[str, str], date, float]]) -> int:
    """Many daily datapoints (metric, dimensions, day, value) in calls of 1,000; returns the calls."""
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Timestamp": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            "StatisticValues": {
                "SampleCount": 1,
                "Sum": float(value),
                "Minimum": float(value),
                "Maximum": float(value),
            },
        }
        for metric, dims, day, value in items
    ]
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 1000])
    return (len(data) + 999) // 1000


def days_before(scan_time: datetime, count: int) -> list[date]:
    """The ``count`` whole UTC days before the scan's day, oldest first (the scan window)."""
    end = _aware(scan_time).date()
    return [end - timedelta(days=count - i) for i in range(count)]


def backend(service: str, account: str, region: str = REGION):
    from moto.backends import get_backend

    return get_backend(service)[account][region]


def _set_instance_launch(b, rid, when):
    instance = b.get_instance(rid)
    instance.launch_time = when.strftime("%Y-%m-%dT%H:%M:%S.000Z") if isinstance(instance.launch_time, str) else when


def _set_instance_stopped(b, rid, when):
    b.get_instance(rid)._reason = f"User initiated ({when.strftime('%Y-%m-%d %H:%M:%S')} GMT)"


def _set_elbv2_created(b, rid, when):
    for lb in b.load_balancers.values():
        if lb.name == rid:
            lb.created_time = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _set_rds_created(b, rid, when):
    db = b.databases[rid]
    db.created = when
    db.instance_create_time = when


def _set_sagemaker_created(b, rid, when):
    for endpoint in b.endpoints.values():
        if endpoint.endpoint_name == rid:
            endpoint.creation_time = when


_BACKDATE = {
    "volume": ("ec2", lambda b, rid, when: setattr(b.volumes[rid], "create_time", when)),
    "attachment": ("ec2", lambda b, rid, when: setattr(b.volumes[rid].attachment, "attach_time", when)),
    "snapshot": ("ec2", lambda b, rid, when: setattr(b.snapshots[rid], "start_time", when)),
    "instance": ("ec2", _set_instance_launch),
    "stopped": ("ec2", _set_instance_stopped),
    "nat": ("ec2", lambda b, rid, when: setattr(b.nat_gateways[rid], "_created_at", when)),
    "elbv2": ("elbv2", _set_elbv2_created),
    "elb": ("elb", lambda b, rid, when: setattr(b.load_balancers[rid], "created_time", when)),
    "rds": ("rds", _set_rds_created),
    "elasticache": (
        "elasticache",
        lambda b, rid, when: setattr(b.cache_clusters[rid], "cache_cluster_create_time", when),
    ),
    "redshift": ("redshift", lambda b, rid, when: setattr(b.clusters[rid], "create_time", when)),
    "sagemaker": ("sagemaker", _set_sagemaker_created),
}


def backdate(kind: str, resource_id: str, when: datetime, *, account: str, region: str = REGION) -> None:
    """Set a moto resource's creation (or launch / stop) time."""
    if kind not in _BACKDATE:
        raise ValueError(f"backdate: unknown kind {kind!r}")
    service, setter = _BACKDATE[kind]
    setter(backend(service, account, region), resource_id, _aware(when))


def session_for(account: str, region: str = REGION) -> boto3.Session:
    """A session whose calls land in ``account`` (moto keys its backends by the caller's account)."""
    sts = boto3.client("sts", region_name=region)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )
