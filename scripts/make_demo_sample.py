"""Build the demo's bundled CloudTrail sample, deterministically (same output every run).

The records follow the shapes of real RunInstances/TerminateInstances events in the licensed
corpus (../shared/corpora/cloudtrail, e.g. cloud-custodian's tests/data/cwe fixtures), with
invented accounts, people and ids. The story: two weeks of an autoscaling group adding and
removing m5.large instances and developers starting t3 instances, the usual read-only noise, a
dry run, a malformed line and a lookalike S3 notification — then an intern launches
8 × p4d.24xlarge in ap-southeast-2.

    python scripts/make_demo_sample.py  # writes tools/dd0c_cost_tools/local/sample/demo_cloudtrail.jsonl
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tools/dd0c_cost_tools/local/sample/demo_cloudtrail.jsonl"
PROD, DEV = "444455556666", "111122223333"
START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
rng = random.Random(20261102)
counter = 0


def _id(prefix: str, n: int = 17) -> str:
    return prefix + "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid() -> str:
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def identity(account: str, who: str) -> dict:
    if who.startswith("role:"):
        role, session = who[5:].split("/")
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{_id('', 16).upper()}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{account}:role/{role}",
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {"mfaAuthenticated": "false", "creationDate": "2026-11-01T00:00:00Z"},
            },
        }
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + _id("", 16).upper(),
        "arn": f"arn:aws:iam::{account}:user/{who}",
        "accountId": account,
        "userName": who,
    }


def base(t: datetime, account: str, region: str, who: str, name: str) -> dict:
    return {
        "eventVersion": "1.08",
        "userIdentity": identity(account, who),
        "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "autoscaling.amazonaws.com"
        if who.startswith("role:")
        else f"203.0.113.{rng.randint(2, 250)}",
        "userAgent": "autoscaling.amazonaws.com" if who.startswith("role:") else "aws-cli/2.15.0 Python/3.11.6",
        "requestID": _uuid(),
        "eventID": _uuid(),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def run_instances(t, account, region, who, instance_type, count, *, dry_run=False):
    rec = base(t, account, region, who, "RunInstances")
    rec["requestParameters"] = {
        "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": count, "maxCount": count}]},
        "instanceType": instance_type,
        "blockDeviceMapping": {},
        "tenancy": "default",
        "monitoring": {"enabled": False},
        "disableApiTermination": False,
    }
    if dry_run:
        rec["errorCode"] = "Client.DryRunOperation"
        rec["errorMessage"] = "Request would have succeeded, but DryRun flag is set."
        rec["responseElements"] = None
        return rec, []
    ids = [_id("i-") for _ in range(count)]
    rec["responseElements"] = {
        "reservationId": _id("r-"),
        "ownerId": account,
        "instancesSet": {
            "items": [
                {
                    "instanceId": i,
                    "imageId": "ami-0abcdef1234567890",
                    "instanceType": instance_type,
                    "instanceState": {"code": 0, "name": "pending"},
                    "placement": {"availabilityZone": region + "a", "tenancy": "default"},
                }
                for i in ids
            ]
        },
    }
    return rec, ids


def terminate(t, account, region, who, ids):
    rec = base(t, account, region, who, "TerminateInstances")
    rec["requestParameters"] = {"instancesSet": {"items": [{"instanceId": i} for i in ids]}}
    rec["responseElements"] = {
        "instancesSet": {
            "items": [
                {
                    "instanceId": i,
                    "currentState": {"code": 32, "name": "shutting-down"},
                    "previousState": {"code": 16, "name": "running"},
                }
                for i in ids
            ]
        }
    }
    return rec


def describe(t, account, region, who):
    rec = base(t, account, region, who, "DescribeInstances")
    rec["readOnly"] = True
    rec["requestParameters"] = {"instancesSet": {}, "filterSet": {}}
    rec["responseElements"] = None
    return rec


def main() -> None:
    records: list[dict] = []
    asg = "role:prod-web-asg/AutoScaling"
    for day in range(14):
        morning = START + timedelta(days=day, hours=7, minutes=rng.randint(0, 40))
        if (START + timedelta(days=day)).weekday() < 5:
            rec, ids = run_instances(morning, PROD, "us-east-1", asg, "m5.large", rng.randint(2, 4))
            records.append(rec)
            records.append(terminate(morning + timedelta(hours=12), PROD, "us-east-1", asg, ids))
        for _ in range(rng.randint(1, 2)):
            t = START + timedelta(days=day, hours=rng.randint(9, 17), minutes=rng.randint(0, 59))
            dev = rng.choice(["alice", "bob", "chen"])
            rec, ids = run_instances(t, DEV, "us-east-1", dev, rng.choice(["t3.medium", "t3.large", "m5.large"]), 1)
            records.append(rec)
            records.append(terminate(t + timedelta(hours=rng.randint(2, 6)), DEV, "us-east-1", dev, ids))
        for _ in range(6):
            t = START + timedelta(days=day, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
            records.append(describe(t, rng.choice([PROD, DEV]), "us-east-1", rng.choice(["alice", "bob"])))
    # A dry run costs nothing and must never alert.
    dry, _ = run_instances(
        START + timedelta(days=14, hours=9), DEV, "ap-southeast-2", "intern", "p4d.24xlarge", 8, dry_run=True
    )
    records.append(dry)
    # The surprise.
    big, _ = run_instances(
        START + timedelta(days=14, hours=9, minutes=3), DEV, "ap-southeast-2", "intern", "p4d.24xlarge", 8
    )
    records.append(big)

    records.sort(key=lambda r: r["eventTime"])
    lines = [json.dumps(r, separators=(",", ":")) for r in records]
    # Bad input the pipeline must count and keep, never crash on.
    lines.insert(len(lines) // 2, '{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"RunInst')
    lines.insert(
        len(lines) // 3,
        json.dumps(
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-05T10:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                "s3": {"bucket": {"name": "demo-bucket"}, "object": {"key": "report.csv"}},
            },
            separators=(",", ":"),
        ),
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} lines to {OUT}")


if __name__ == "__main__":
    main()
