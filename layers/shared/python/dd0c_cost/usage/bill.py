"""Estimate against the bill: per account, billing service and day, the spend the cost events
estimate (the running sum of their signed $/h, integrated over the day) next to the spend the
usage poller read from the account's billing series (CloudWatch month-to-date differences, or
Cost Explorer's hourly costs), and the services whose estimates run off.

The product names services by API (``ec2``, ``rds`` ...), the bill by billing service
(``AmazonEC2``, ``AmazonRDS`` ...): ``BILLING_SERVICE`` maps one to the other. A billing service
holds more than CloudTrail can price (data transfer inside ``AmazonEC2``, requests, storage
growth), so a bill above the estimate is expected to a point; a service "runs off" when the
median absolute error over its days with a bill of at least ``MIN_BILLED_USD`` exceeds
``RUN_OFF`` on at least ``MIN_DAYS`` days.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from pydantic import Field

from dd0c_cost.db.connection import Connection
from dd0c_cost.model import Model

BILLING_SERVICE = {
    "ec2": "AmazonEC2",
    "ebs": "AmazonEC2",
    "rds": "AmazonRDS",
    "elasticache": "AmazonElastiCache",
    "redshift": "AmazonRedshift",
    "opensearch": "AmazonES",
    "dynamodb": "AmazonDynamoDB",
    "lambda": "AWSLambda",
    "eks": "AmazonEKS",
    "elb": "AWSELB",
    "msk": "AmazonMSK",
    "kinesis": "AmazonKinesis",
    "sagemaker": "AmazonSageMaker",
    "bedrock": "AmazonBedrock",
}
MIN_BILLED_USD = 1.0
RUN_OFF = 0.25
MIN_DAYS = 3
MAX_DAYS = 92


class BillDay(Model):
    date: date
    account_id: str
    service: str = Field(description="billing service name (CloudWatch ServiceName)")
    estimated_usd: float = Field(description="from the cost events ($/h integrated over the day)")
    billed_usd: float | None = Field(description="from the billing series; None: no bill read for that day")
    error: float | None = Field(description="(estimated - billed) / billed; None without a bill of >= $1")


class BillService(Model):
    account_id: str
    service: str
    days: int = Field(description="days with a bill of at least $1")
    median_abs_error: float | None
    runs_off: bool
    note: str


class BillComparison(Model):
    start: date
    end: date
    days: list[BillDay]
    services: list[BillService]


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime(start.year, start.month, start.day, tzinfo=UTC), datetime(
        end.year, end.month, end.day, tzinfo=UTC
    ) + timedelta(days=1)


def estimated(conn: Connection, start: date, end: date) -> dict[tuple[date, str, str], float]:
    """(day, account, billing service) -> estimated spend (inside a tenant transaction)."""
    t0, t1 = _day_bounds(start, end)
    levels: dict[tuple[str, str], float] = defaultdict(float)
    for r in conn.execute(
        """SELECT account_id, service, sum(estimated_usd_per_hour) AS usd FROM dd0c.cost_events
           WHERE estimated_usd_per_hour IS NOT NULL AND event_time < %s GROUP BY account_id, service""",
        [t0],
    ).fetchall():
        levels[(r["account_id"], r["service"])] = r["usd"] or 0.0
    changes = conn.execute(
        """SELECT account_id, service, event_time, estimated_usd_per_hour AS usd FROM dd0c.cost_events
           WHERE estimated_usd_per_hour IS NOT NULL AND event_time >= %s AND event_time < %s
           ORDER BY event_time, event_id""",
        [t0, t1],
    ).fetchall()
    out: dict[tuple[date, str, str], float] = defaultdict(float)
    since = dict.fromkeys(levels, t0)

    def accrue(key: tuple[str, str], upto: datetime) -> None:
        t = since.get(key, upto)
        level = max(levels.get(key, 0.0), 0.0)
        while t < upto:
            day_end = min(upto, datetime.combine(t.date(), datetime.min.time(), t.tzinfo) + timedelta(days=1))
            if level > 0:
                out[(t.date(), key[0], BILLING_SERVICE.get(key[1], key[1]))] += (
                    level * (day_end - t).total_seconds() / 3600
                )
            t = day_end
        since[key] = upto

    for c in changes:
        key = (c["account_id"], c["service"])
        accrue(key, c["event_time"].astimezone(t0.tzinfo))
        levels[key] = levels.get(key, 0.0) + c["usd"]
    for key in list(levels):
        accrue(key, t1)
    return out


def billed(conn: Connection, start: date, end: date) -> dict[tuple[date, str, str], float]:
    """(day, account, billing service) -> billed spend from the usage poller's points: CloudWatch
    month-to-date differences day over day (a new month starts from 0), else Cost Explorer's hours."""
    t0, t1 = _day_bounds(start - timedelta(days=1), end)
    rows = conn.execute(
        """SELECT DISTINCT ON (account_id, service, (at AT TIME ZONE 'UTC')::date) account_id, service, (at AT TIME ZONE 'UTC')::date AS day, cumulative
           FROM dd0c.usage_points
           WHERE source = 'cloudwatch' AND cumulative IS NOT NULL AND at >= %s AND at < %s
           ORDER BY account_id, service, (at AT TIME ZONE 'UTC')::date, at DESC""",
        [t0, t1],
    ).fetchall()
    out: dict[tuple[date, str, str], float] = {}
    last: dict[tuple[str, str], tuple[date, float]] = {}
    for r in rows:
        key = (r["account_id"], r["service"])
        prev = last.get(key)
        if prev is not None and prev[0] == r["day"] - timedelta(days=1) and r["day"] >= start:
            same_month = (prev[0].year, prev[0].month) == (r["day"].year, r["day"].month)
            out[(r["day"], *key)] = max(r["cumulative"] - prev[1], 0.0) if same_month else r["cumulative"]
        last[key] = (r["day"], r["cumulative"])
    for r in conn.execute(
        """SELECT account_id, service, (at AT TIME ZONE 'UTC')::date AS day, sum(rate_per_hour * coalesce(hours, 1)) AS usd
           FROM dd0c.usage_points WHERE source = 'cost_explorer' AND rate_per_hour IS NOT NULL
             AND at >= %s AND at < %s GROUP BY account_id, service, (at AT TIME ZONE 'UTC')::date""",
        [t0 + timedelta(days=1), t1],
    ).fetchall():
        out.setdefault((r["day"], r["account_id"], r["service"]), r["usd"] or 0.0)
    return out


