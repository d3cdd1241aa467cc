"""Who may deliver into the central stack from another account, evaluated on the synthesised
policies: PutEvents on the bus, CloudTrail log delivery into the log bucket; and the S3 trigger
of s3_ingest, read from the topology."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from dd0c_cost.topology import INGEST, TOPOLOGY

from .conftest import CONNECTED_ACCOUNTS, ORGANIZATION_ID, Synth

UNKNOWN_ACCOUNT = "777788889999"
OTHER_ORG = "o-zzzzzzzzzz"
BUS_ARN = "arn:aws:events:eu-west-1:000011112222:event-bus/dd0c-cost"


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# --- a small policy evaluator (Allow statements, StringEquals, no Deny in these policies) ------


def _string_equals(condition: dict, context: dict[str, str]) -> bool:
    for operator, pairs in condition.items():
        assert operator == "StringEquals", f"evaluator does not know {operator}"
        for key, allowed in pairs.items():
            if context.get(key) not in as_list(allowed):
                return False
    return True


def allowed(statements: list[dict], *, action: str, resource: str, principal: str, context: dict[str, str]) -> bool:
    """Whether any Allow statement grants ``action`` on ``resource`` to ``principal`` (an account
    root ARN or a service name) in this request context. Nothing allowed = implicit deny."""
    for statement in statements:
        if statement["Effect"] != "Allow" or action not in as_list(statement["Action"]):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in as_list(statement["Resource"])):
            continue
        who = statement["Principal"]
        if who == "*" or who == {"AWS": "*"}:
            pass
        elif "Service" in who:
            if principal not in as_list(who["Service"]):
                continue
        elif principal not in [_text(p) for p in as_list(who.get("AWS"))]:
            continue
        if _string_equals(statement.get("Condition", {}), context):
            return True
    return False


def _text(value: Any, resolve: dict[str, str] | None = None) -> str:
    """A template value as text: account-root ARNs and GetAtt/Join of the resources we know."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_text(p, resolve) for p in parts)
    if "Fn::GetAtt" in value:
        return (resolve or {})[value["Fn::GetAtt"][0]]
    if "Ref" in value:
        return {"AWS::Partition": "aws", "AWS::AccountId": "000011112222", "AWS::Region": "eu-west-1"}.get(
            value["Ref"], (resolve or {}).get(value["Ref"], "?")
        )
    raise AssertionError(f"cannot read {value}")


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


# --- the bus -------------------------------------------------------------------------------------


