"""The customer onboarding template (cdk/dd0c_cost_cdk/customer_stack.py ->
docs/onboarding/dd0c-cost-customer.template.json): up to date, forwarding exactly the event
catalogue, and granting dd0c nothing beyond ExternalId-guarded read-only access."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dd0c_cost import catalogue, onboarding
from dd0c_cost.events.cloudtrail import normalise_event_name

from .conftest import REPO_ROOT, only_scrubbed_environment

TEMPLATE_FILE = REPO_ROOT / "docs" / "onboarding" / onboarding.TEMPLATE_FILE_NAME
CORPORA = REPO_ROOT.parent / "shared" / "corpora" / "cloudtrail"
READ_ONLY_VERBS = ("Describe", "Get", "List")
SCANNED_SERVICES = {
    "ec2",
    "rds",
    "elasticloadbalancing",
    "cloudwatch",
    "elasticache",
    "redshift",
    "es",
    "sagemaker",
    "ce",
}


@dataclass
class CustomerSynth:
    stack: Any
    template: dict


@pytest.fixture(scope="module")
def customer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CustomerSynth]:
    tmp = tmp_path_factory.mktemp("customer")
    with only_scrubbed_environment(tmp):
        from dd0c_cost_cdk.customer_stack import build_customer_app

        app, stack = build_customer_app(outdir=tmp / "cdk.out")  # cdk-nag runs as a plugin: errors fail synth
        template = app.synth().get_stack_by_name(stack.stack_name).template
    yield CustomerSynth(stack=stack, template=template)  # with the environment put back


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def of_type(template: dict, cfn_type: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type}


def role_statements(template: dict, role_id: str) -> list[dict]:
    role = template["Resources"][role_id]["Properties"]
    assert not role.get("ManagedPolicyArns")
    statements = [s for p in role.get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])]
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def reader_role(template: dict) -> tuple[str, dict]:
    (found,) = [
        (k, v)
        for k, v in of_type(template, "AWS::IAM::Role").items()
        if v["Properties"].get("RoleName") == onboarding.READER_ROLE_NAME
    ]
    return found


def remediator_role(template: dict) -> tuple[str, dict]:
    (found,) = [
        (k, v)
        for k, v in of_type(template, "AWS::IAM::Role").items()
        if v["Properties"].get("RoleName") == onboarding.REMEDIATOR_ROLE_NAME
    ]
    return found


def forwarder_role(template: dict) -> tuple[str, dict]:
    (found,) = [
        (k, v)
        for k, v in of_type(template, "AWS::IAM::Role").items()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "events.amazonaws.com"}
    ]
    return found


# --- the published file --------------------------------------------------------------------


def test_checked_in_template_is_up_to_date(customer: CustomerSynth) -> None:
    from dd0c_cost_cdk.customer_stack import render_template

    assert TEMPLATE_FILE.exists(), "run scripts/build_onboarding_template.py"
    assert TEMPLATE_FILE.read_text() == render_template(customer.template), (
        f"{TEMPLATE_FILE.relative_to(REPO_ROOT)} is stale (the catalogue or customer_stack.py changed): "
        "run scripts/build_onboarding_template.py and commit the result"
    )


def test_template_is_launchable_without_cdk(customer: CustomerSynth) -> None:
    """Quick-create needs a plain template: no bootstrap parameter or rule, no assets, no CDK metadata."""
    template = customer.template
    assert set(template["Parameters"]) == {
        onboarding.PARAM_CENTRAL_BUS_ARN,
        onboarding.PARAM_DD0C_ACCOUNT_ID,
        onboarding.PARAM_EXTERNAL_ID,
        onboarding.PARAM_ENABLE_REMEDIATION,
        onboarding.PARAM_CREATE_READER_ROLE,
    }
    assert "Rules" not in template
    assert not of_type(template, "AWS::CDK::Metadata")
    text = json.dumps(template)
    assert "aws:cdk:" not in text and "cdk-hnb659fds" not in text and "AssetParameters" not in text
    assert template["Parameters"][onboarding.PARAM_CREATE_READER_ROLE]["AllowedValues"] == ["true", "false"]
    assert template["Parameters"][onboarding.PARAM_EXTERNAL_ID]["MinLength"] >= 16


def test_cdk_nag_has_no_unacknowledged_errors(customer: CustomerSynth) -> None:
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(customer.stack)
    assert [v.rule_name for v in report.violations if v.severity == "error"] == []


# --- forwarding ----------------------------------------------------------------------------


def rules(template: dict) -> list[dict]:
    found = sorted(of_type(template, "AWS::Events::Rule").values(), key=lambda r: r["Properties"]["Name"])
    assert found
    return [r["Properties"] for r in found]


def test_rules_forward_exactly_the_catalogue_patterns_from_the_default_bus(customer: CustomerSynth) -> None:
    found = rules(customer.template)
    patterns = onboarding.forwarding_event_patterns()
    assert [r["EventPattern"] for r in found] == patterns
    assert [r["Name"] for r in found] == [
        f"{onboarding.FORWARDING_RULE_PREFIX}-{i}" for i in range(1, len(patterns) + 1)
    ]
    for rule in found:
        assert rule.get("EventBusName", "default") == "default"
        assert rule["State"] == "ENABLED"
        assert len(json.dumps(rule["EventPattern"], separators=(",", ":"))) <= onboarding.EVENT_PATTERN_MAX_CHARS
        assert rule["EventPattern"]["detail-type"] == ["AWS API Call via CloudTrail"]

    # Together the rules name every catalogue source and every catalogue event name.
    names = catalogue.cost_relevant_event_names()
    sources = {s for r in found for s in r["EventPattern"]["detail"]["eventSource"]}
    assert sources == set(names)
    exact = {n for r in found for n in r["EventPattern"]["detail"]["eventName"] if isinstance(n, str)}
    prefixes = {n["prefix"] for r in found for n in r["EventPattern"]["detail"]["eventName"] if isinstance(n, dict)}
    for source, source_names in names.items():
        for name in source_names:
            assert name in exact or name in prefixes, (source, name)
    assert prefixes <= {n for s in catalogue.VERSION_SUFFIXED_SOURCES for n in names.get(s, [])}


def _matcher(template: dict):
    from moto.events.models import EventPattern

    patterns = [EventPattern.load(json.dumps(r["EventPattern"])) for r in rules(template)]
    details = [
        EventPattern.load(
            json.dumps({"detail-type": r["EventPattern"]["detail-type"], "detail": r["EventPattern"]["detail"]})
        )
        for r in rules(template)
    ]

    def matches(event: dict, *, detail_only: bool = False) -> bool:
        return any(p.matches_event(event) for p in (details if detail_only else patterns))

    return matches


def test_every_catalogue_event_matches_including_lambdas_versioned_names(customer: CustomerSynth) -> None:
    matches = _matcher(customer.template)
    for source, names in catalogue.cost_relevant_event_names().items():
        spellings = [""] + (["20150331", "20150331v2"] if source in catalogue.VERSION_SUFFIXED_SOURCES else [])
        for name in names:
            for suffix in spellings:
                event = {
                    "detail-type": "AWS API Call via CloudTrail",
                    "detail": {"eventSource": source, "eventName": name + suffix},
                }
                assert matches(event, detail_only=True), (source, name + suffix)


def _corpus_events() -> Iterator[dict]:
    for path in sorted(CORPORA.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            value = json.loads(line)
            if isinstance(value, dict):
                yield value


def test_real_trail_events_are_forwarded_if_and_only_if_the_catalogue_prices_them(customer: CustomerSynth) -> None:
    """Every record of the CloudTrail corpora beside the repository (real trail output, vendor
    fixtures, AWS documentation examples): forwarded <=> in the catalogue."""
    if not CORPORA.exists():
        pytest.fail(f"{CORPORA} is missing: this test needs the shared corpora beside the repository")
    matches = _matcher(customer.template)
    checked = relevant = 0
    wrong = []
    for value in _corpus_events():
        envelope = value if "detail-type" in value else None
        record = value.get("detail") if envelope else value
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("eventSource"), str)
            or not isinstance(record.get("eventName"), str)
        ):
            continue
        if envelope and envelope.get("detail-type") != "AWS API Call via CloudTrail":
            continue
        want = catalogue.lookup(record["eventSource"], normalise_event_name(record["eventName"])) is not None
        # Whole envelopes as EventBridge delivered them (source included); bare records by their detail.
        got = (
            matches(envelope)
            if envelope
            else matches({"detail-type": "AWS API Call via CloudTrail", "detail": record}, detail_only=True)
        )
        checked += 1
        relevant += want
        if got != want:
            wrong.append((record["eventSource"], record["eventName"], want))
    assert checked > 4000 and relevant > 50
    assert wrong == []


def test_forwarder_role_may_only_put_events_on_the_central_bus_for_these_rules(customer: CustomerSynth) -> None:
    template = customer.template
    role_id, role = forwarder_role(template)
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    conditions = trust["Condition"]["StringEquals"]
    assert conditions["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    rule_arns = [json.dumps(a) for a in as_list(conditions["aws:SourceArn"])]
    assert len(rule_arns) == len(rules(template))
    for rule in rules(template):
        assert sum(f":rule/{rule['Name']}" in a for a in rule_arns) == 1
    statements = role_statements(template, role_id)
    assert statements == [
        {"Action": "events:PutEvents", "Effect": "Allow", "Resource": {"Ref": onboarding.PARAM_CENTRAL_BUS_ARN}}
    ]

    (queue_id,) = of_type(template, "AWS::SQS::Queue")
    for rule in rules(template):
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Ref": onboarding.PARAM_CENTRAL_BUS_ARN}
        assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}


# --- dd0c-reader ---------------------------------------------------------------------------


def test_reader_role_trusts_only_the_dd0c_account_with_the_external_id(customer: CustomerSynth) -> None:
    _role_id, role = reader_role(customer.template)
    props = role["Properties"]
    assert role["Condition"] == "CreateReaderRoleHere"
    assert customer.template["Conditions"]["CreateReaderRoleHere"] == {
        "Fn::Equals": [{"Ref": onboarding.PARAM_CREATE_READER_ROLE}, "true"]
    }
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {
        "AWS": {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": onboarding.PARAM_DD0C_ACCOUNT_ID}, ":root"],
            ]
        }
    }
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": onboarding.PARAM_EXTERNAL_ID}}}
    assert props["MaxSessionDuration"] == 3600
    assert customer.template["Outputs"]["ReaderRoleArn"]["Condition"] == "CreateReaderRoleHere"


def test_reader_role_is_read_only_least_privilege(customer: CustomerSynth) -> None:
    role_id, _ = reader_role(customer.template)
    statements = role_statements(customer.template, role_id)
    actions = [a for s in statements for a in as_list(s["Action"])]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert sorted(actions) == sorted(onboarding.READER_ACTIONS)
    for action in actions:
        service, verb = action.split(":")
        assert "*" not in action, action
        assert verb.startswith(READ_ONLY_VERBS), action
        assert service in SCANNED_SERVICES, action  # no data-plane services (s3, dynamodb, ...)
    # metrics only through batched GetMetricData (500 statistics a call), never one call per metric
    assert "cloudwatch:GetMetricData" in actions and "cloudwatch:GetMetricStatistics" not in actions


def test_no_wildcard_or_write_actions_anywhere(customer: CustomerSynth) -> None:
    """Identity policies: only read-only actions and the forwarder's PutEvents (the opt-in
    remediator, tested below, aside); resource policies: only EventBridge delivering to the
    dead-letter queue."""
    template = customer.template
    remediator_id, _ = remediator_role(template)
    for role_id in of_type(template, "AWS::IAM::Role"):
        if role_id == remediator_id:
            continue
        for statement in role_statements(template, role_id):
            for action in as_list(statement["Action"]):
                assert "*" not in action, (role_id, action)
                assert action == "events:PutEvents" or action.split(":")[1].startswith(READ_ONLY_VERBS), (
                    role_id,
                    action,
                )
    for policy in of_type(template, "AWS::SQS::QueuePolicy").values():
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
            if statement["Effect"] == "Allow":
                assert statement["Action"] == "sqs:SendMessage"
                assert statement["Principal"] == {"Service": "events.amazonaws.com"}
                assert "aws:SourceArn" in json.dumps(statement["Condition"])


def test_each_pattern_gets_its_own_rule_and_trust(tmp_path) -> None:
    """A bigger catalogue splits into more patterns: one rule each, all trusted by the forwarder."""
    from dd0c_cost_cdk.customer_stack import build_customer_app

    patterns = [
        {
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": [f"s{i}.amazonaws.com"], "eventName": ["A", "B"]},
        }
        for i in range(3)
    ]
    app, stack = build_customer_app(outdir=tmp_path, event_patterns=patterns, nag=False)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    assert [r["EventPattern"] for r in rules(template)] == patterns
    _, role = forwarder_role(template)
    assert (
        len(
            role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"]
        )
        == 3
    )


# --- dd0c-remediator (opt-in) ----------------------------------------------------------------


def test_remediator_role_is_opt_in_trusts_only_dd0c_with_the_external_id(customer: CustomerSynth) -> None:
    template = customer.template
    _role_id, role = remediator_role(template)
    assert template["Parameters"][onboarding.PARAM_ENABLE_REMEDIATION]["Default"] == "false"
    assert role["Condition"] == "CreateRemediatorRoleHere"
    assert template["Conditions"]["CreateRemediatorRoleHere"] == {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": onboarding.PARAM_CREATE_READER_ROLE}, "true"]},
            {"Fn::Equals": [{"Ref": onboarding.PARAM_ENABLE_REMEDIATION}, "true"]},
        ]
    }
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": onboarding.PARAM_EXTERNAL_ID}}}
    assert ":root" in json.dumps(trust["Principal"]) and onboarding.PARAM_DD0C_ACCOUNT_ID in json.dumps(
        trust["Principal"]
    )


def test_remediator_may_only_remediate_and_never_a_protected_resource(customer: CustomerSynth) -> None:
    from dd0c_cost.remediation.actions import IAM_ACTIONS, MUTATING_IAM_ACTIONS

    role_id, _ = remediator_role(customer.template)
    statements = role_statements(customer.template, role_id)
    allowed = [a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])]
    assert sorted(allowed) == sorted(IAM_ACTIONS)
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert sorted(as_list(deny["Action"])) == sorted(MUTATING_IAM_ACTIONS)
    assert deny["Condition"] == {"Null": {"aws:ResourceTag/dd0c:protect": "false"}}
    # every mutating call is covered by the deny; the rest only read
    for action in set(IAM_ACTIONS) - set(MUTATING_IAM_ACTIONS):
        assert action.split(":")[1].startswith(("Describe", "List")), action
