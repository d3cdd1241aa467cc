"""A labelled CloudTrail stream for ``dd0c-cost bench detect`` (deterministic per seed).

Accounts of two tenants are onboarded on different days (multi-account onboarding: late accounts
start cold). Every account has routine traffic, and the stream holds:

- **incidents** (positives): expensive changes across every catalogue service family (EC2, EBS,
  NAT, RDS, ELB, Lambda provisioned concurrency, DynamoDB, ElastiCache, Redshift, OpenSearch,
  EKS, SageMaker, MSK, Kinesis, Bedrock), each with its creating calls' eventIDs, start time and
  true cost; the first run of a weekly or monthly job is also an incident (it is new spend);
- **hard negatives**: the weekly and monthly jobs' later runs (same role, type, count, time);
  decreases (terminations, deletions); cheap novelties (a new region, a tiny stream or table);
  failed calls (InsufficientInstanceCapacity, UnauthorizedOperation) and dry runs of expensive
  launches;
- routine traffic: developers' office-hours instances, an autoscaling group's churn, small RDS.

Each resource's true $/h goes into a ledger (from the product's price for priced calls, from the
``ASSUMED_USD_PER_HOUR`` list prices for the services the product cannot price), which the
daily-billing baseline reads: the baseline sees what a bill would show.

Request shapes follow the catalogue tests' records (``tests/unit/test_catalogue.py``), which
follow the corpus and the APIs' documented shapes.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Public on-demand list prices (us-east-1) for what the product does not price, used only as the
# ground truth of the baseline's bill: ml.p4d.24xlarge (SageMaker real-time inference) and one
# Bedrock model unit (no-commitment provisioned throughput), both as published by AWS.
ASSUMED_USD_PER_HOUR = {"ml.p4d.24xlarge": 37.688, "bedrock_model_unit": 39.60}

DAY = timedelta(days=1)
H = timedelta(hours=1)


@dataclass
class Labelled:
    record: dict
    kind: str  # routine | incident | weekly | monthly | decrease | cheap_novelty | failed | dry_run
    incident: str | None = None
    resource: tuple[str, str] | None = None  # (service, resource id) this record creates
    true_usd_per_hour: float | None = None  # for creates the product cannot price


@dataclass
class Incident:
    id: str
    account: str
    tenant: str
    service: str
    start: datetime
    kind: str  # what it is (e.g. "8 x p4d.24xlarge")
    event_ids: set[str] = field(default_factory=set)


@dataclass
class Stream:
    seed: int
    start: datetime
    end: datetime
    accounts: dict[str, tuple[str, datetime]]  # account -> (tenant, onboarded at)
    records: list[Labelled]
    incidents: list[Incident]
    ends: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (service, resource id) -> deleted at


def _identity(account: str, who: str, when: datetime, *, role: bool) -> dict:
    """CloudTrail's userIdentity: an assumed role's session, or an IAM user."""
    if role:
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{account[-8:]}:{who}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{who}/{who}-session",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROA{account[-8:]}",
                    "arn": f"arn:aws:iam::{account}:role/{who}",
                    "accountId": account,
                    "userName": who,
                },
                "attributes": {"creationDate": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "mfaAuthenticated": "false"},
            },
        }
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{account[-8:]}{who.upper()}",
        "arn": f"arn:aws:iam::{account}:user/{who}",
        "accountId": account,
        "userName": who,
    }


class StreamBuilder:
    def __init__(self, seed: int, start: datetime, weeks: int, accounts: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = start
        self.end = start + timedelta(weeks=weeks)
        self.records: list[Labelled] = []
        self.incidents: list[Incident] = []
        self.ends: dict[tuple[str, str], datetime] = {}
        self.accounts: dict[str, tuple[str, datetime]] = {}
        offsets = [0, 0, 0, 14, 0, 28, 7, 21]
        for i in range(accounts):
            account = f"{400000000000 + 111 * (i + 1) + seed:012d}"
            self.accounts[account] = ("bench-a" if i % 2 == 0 else "bench-b", start + offsets[i % len(offsets)] * DAY)
        self.n = 0

    # --- records ---------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.seed:02d}{self.n:015x}"

    def record(
        self,
        account: str,
        when: datetime,
        source: str,
        name: str,
        request: dict | None,
        response: dict | None,
        who: str,
        *,
        role: bool = False,
        region: str = "us-east-1",
        error: str | None = None,
    ) -> dict:
        identity = _identity(account, who, when, role=role)
        out = {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": request,
            "responseElements": response,
            "requestID": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "eventID": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if error:
            out["errorCode"] = error
            out["errorMessage"] = "synthetic"
            out["responseElements"] = None
        return out

    def add(self, record: dict, kind: str, incident: Incident | None = None, **kw) -> dict:
        self.records.append(Labelled(record, kind, incident.id if incident else None, **kw))
        if incident is not None:
            incident.event_ids.add(record["eventID"])
        return record

    # --- EC2 instances ---------------------------------------------------------------------
    def run_instances(self, account, when, itype, count, who, *, role=False, region="us-east-1", error=None):
        ids = [self.new_id("i") for _ in range(count)]
        request = {
            "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": count, "maxCount": count}]},
            "instanceType": itype,
        }
        response = {
            "instancesSet": {
                "items": [
                    {
                        "instanceId": i,
                        "instanceType": itype,
                        "placement": {"availabilityZone": region + "a", "tenancy": "default"},
                    }
                    for i in ids
                ]
            }
        }
        return self.record(
            account,
            when,
            "ec2.amazonaws.com",
            "RunInstances",
            request,
            response,
            who,
            role=role,
            region=region,
            error=error,
        ), ids

    def terminate(self, account, when, ids, who, *, role=False, region="us-east-1"):
        request = {"instancesSet": {"items": [{"instanceId": i} for i in ids]}}
        response = {
            "instancesSet": {
                "items": [{"instanceId": i, "currentState": {"code": 32, "name": "shutting-down"}} for i in ids]
            }
        }
        for i in ids:
            self.ends[("ec2", i)] = when
        return self.record(
            account, when, "ec2.amazonaws.com", "TerminateInstances", request, response, who, role=role, region=region
        )

    def fleet(self, account, when, itype, count, who, hours, *, kind, incident=None, role=False, region="us-east-1"):
        rec, ids = self.run_instances(account, when, itype, count, who, role=role, region=region)
        self.add(rec, kind, incident, resource=("ec2", ids[0]))
        self.add(self.terminate(account, when + hours * H, ids, who, role=role, region=region), "decrease")
        return rec

    # --- routine traffic ----------------------------------------------------------------------
    def routine(self, account: str, onboarded: datetime) -> None:
        rng = self.rng
        day = onboarded.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < self.end:
            if day.weekday() < 5:  # developers, office hours
                for dev in ("ana", "bo", "cy"):
                    if rng.random() < 0.6:
                        when = day + timedelta(hours=9, minutes=rng.randrange(90))
                        itype = rng.choice(["t3.medium", "t3.large", "m5.large"])
                        self.fleet(account, when, itype, rng.randint(1, 2), dev, rng.randint(6, 9), kind="routine")
                if rng.random() < 0.2:  # a small database for a day
                    when = day + timedelta(hours=10, minutes=rng.randrange(60))
                    self.add(self.create_db(account, when, "db.t3.medium", "bo", multi_az=False)[0], "routine")
            for k in range(4):  # the autoscaling group's churn, all day
                when = day + timedelta(hours=6 * k, minutes=rng.randrange(120))
                if when >= onboarded:
                    self.fleet(
                        account,
                        when,
                        "m5.large",
                        rng.randint(1, 3),
                        "asg",
                        rng.randint(2, 5),
                        kind="routine",
                        role=True,
                    )
            day += DAY

    def create_db(self, account, when, klass, who, *, multi_az):
        ident = self.new_id("db")
        request = {
            "dBInstanceIdentifier": ident,
            "engine": "postgres",
            "dBInstanceClass": klass,
            "allocatedStorage": 100,
            "multiAZ": multi_az,
        }
        response = {"dBInstanceIdentifier": ident, "dBInstanceClass": klass, "engine": "postgres", "multiAZ": multi_az}
        return self.record(account, when, "rds.amazonaws.com", "CreateDBInstance", request, response, who), ident

    # --- jobs: first run is an incident, later runs are hard negatives ---------------------------
    def jobs(self, account: str, tenant: str, onboarded: datetime) -> None:
        first = True
        day = onboarded.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < self.end:
            if day.weekday() == 0:
                when = day + timedelta(hours=2, minutes=self.rng.randrange(20))
                incident = (
                    self.incident(account, tenant, "ec2", when, "weekly job, first run: 10 x r5.2xlarge")
                    if first
                    else None
                )
                self.fleet(
                    account,
                    when,
                    "r5.2xlarge",
                    10,
                    "batch",
                    4,
                    kind="incident" if first else "weekly",
                    incident=incident,
                    role=True,
                )
                first = False
            day += DAY
        first = True
        month_end = _month_end(onboarded)
        while month_end < self.end:
            when = month_end.replace(hour=22, minute=self.rng.randrange(20))
            if when >= onboarded:
                incident = (
                    self.incident(account, tenant, "ec2", when, "month-end job, first run: 20 x c5.4xlarge")
                    if first
                    else None
                )
                self.fleet(
                    account,
                    when,
                    "c5.4xlarge",
                    20,
                    "month-end",
                    5,
                    kind="incident" if first else "monthly",
                    incident=incident,
                    role=True,
                )
                first = False
            month_end = _month_end(month_end + 2 * DAY)

    def incident(self, account, tenant, service, when, kind) -> Incident:
        incident = Incident(f"inc-{len(self.incidents) + 1:03d}", account, tenant, service, when, kind)
        self.incidents.append(incident)
        return incident

    # --- hard negatives ---------------------------------------------------------------------
    def negatives(self, account: str, onboarded: datetime) -> None:
        rng = self.rng
        span = (self.end - onboarded).days
        for _ in range(3):  # failed and dry-run launches of expensive fleets
            when = onboarded + rng.randrange(2, span) * DAY + timedelta(hours=rng.randrange(8, 18))
            for error, kind in (
                ("InsufficientInstanceCapacity", "failed"),
                ("Client.UnauthorizedOperation", "failed"),
                ("Client.DryRunOperation", "dry_run"),
            ):
                rec, _ = self.run_instances(account, when, "p4d.24xlarge", 8, "intern", error=error)
                self.add(rec, kind)
                when += timedelta(minutes=7)
        # cheap novelties: a new region, a one-shard stream, a tiny on-demand table
        when = onboarded + rng.randrange(10, span) * DAY + timedelta(hours=14)
        self.fleet(account, when, "t3.nano", 1, "dee", 3, kind="cheap_novelty", region="eu-north-1")
        name = self.new_id("stream")
        self.add(
            self.record(
                account,
                when + H,
                "kinesis.amazonaws.com",
                "CreateStream",
                {"shardCount": 1, "streamName": name},
                None,
                "dee",
            ),
            "cheap_novelty",
        )
        table = self.new_id("table")
        self.add(
            self.record(
                account,
                when + 2 * H,
                "dynamodb.amazonaws.com",
                "CreateTable",
                {"tableName": table, "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1}},
                {
                    "tableDescription": {
                        "tableName": table,
                        "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
                    }
                },
                "dee",
            ),
            "cheap_novelty",
        )

    # --- incidents across every service family ---------------------------------------------------
    def incident_calls(self, account: str, tenant: str, family: str, when: datetime) -> None:
        """One incident of ``family`` (``detect_incidents``: one function per service family)."""
        from dd0c_cost_tools.bench.detect_incidents import INCIDENT_CALLS  # it builds on this module

        if family not in INCIDENT_CALLS:
            raise ValueError(family)
        INCIDENT_CALLS[family](self, account, tenant, when)


FAMILIES = (
    "ec2", "ebs", "nat", "rds", "elb", "lambda", "dynamodb", "elasticache",
    "redshift", "opensearch", "eks", "sagemaker", "msk", "kinesis", "bedrock",
)  # fmt: skip


def _month_end(moment: datetime) -> datetime:
    first_next = (moment.replace(day=28) + 4 * DAY).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first_next - DAY


def generate(seed: int = 1, *, accounts: int = 6, weeks: int = 7, start: datetime | None = None) -> Stream:
    """The labelled stream, in event-time order."""
    start = start or datetime(2026, 1, 12, tzinfo=UTC)
    b = StreamBuilder(seed, start, weeks, accounts)
    families = list(FAMILIES)
    b.rng.shuffle(families)
    plan: dict[str, list[str]] = {a: [] for a in b.accounts}
    names = list(b.accounts)
    for k, family in enumerate(families * 2):  # every family at least twice across the accounts
        plan[names[k % len(names)]].append(family)
    for account, (tenant, onboarded) in b.accounts.items():
        b.routine(account, onboarded)
        b.jobs(account, tenant, onboarded)
        b.negatives(account, onboarded)
        span = (b.end - onboarded).days
        for family in plan[account]:
            day = onboarded + b.rng.randrange(3, span - 1) * DAY
            when = day.replace(hour=b.rng.randrange(10, 17), minute=b.rng.randrange(60))
            b.incident_calls(account, tenant, family, when)
    b.records.sort(key=lambda r: (r.record["eventTime"], r.record["eventID"]))
    b.incidents.sort(key=lambda i: i.start)
    return Stream(seed, start, b.end, b.accounts, b.records, b.incidents, b.ends)
