"""The customer-side onboarding stack: what a customer launches in their own account.

It is a CDK stack (a customer who uses CDK can deploy it as it is) and, above all, a plain
CloudFormation template checked in at ``docs/onboarding/dd0c-cost-customer.template.json``
(``scripts/build_onboarding_template.py`` writes it; a test fails when it is stale), which a
customer launches from a console quick-create link. It therefore uses no assets and no
bootstrap resources, only parameters:

- ``CentralBusArn``: dd0c's bus (the central stack's ``EventBusArn`` output);
- ``DD0CAccountId``: the dd0c account that assumes ``dd0c-reader``;
- ``ExternalId``: the customer's own external id (``dd0c_cost.onboarding.connect_account``);
- ``CreateReaderRole``: ``true`` in exactly one region (IAM is global; see below);
- ``EnableRemediation``: ``false`` unless the customer wants to act from Slack (opt-in).

What it creates, per region it is launched in:
1. EventBridge rules on the region's default bus (``dd0c-cost-forward-1``, ``-2``, ...) matching
   the event catalogue's CloudTrail events (``catalogue.event_patterns``: one pattern per
   rule, each within EventBridge's default 2,048-character limit), whose target is the central
   bus, through
2. a role EventBridge assumes to call ``events:PutEvents`` on that one bus (trust: the
   EventBridge service, for these rules in this account only), and
3. a dead-letter queue for events EventBridge could not deliver (e.g. before dd0c allowed the
   account on its bus), kept 14 days;
and once (``CreateReaderRole=true``):
4. the IAM role ``dd0c-reader``, assumable only by the dd0c account presenting the ExternalId,
   allowed only the read-only calls in ``dd0c_cost.onboarding.READER_ACTIONS``;
5. with ``EnableRemediation=true``, the IAM role ``dd0c-remediator`` (same trust), allowed only
   the calls of Slack's remediation actions (``dd0c_cost.remediation.actions.IAM_ACTIONS``: stop or
   terminate instances, stop an RDS instance, snapshot then delete a volume, delete a NAT gateway,
   release an Elastic IP, scale an Auto Scaling group or EKS node group), and explicitly denied
   every change to a resource tagged ``dd0c:protect``.

EventBridge rules are regional, so the stack is launched in every region the customer uses
(one quick-create link per region, or a StackSet with ``CreateReaderRole`` overridden to
``true`` for one region); see docs/deploy.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Aws, CfnCondition, CfnOutput, CfnParameter, Duration, Fn, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from dd0c_cost import onboarding
from dd0c_cost.onboarding import (
    FORWARDING_RULE_PREFIX,
    PARAM_CENTRAL_BUS_ARN,
    PARAM_CREATE_READER_ROLE,
    PARAM_DD0C_ACCOUNT_ID,
    PARAM_ENABLE_REMEDIATION,
    PARAM_EXTERNAL_ID,
    READER_ACTIONS,
    READER_ROLE_NAME,
    REMEDIATOR_ROLE_NAME,
    TEMPLATE_FILE_NAME,
)
from dd0c_cost.remediation.actions import IAM_ACTIONS, MUTATING_IAM_ACTIONS, PROTECT_TAG

from .config import REPO_ROOT
from .nag import acknowledge
from .queues import secure_queue

CUSTOMER_STACK_ID = "Dd0cCostCustomer"
TEMPLATE_PATH = REPO_ROOT / "docs" / "onboarding" / TEMPLATE_FILE_NAME
BUS_ARN_PATTERN = r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._/-]+$"
_PATTERN_FIELDS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "account": "account",
    "region": "region",
}


def _event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """A catalogue pattern (EventBridge JSON) as CDK's EventPattern, field for field."""
    unknown = set(pattern) - set(_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"event pattern fields not supported here: {sorted(unknown)}")
    return events.EventPattern(**{_PATTERN_FIELDS[key]: value for key, value in pattern.items()})


