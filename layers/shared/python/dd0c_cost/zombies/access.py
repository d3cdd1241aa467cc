"""Cross-account access: assume the customer's ``dd0c-reader`` role with the account's ExternalId.

The hunter's own role may assume only ``arn:<partition>:iam::*:role/dd0c-reader`` (CDK); the
customer's role trusts only the dd0c account presenting that account's ExternalId (onboarding
template). Sessions last 15 minutes, the shortest STS allows, and are never cached across
invocations.

botocore is imported where a session or a client is made, not with this module: the zombie
functions' cold start does not pay for it (their first call does, when it makes its first client).
"""

from __future__ import annotations

from functools import lru_cache

# The role onboarding's template creates (``onboarding.READER_ROLE_NAME``; a test holds the two equal):
# named here so that the hunter's cold start does not import onboarding and the operator's database code.
READER_ROLE_NAME = "dd0c-reader"

SESSION_NAME = "dd0c-zombie-hunter"
SESSION_SECONDS = 900


@lru_cache(maxsize=1)
def client_config():
    """Standard retry mode: exponential backoff with jitter on throttling, up to 4 attempts per call;
    what is still throttled after that is recorded and retried by the queue."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=30)


@lru_cache(maxsize=1)
def _shared_loader():
    from botocore.loaders import create_loader

    return create_loader()


def new_session(**credentials):
    """A boto3 Session that shares one botocore data loader with every other session made here:
    each new Session would otherwise parse the service models (EC2's is megabytes of JSON) again,
    which costs more than the scan of a small region."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core, **credentials)


def partition_of(region: str | None) -> str:
    """The AWS partition a region belongs to (the hunter assumes roles in its own partition)."""
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def reader_role_arn(account_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role/{READER_ROLE_NAME}"


def reader_session(
    account_id: str,
    external_id: str,
    *,
    partition: str | None = None,
    base_session=None,
    session_name: str = SESSION_NAME,
):
    """A boto3 Session acting as the customer's ``dd0c-reader`` role. Raises botocore's
    ClientError (AccessDenied when the role is missing or the ExternalId does not match)."""
    base = base_session or new_session()
    partition = partition or partition_of(base.region_name)
    sts = base.client("sts", config=client_config())
    credentials = sts.assume_role(
        RoleArn=reader_role_arn(account_id, partition),
        RoleSessionName=session_name,
        ExternalId=external_id,
        DurationSeconds=SESSION_SECONDS,
    )["Credentials"]
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