def compare(conn: Connection, start: date, end: date) -> BillComparison:
    if end < start:
        raise ValueError("end must not be before start")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days per request; narrow the range")
    est, bill = estimated(conn, start, end), billed(conn, start, end)
    keys = sorted(set(est) | set(bill))
    days: list[BillDay] = []
    errors: dict[tuple[str, str], list[float]] = defaultdict(list)
    for day, account, service in keys:
        e, b = round(est.get((day, account, service), 0.0), 4), bill.get((day, account, service))
        err = None
        if b is not None and b >= MIN_BILLED_USD:
            err = round((e - b) / b, 4)
            errors[(account, service)].append(err)
        days.append(
            BillDay(
                date=day,
                account_id=account,
                service=service,
                estimated_usd=e,
                billed_usd=None if b is None else round(b, 4),
                error=err,
            )
        )
    services = []
    for account, service in sorted({(k[1], k[2]) for k in keys}):
        errs = errors.get((account, service), [])
        med = round(statistics.median(abs(x) for x in errs), 4) if errs else None
        runs_off = med is not None and len(errs) >= MIN_DAYS and med > RUN_OFF
        if not errs:
            note = "no bill of at least $1 read for this service in the range"
        elif len(errs) < MIN_DAYS:
            note = f"only {len(errs)} billed day(s): too few to judge"
        elif runs_off:
            low = statistics.median(errs) < 0
            note = f"estimates run off: median error {med:.0%} over {len(errs)} days " + (
                "(the bill holds spend no API call announced: usage, data transfer, storage growth)"
                if low
                else "(estimates above the bill)"
            )
        else:
            note = f"estimates within {RUN_OFF:.0%} of the bill (median error {med:.0%} over {len(errs)} days)"
        services.append(
            BillService(
                account_id=account,
                service=service,
                days=len(errs),
                median_abs_error=med,
                runs_off=runs_off,
                note=note,
            )
        )
    return BillComparison(start=start, end=end, days=days, services=services)
