"""Generated CloudTrail history for benchmarks and equivalence tests: deterministic (seeded),
multi-week, several accounts, one JSON Lines file per account and region (each in event-time
order, so replaying them all needs the cross-file merge).

The mix follows a management-event trail: about ``cost_share`` (default 5 %) cost-relevant calls —
an autoscaling group adding and removing m5/c5 instances on a daily cycle, developers starting,
stopping and terminating t3 instances, rare bursts and rare GPU launches (the anomalies) — and the
rest read-only noise (Describe*, List*, Get*, AssumeRole) with a few failed calls and dry runs.
Shapes follow the demo sample (``scripts/make_demo_sample.py``), after real RunInstances /
TerminateInstances records of the licensed corpus.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

START = datetime(2026, 3, 2, tzinfo=UTC)
_NOISE = (
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeVolumes"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("s3.amazonaws.com", "GetBucketLocation"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("sts.amazonaws.com", "GetCallerIdentity"),
    ("iam.amazonaws.com", "ListRoles"),
    ("rds.amazonaws.com", "DescribeDBInstances"),
    ("lambda.amazonaws.com", "ListFunctions20150331"),
    ("cloudwatch.amazonaws.com", "GetMetricData"),
    ("kms.amazonaws.com", "Decrypt"),
)


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _identity(account: str, who: str, ids: _Ids) -> dict:
    if who.startswith("role:"):
        role, session = who[5:].split("/")
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{ids.hex(16).upper()}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{account}:role/{role}",
                    "accountId": account,
                    "userName": role,
                }
            },
        }
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + ids.hex(16).upper(),
        "arn": f"arn:aws:iam::{account}:user/{who}",
        "accountId": account,
        "userName": who,
    }


def _base(t: datetime, account: str, region: str, who: str, source: str, name: str, ids: _Ids) -> dict:
    return {
        "eventVersion": "1.08",
        "userIdentity": _identity(account, who, ids),
        "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6",
        "requestID": ids.uuid(),
        "eventID": ids.uuid(),
        "readOnly": name.startswith(("Describe", "List", "Get")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def _run(t, account, region, who, itype, count, ids: _Ids, *, dry_run=False) -> tuple[dict, list[str]]:
    rec = _base(t, account, region, who, "ec2.amazonaws.com", "RunInstances", ids)
    rec["requestParameters"] = {
        "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": count, "maxCount": count}]},
        "instanceType": itype,
    }
    if dry_run:
        rec["errorCode"] = "Client.DryRunOperation"
        rec["errorMessage"] = "Request would have succeeded, but DryRun flag is set."
        return rec, []
    made = ["i-" + ids.hex(17) for _ in range(count)]
    rec["responseElements"] = {
        "instancesSet": {
            "items": [
                {
                    "instanceId": i,
                    "instanceType": itype,
                    "instanceState": {"code": 0, "name": "pending"},
                    "placement": {"availabilityZone": region + "a", "tenancy": "default"},
                }
                for i in made
            ]
        }
    }
    return rec, made


def _state_change(t, account, region, who, name, instance_ids, ids: _Ids) -> dict:
    rec = _base(t, account, region, who, "ec2.amazonaws.com", name, ids)
    rec["requestParameters"] = {"instancesSet": {"items": [{"instanceId": i} for i in instance_ids]}}
    rec["responseElements"] = {"instancesSet": {"items": [{"instanceId": i} for i in instance_ids]}}
    return rec


def _noise(t, account, region, who, rng: random.Random, ids: _Ids) -> dict:
    source, name = _NOISE[rng.randrange(len(_NOISE))]
    rec = _base(t, account, region, who, source, name, ids)
    rec["requestParameters"] = None
    rec["responseElements"] = None
    if rng.random() < 0.01:
        rec["errorCode"] = "AccessDenied"
        rec["errorMessage"] = "User is not authorized to perform this operation"
    return rec


def account_stream(account: str, region: str, n: int, *, weeks: float, cost_share: float, seed: int) -> Iterator[dict]:
    """One account and region's trail: ``n`` records over ``weeks`` weeks, in event-time order."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    span = weeks * 7 * 86400.0
    people = ("ana", "bo", "cy", "dee")
    running: dict[str, list[str]] = {}  # owner -> instance ids
    stopped: list[tuple[str, str]] = []
    t = START
    step = span / max(1, n)
    made = 0
    while made < n:
        t += timedelta(seconds=rng.expovariate(1.0 / step))
        if rng.random() >= cost_share:
            who = people[rng.randrange(len(people))] if rng.random() < 0.5 else "role:ops/reader"
            yield _noise(t, account, region, who, rng, ids)
            made += 1
            continue
        roll = rng.random()
        if roll < 0.45:  # the autoscaling group follows the day: up in the morning, down at night
            rec = _autoscaling_call(t, account, region, running, rng, ids)
        elif roll < 0.85:  # developers: t3 instances, stopped and started, sometimes terminated
            rec = _developer_call(t, account, region, people[rng.randrange(len(people))], running, stopped, rng, ids)
        elif roll < 0.95:  # a dry run: a failed call, not cost-relevant
            rec, _ = _run(t, account, region, people[0], "m5.large", 1, ids, dry_run=True)
        elif roll < 0.99:  # a burst: ten launches within minutes
            who = people[rng.randrange(len(people))]
            for k in range(10):
                if made >= n:
                    break
                rec, new = _run(t + timedelta(seconds=20 * k), account, region, who, "m5.2xlarge", 1, ids)
                running.setdefault(who, []).extend(new)
                yield rec
                made += 1
            t += timedelta(seconds=200)
            continue
        else:  # a rare GPU launch
            rec, new = _run(t, account, region, "intern", "p4d.24xlarge", rng.randint(1, 4), ids)
            running.setdefault("intern", []).extend(new)
        yield rec
        made += 1