def bus_statements(synth: Synth) -> list[dict]:
    bus_id = synth.logical_id(synth.stack.ingress.bus)
    statements = []
    for policy in synth.of_type("AWS::Events::EventBusPolicy").values():
        statement = dict(policy["Properties"]["Statement"])
        statement["Resource"] = BUS_ARN if statement["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]} else "?"
        statement["Principal"] = (
            statement["Principal"]
            if statement["Principal"] == "*"
            else {"AWS": [_text(p) for p in as_list(statement["Principal"]["AWS"])]}
        )
        statements.append(statement)
    return statements


@pytest.mark.parametrize("account", CONNECTED_ACCOUNTS)
def test_a_connected_account_may_put_events_on_the_bus(synth: Synth, account: str) -> None:
    assert allowed(
        bus_statements(synth),
        action="events:PutEvents",
        resource=BUS_ARN,
        principal=root(account),
        context={"aws:PrincipalOrgID": OTHER_ORG},
    )


def test_an_account_of_the_organisation_may_put_events(synth: Synth) -> None:
    assert allowed(
        bus_statements(synth),
        action="events:PutEvents",
        resource=BUS_ARN,
        principal=root(UNKNOWN_ACCOUNT),
        context={"aws:PrincipalOrgID": ORGANIZATION_ID},
    )


@pytest.mark.parametrize("org", [OTHER_ORG, None], ids=["other-org", "no-org"])
def test_an_unknown_account_is_denied_on_the_bus(synth: Synth, org: str | None) -> None:
    context = {"aws:PrincipalOrgID": org} if org else {}
    assert not allowed(
        bus_statements(synth),
        action="events:PutEvents",
        resource=BUS_ARN,
        principal=root(UNKNOWN_ACCOUNT),
        context=context,
    )
    # ... and nobody may do anything else with the bus.
    assert not allowed(
        bus_statements(synth),
        action="events:PutRule",
        resource=BUS_ARN,
        principal=root(CONNECTED_ACCOUNTS[0]),
        context={},
    )


# --- the CloudTrail log bucket --------------------------------------------------------------------


TRIGGER = TOPOLOGY.bucket_triggers[0]
BUCKET = f"dd0c-cost-{TRIGGER.name}-000011112222-eu-west-1"


def bucket_ids(synth: Synth) -> tuple[str, dict]:
    bucket = synth.stack.buckets[TRIGGER.name].bucket
    bucket_id = synth.logical_id(bucket)
    return bucket_id, synth.resources[bucket_id]["Properties"]


def bucket_statements(synth: Synth) -> list[dict]:
    bucket_id, _ = bucket_ids(synth)
    (policy,) = [
        p for p in synth.of_type("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    resolve = {bucket_id: f"arn:aws:s3:::{BUCKET}"}
    statements = []
    for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
        statement = dict(statement)
        statement["Resource"] = [_text(r, resolve) for r in as_list(statement["Resource"])]
        statements.append(statement)
    return statements


def cloudtrail_may_write(synth: Synth, key: str, context: dict[str, str]) -> bool:
    statements = bucket_statements(synth)
    acl = allowed(
        statements,
        action="s3:GetBucketAcl",
        resource=f"arn:aws:s3:::{BUCKET}",
        principal="cloudtrail.amazonaws.com",
        context=context,
    )
    put = allowed(
        statements,
        action="s3:PutObject",
        resource=f"arn:aws:s3:::{BUCKET}/{key}",
        principal="cloudtrail.amazonaws.com",
        context={**context, "s3:x-amz-acl": "bucket-owner-full-control"},
    )
    return acl and put


def log_key(*parts: str) -> str:
    return "AWSLogs/" + "/".join(parts) + "/CloudTrail/eu-west-1/2026/01/02/f.json.gz"


@pytest.mark.parametrize("account", CONNECTED_ACCOUNTS)
def test_a_connected_accounts_trail_may_deliver_only_under_its_own_id(synth: Synth, account: str) -> None:
    context = {"aws:SourceAccount": account}
    assert cloudtrail_may_write(synth, log_key(account), context)
    other = next(a for a in CONNECTED_ACCOUNTS if a != account)
    assert not cloudtrail_may_write(synth, log_key(other), context)
    assert not cloudtrail_may_write(synth, log_key(ORGANIZATION_ID, other), context)


def test_an_organisation_trail_may_deliver_under_the_organisation_id(synth: Synth) -> None:
    context = {"aws:SourceAccount": UNKNOWN_ACCOUNT, "aws:SourceOrgID": ORGANIZATION_ID}
    assert cloudtrail_may_write(synth, log_key(ORGANIZATION_ID, UNKNOWN_ACCOUNT), context)
    assert not cloudtrail_may_write(synth, log_key(UNKNOWN_ACCOUNT), context)


def test_an_unknown_accounts_trail_may_not_deliver(synth: Synth) -> None:
    context = {"aws:SourceAccount": UNKNOWN_ACCOUNT, "aws:SourceOrgID": OTHER_ORG}
    for key in (log_key(UNKNOWN_ACCOUNT), log_key(CONNECTED_ACCOUNTS[0]), log_key(ORGANIZATION_ID, UNKNOWN_ACCOUNT)):
        assert not cloudtrail_may_write(synth, key, context)
    # Accounts themselves (not the CloudTrail service) get nothing.
    statements = bucket_statements(synth)
    for account in (UNKNOWN_ACCOUNT, CONNECTED_ACCOUNTS[0]):
        assert not allowed(
            statements,
            action="s3:PutObject",
            resource=f"arn:aws:s3:::{BUCKET}/{log_key(account)}",
            principal=root(account),
            context={"aws:SourceAccount": account},
        )


def test_log_bucket_is_encrypted_private_tls_only_and_expires_objects(synth: Synth) -> None:
    bucket_id, props = bucket_ids(synth)
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == TRIGGER.expire_after_days and rule["Status"] == "Enabled"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert synth.resources[bucket_id]["DeletionPolicy"] == "Retain"
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in bucket_statements(synth)
    )
    assert _text(props["BucketName"]) == BUCKET and len(BUCKET) <= 63
    # Worst case: the longest prefix the config accepts, in the longest region name.
    assert len(f"{'a' * 19}-{TRIGGER.name}-000011112222-ap-southeast-5") <= 63
    assert synth.template["Outputs"]["BucketNameCloudtrailLogs"]["Value"] == {"Ref": bucket_id}


# --- the trigger -----------------------------------------------------------------------------------


def test_new_log_files_invoke_the_topology_function_with_retries_and_a_failure_queue(synth: Synth) -> None:
    bucket_id, props = bucket_ids(synth)
    function = synth.stack.functions[TRIGGER.function]
    function_id = synth.logical_id(function.function)
    (config,) = props["NotificationConfiguration"]["LambdaConfigurations"]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Function"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert config["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": TRIGGER.prefix},
        {"Name": "suffix", "Value": TRIGGER.suffix},
    ]

    triggered = synth.stack.buckets[TRIGGER.name]
    permission_id = synth.logical_id(triggered.permission)
    permission = synth.resources[permission_id]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert _text(permission["SourceArn"]) == f"arn:aws:s3:::{BUCKET}"
    assert permission_id in synth.resources[bucket_id]["DependsOn"]  # S3 checks it when configuring

    (invoke_config,) = [
        c
        for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    failure_id = synth.logical_id(triggered.failure_queue)
    assert invoke_config["Properties"] == {
        "FunctionName": {"Ref": function_id},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": TRIGGER.retry_attempts,
        "MaximumEventAgeInSeconds": TRIGGER.max_event_age_s,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [failure_id, "Arn"]}}},
    }
    assert any(
        a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [failure_id, "QueueName"]}}]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
    )


