"""CloudTrail records for tests, built on the shapes of the licensed corpus in ../shared
(e.g. cloud-custodian's RunInstances fixture, Apache-2.0) with invented ids."""

from __future__ import annotations

import copy
import itertools
import uuid
from datetime import UTC, datetime, timedelta

_seq = itertools.count(1)


def run_instances(
    account: str = "111122223333",
    *,
    instance_type: str = "m5.large",
    count: int = 1,
    region: str = "us-east-1",
    when: datetime | None = None,
    user: str = "alice",
    event_id: str | None = None,
    error_code: str | None = None,
) -> dict:
    when = when or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    ids = [f"i-{next(_seq):017x}" for _ in range(count)]
    record = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::{account}:user/{user}",
            "accountId": account,
            "userName": user,
        },
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances",
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {
            "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": count, "maxCount": count}]},
            "instanceType": instance_type,
        },
        "responseElements": None
        if error_code
        else {"instancesSet": {"items": [{"instanceId": i, "instanceType": instance_type} for i in ids]}},
        "eventID": event_id or str(uuid.uuid4()),
        "eventType": "AwsApiCall",
        "recipientAccountId": account,
    }
    if error_code:
        record["errorCode"] = error_code
    return record


def terminate_instances(account: str, instance_ids: list[str], *, when: datetime, user: str = "alice") -> dict:
    record = copy.deepcopy(run_instances(account, when=when, user=user))
    record["eventName"] = "TerminateInstances"
    record["requestParameters"] = {"instancesSet": {"items": [{"instanceId": i} for i in instance_ids]}}
    record["responseElements"] = None
    return record


def instance_ids(record: dict) -> list[str]:
    return [item["instanceId"] for item in record["responseElements"]["instancesSet"]["items"]]


def envelope(record: dict) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": record["awsRegion"],
        "resources": [],
        "detail": record,
    }


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