_ASG = "role:web-asg/AutoScaling"


def _autoscaling_call(t: datetime, account: str, region: str, running: dict, rng: random.Random, ids) -> dict:
    """The autoscaling group launches 1-2 instances by day (or when it has none), terminates 1-2 by night."""
    pool = running.setdefault(_ASG, [])
    if 7 <= t.hour < 19 or not pool:
        itype = "m5.large" if rng.random() < 0.8 else "c5.xlarge"
        rec, new = _run(t, account, region, _ASG, itype, rng.randint(1, 2), ids)
        pool.extend(new)
        return rec
    k = min(len(pool), rng.randint(1, 2))
    gone, running[_ASG] = pool[:k], pool[k:]
    return _state_change(t, account, region, _ASG, "TerminateInstances", gone, ids)


def _developer_call(
    t: datetime, account: str, region: str, who: str, running: dict, stopped: list, rng: random.Random, ids
) -> dict:
    """A developer launches a t3 instance, stops, starts (anyone's stopped one) or terminates one."""
    mine = running.setdefault(who, [])
    r2 = rng.random()
    if not mine or r2 < 0.35:
        rec, new = _run(t, account, region, who, rng.choice(("t3.micro", "t3.medium", "t3.large")), 1, ids)
        mine.extend(new)
        return rec
    if r2 < 0.6:
        iid = mine.pop(0)
        stopped.append((who, iid))
        return _state_change(t, account, region, who, "StopInstances", [iid], ids)
    if r2 < 0.8 and stopped:
        owner, iid = stopped.pop(0)
        running.setdefault(owner, []).append(iid)
        return _state_change(t, account, region, who, "StartInstances", [iid], ids)
    iid = mine.pop(0)
    return _state_change(t, account, region, who, "TerminateInstances", [iid], ids)


def write_stream(
    directory: Path,
    records: int,
    *,
    accounts: int = 4,
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
    weeks: float = 4.0,
    cost_share: float = 0.05,
    seed: int = 20260302,
    gzip_files: bool = False,
) -> list[Path]:
    """Write the stream as one JSON Lines file per account and region; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    streams = [(f"{210000000000 + 1111 * a:012d}", r) for a in range(accounts) for r in regions]
    per = records // len(streams)
    paths = []
    for k, (account, region) in enumerate(streams):
        n = per + (1 if k < records - per * len(streams) else 0)
        path = directory / f"{account}-{region}.jsonl{'.gz' if gzip_files else ''}"
        opener = gzip.open if gzip_files else open
        with opener(path, "wb") as out:
            for rec in account_stream(account, region, n, weeks=weeks, cost_share=cost_share, seed=seed + k):
                out.write(orjson.dumps(rec))
                out.write(b"\n")
        paths.append(path)
    return paths