def test_s3_ingest_reads_only_the_log_prefix_and_is_outside_the_vpc(synth: Synth) -> None:
    function = synth.stack.functions[TRIGGER.function]
    role_id = synth.logical_id(function.role)
    statements = [
        s
        for p in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in as_list(p["Properties"]["PolicyDocument"]["Statement"])
    ]
    s3_statements = [s for s in statements if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    assert [(s["Action"], _text(s["Resource"])) for s in s3_statements] == [
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{TRIGGER.prefix}*")
    ]
    props = synth.resources[synth.logical_id(function.function)]["Properties"]
    assert "VpcConfig" not in props
    assert props["Environment"]["Variables"]["REJECTS_QUEUE_URL"] == {
        "Ref": synth.logical_id(synth.stack.queues[INGEST].dlq)
    }


def test_a_prefix_too_long_for_the_bucket_name_is_a_config_error() -> None:
    import aws_cdk as cdk

    from dd0c_cost_cdk.config import ConfigError, DeployConfig

    with pytest.raises(ConfigError, match="too long for the S3 bucket name"):
        DeployConfig.from_node(cdk.App(context={"namePrefix": "a" * 31}).node)
    DeployConfig.from_node(cdk.App(context={"namePrefix": "dd0c-cost-staging"}).node)


def test_no_wildcard_principal_is_ever_allowed_on_the_bucket(synth: Synth) -> None:
    """The only statement with a wildcard principal is the TLS-only Deny."""
    for statement in bucket_statements(synth):
        if statement["Principal"] in ("*", {"AWS": "*"}):
            assert statement["Effect"] == "Deny"
        else:
            assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