class Dd0cCostCustomerStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = CUSTOMER_STACK_ID,
        *,
        event_patterns: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("synthesizer", cdk.BootstraplessSynthesizer())
        kwargs.setdefault("analytics_reporting", False)
        kwargs.setdefault(
            "description",
            "dd0c/cost onboarding: forward cost-relevant CloudTrail events to dd0c and let dd0c read "
            "resource inventory (role dd0c-reader, ExternalId)",
        )
        super().__init__(scope, construct_id, **kwargs)

        bus_arn = CfnParameter(
            self,
            PARAM_CENTRAL_BUS_ARN,
            type="String",
            allowed_pattern=BUS_ARN_PATTERN,
            constraint_description="an EventBridge event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)",
            description="dd0c's central event bus (given to you by dd0c)",
        ).value_as_string
        dd0c_account = CfnParameter(
            self,
            PARAM_DD0C_ACCOUNT_ID,
            type="String",
            allowed_pattern=r"^\d{12}$",
            constraint_description="a 12-digit AWS account id",
            description="The dd0c AWS account that may assume the dd0c-reader role",
        ).value_as_string
        external_id = CfnParameter(
            self,
            PARAM_EXTERNAL_ID,
            type="String",
            min_length=16,
            max_length=1224,
            allowed_pattern=r"^[\w+=,.@:/-]+$",
            constraint_description="the external id dd0c gave you (16+ characters of [A-Za-z0-9_+=,.@:/-])",
            description="Your external id: dd0c must present it to assume dd0c-reader",
        ).value_as_string
        create_reader = CfnParameter(
            self,
            PARAM_CREATE_READER_ROLE,
            type="String",
            allowed_values=["true", "false"],
            default="true",
            description="Create the (global) dd0c-reader role here: 'true' in exactly one region, 'false' in the others",
        )
        reader_here = CfnCondition(
            self, "CreateReaderRoleHere", expression=Fn.condition_equals(create_reader.value_as_string, "true")
        )
        enable_remediation = CfnParameter(
            self,
            PARAM_ENABLE_REMEDIATION,
            type="String",
            allowed_values=["true", "false"],
            default="false",
            description="Let people you allow act from Slack (stop, terminate, snapshot+delete, scale back) through "
            "the dd0c-remediator role; never on resources tagged dd0c:protect",
        )
        remediator_here = CfnCondition(
            self,
            "CreateRemediatorRoleHere",
            expression=Fn.condition_and(
                Fn.condition_equals(create_reader.value_as_string, "true"),
                Fn.condition_equals(enable_remediation.value_as_string, "true"),
            ),
        )
        self.template_options.metadata = {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {
                        "Label": {"default": "From dd0c"},
                        "Parameters": [PARAM_CENTRAL_BUS_ARN, PARAM_DD0C_ACCOUNT_ID, PARAM_EXTERNAL_ID],
                    },
                    {"Label": {"default": "Per region"}, "Parameters": [PARAM_CREATE_READER_ROLE]},
                    {"Label": {"default": "Optional"}, "Parameters": [PARAM_ENABLE_REMEDIATION]},
                ]
            }
        }

        # --- 1-3: forward the catalogue's CloudTrail events to the central bus ---------------
        self.patterns = list(onboarding.forwarding_event_patterns() if event_patterns is None else event_patterns)
        rule_names = [f"{FORWARDING_RULE_PREFIX}-{i}" for i in range(1, len(self.patterns) + 1)]
        self.forwarder_role = iam.Role(
            self,
            "ForwarderRole",
            description="EventBridge: put this region's cost-relevant CloudTrail events on dd0c's bus",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": Aws.ACCOUNT_ID,
                        "aws:SourceArn": [
                            f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/{name}"
                            for name in rule_names
                        ],
                    }
                },
            ),
        )
        self.dead_letters = secure_queue(
            self,
            "UndeliveredEvents",
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the forwarding rules' dead-letter queue: events EventBridge could not put "
            "on dd0c's bus after 24 hours of retries wait here for inspection.",
        )
        central_bus = events.EventBus.from_event_bus_arn(self, "CentralBus", bus_arn)
        self.rules: list[events.Rule] = []
        for index, (name, pattern) in enumerate(zip(rule_names, self.patterns, strict=True), start=1):
            rule = events.Rule(
                self,
                f"ForwardRule{index}",
                rule_name=name,
                description=f"dd0c/cost: forward cost-relevant CloudTrail API calls to dd0c ({index}/{len(rule_names)})",
                event_pattern=_event_pattern(pattern),
            )
            rule.add_target(
                targets.EventBus(central_bus, role=self.forwarder_role, dead_letter_queue=self.dead_letters)
            )
            self.rules.append(rule)

        # --- 4: the read-only role dd0c assumes -------------------------------------------
        self.reader_role = iam.Role(
            self,
            "ReaderRole",
            role_name=READER_ROLE_NAME,
            description="dd0c/cost: read-only inventory for the zombie-resource scan (ExternalId required)",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.AccountPrincipal(dd0c_account).with_conditions(
                {"StringEquals": {"sts:ExternalId": external_id}}
            ),
            inline_policies={
                "dd0c-read-inventory": iam.PolicyDocument(
                    statements=[iam.PolicyStatement(actions=list(READER_ACTIONS), resources=["*"])]
                )
            },
        )
        self.reader_role.node.default_child.cfn_options.condition = reader_here  # type: ignore[union-attr]
        acknowledge(
            self.reader_role,
            "AwsSolutions-IAM5[Resource::*]",
            "Only read-only Describe/List actions and cloudwatch:GetMetricData, listed one by one: EC2, "
            "ELB and CloudWatch have no resource-level permissions for them, and the zombie scan must "
            "see every resource of the account (RDS, ElastiCache, Redshift, OpenSearch, SageMaker).",
        )

        # --- 5: the opt-in remediation role --------------------------------------------------
        self.remediator_role = iam.Role(
            self,
            "RemediatorRole",
            role_name=REMEDIATOR_ROLE_NAME,
            description="dd0c/cost: only the remediations a person confirmed in Slack (ExternalId required)",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.AccountPrincipal(dd0c_account).with_conditions(
                {"StringEquals": {"sts:ExternalId": external_id}}
            ),
            inline_policies={
                "dd0c-remediate": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=list(IAM_ACTIONS), resources=["*"]),
                        iam.PolicyStatement(
                            effect=iam.Effect.DENY,
                            actions=list(MUTATING_IAM_ACTIONS),
                            resources=["*"],
                            conditions={"Null": {f"aws:ResourceTag/{PROTECT_TAG}": "false"}},
                        ),
                    ]
                )
            },
        )
        self.remediator_role.node.default_child.cfn_options.condition = remediator_here  # type: ignore[union-attr]
        acknowledge(
            self.remediator_role,
            "AwsSolutions-IAM5[Resource::*]",
            "Only the remediation calls listed one by one (stop/terminate instances, stop RDS, snapshot and "
            "delete volumes, delete NAT gateways, release addresses, scale ASGs and EKS node groups) on the "
            "resources dd0c alerted about, which are not known in advance; every change to a resource "
            "tagged dd0c:protect is explicitly denied.",
        )

        CfnOutput(self, "ForwardingRuleArns", value=Fn.join(",", [rule.rule_arn for rule in self.rules]))
        remediator_arn = CfnOutput(self, "RemediatorRoleArn", value=self.remediator_role.role_arn)
        remediator_arn.condition = remediator_here
        reader_arn = CfnOutput(self, "ReaderRoleArn", value=self.reader_role.role_arn)
        reader_arn.condition = reader_here


def build_customer_app(
    *, outdir: str | Path | None = None, event_patterns: Sequence[Mapping[str, Any]] | None = None, nag: bool = True
) -> tuple[cdk.App, Dd0cCostCustomerStack]:
    """An app holding only the customer stack, with the central app's feature flags and no
    construct-path metadata (the template is published, and diffed in tests)."""
    from cdk_nag import AwsSolutionsChecks

    from .app import cdk_json_context

    context = {**cdk_json_context(), "aws:cdk:enable-path-metadata": False, "aws:cdk:version-reporting": False}
    kwargs: dict[str, Any] = {"context": context}
    if outdir is not None:
        kwargs["outdir"] = str(outdir)
    app = cdk.App(**kwargs)
    stack = Dd0cCostCustomerStack(app, event_patterns=event_patterns)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def customer_template(outdir: str | Path | None = None) -> dict:
    """The onboarding template, synthesised now (cdk-nag errors fail the synth)."""
    app, stack = build_customer_app(outdir=outdir)
    return app.synth().get_stack_by_name(stack.stack_name).template


def render_template(template: dict) -> str:
    """The checked-in form: stable indentation and a final newline."""
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"
