"""The central event bus, who may put events on it, and the rules that route them to queues.

Why there is a pipe between each rule and its FIFO queue
--------------------------------------------------------
An EventBridge rule target can only give an SQS FIFO queue a *static* MessageGroupId
(``SqsParameters.MessageGroupId`` is a plain string: aws-cdk#32965, CloudFormation coverage
roadmap #2298). One static group would put every customer account into one FIFO group: one
Lambda batch in flight for the whole product, and a poison message from one account blocking
every other account for max_receive_count x visibility timeout.

EventBridge Pipes targets *do* accept a dynamic JSON path for MessageGroupId and
MessageDeduplicationId. So each rule delivers to a small standard "landing" queue, and a pipe
moves each event to the FIFO target with
- MessageGroupId = the rule's ``message_group_path`` evaluated on the event
  (``$.account`` -> ``$.body.account``: the SQS record's body is the event),
- MessageDeduplicationId = the CloudTrail eventID (``$.body.detail.eventID``), the natural key;
  this also removes the standard queue's at-least-once duplicates,
- the message body = the EventBridge event itself (InputTemplate ``<$.body>``), exactly what a
  direct rule -> SQS target would have delivered.
Failed deliveries (rule -> landing, or pipe -> FIFO after max_receive_count tries) land in the
landing DLQ, which has an alarm like every other DLQ.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dd0c_cost.topology import EventRuleSpec

from .alarms import AlarmTopic
from .config import DeployConfig
from .queues import PipelineQueues, secure_queue

PUT_EVENTS = "events:PutEvents"
# The pipe's dedup id: the CloudTrail record's eventID (every "AWS API Call via CloudTrail" has one).
PIPE_DEDUPLICATION_PATH = "$.body.detail.eventID"
PIPE_INPUT_TEMPLATE = "<$.body>"
LANDING_RECEIVE_COUNT = 5
EVENT_PATTERN_MAX_CHARS = 2048  # EventBridge's default quota for one rule's pattern


def pipe_group_path(message_group_path: str) -> str:
    """A rule's JSONPath into the event, as a pipe dynamic path into the SQS record's body."""
    if not message_group_path.startswith("$."):
        raise ValueError(f"message_group_path {message_group_path!r} must start with '$.'")
    return "$.body." + message_group_path[2:]


def rule_patterns(spec: EventRuleSpec) -> list[events.EventPattern]:
    """The rule's event patterns. Every source is an ``aws.`` one: those are reserved for AWS
    services, so a connected account can PutEvents but cannot forge CloudTrail events."""
    if not spec.catalogue_only:
        return [events.EventPattern(detail_type=list(spec.detail_types), source=events.Match.prefix("aws."))]
    from dd0c_cost.catalogue import event_patterns

    return [
        events.EventPattern(source=p["source"], detail_type=list(spec.detail_types), detail=p["detail"])
        for p in event_patterns(EVENT_PATTERN_MAX_CHARS)
    ]


@dataclass(frozen=True)
class RouteToQueue:
    spec: EventRuleSpec
    rules: tuple[events.Rule, ...]
    landing: sqs.Queue
    landing_dlq: sqs.Queue
    pipe: pipes.CfnPipe
    pipe_role: iam.Role


class EventBusIngress(Construct):
    """The bus named ``topology.bus_name`` and its resource policy.

    PutEvents is allowed to the accounts in context ``connectedAccountIds`` (one statement,
    principals = those account roots) and/or to every account of the AWS Organization in
    context ``organizationId`` (principal "*" restricted by aws:PrincipalOrgID). Nobody else:
    an account that no statement names is implicitly denied. With neither set, only this
    account can put events (a synth warning says so).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=config.bus_name)
        if config.connected_account_ids:
            self.bus.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="ConnectedAccountsPutEvents",
                    actions=[PUT_EVENTS],
                    resources=[self.bus.event_bus_arn],
                    principals=[iam.AccountPrincipal(account) for account in config.connected_account_ids],
                )
            )
        if config.organization_id:
            self.bus.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="OrganizationPutEvents",
                    actions=[PUT_EVENTS],
                    resources=[self.bus.event_bus_arn],
                    principals=[iam.StarPrincipal()],
                    conditions={"StringEquals": {"aws:PrincipalOrgID": config.organization_id}},
                )
            )
        if not config.connected_account_ids and not config.organization_id:
            Annotations.of(self).add_warning_v2(
                "dd0c-cost:no-connected-accounts",
                "No connectedAccountIds or organizationId in context: no other account can put events on the bus yet.",
            )


class EventRoutes(Construct):
    """For each topology rule: rule -> landing queue -> pipe -> the rule's FIFO target queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        bus: events.IEventBus,
        queues: PipelineQueues,
        alarms: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = config.name_prefix
        self.by_name: dict[str, RouteToQueue] = {}
        for spec in config.topology.rules:
            target = queues[spec.target_queue].queue
            group_path = pipe_group_path(spec.message_group_path)
            route = Construct(self, spec.name)

            landing_dlq = secure_queue(
                route,
                "LandingDlq",
                queue_name=f"{prefix}-{spec.name}-landing-dlq",
                retention_period=Duration.days(14),
            )
            landing = secure_queue(
                route,
                "Landing",
                queue_name=f"{prefix}-{spec.name}-landing",
                visibility_timeout=Duration.seconds(60),
                retention_period=Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(queue=landing_dlq, max_receive_count=LANDING_RECEIVE_COUNT),
            )
            alarms.alarm_on_dead_letters(route, "LandingDlqAlarm", landing_dlq, 1)
            rules: list[events.Rule] = []

            for index, pattern in enumerate(rule_patterns(spec), start=1):
                rule = events.Rule(
                    route,
                    f"Rule{index}",
                    rule_name=f"{prefix}-{spec.name}-{index}",
                    description=spec.purpose[:512],
                    event_bus=bus,
                    event_pattern=pattern,
                )
                rule.add_target(
                    targets.SqsQueue(
                        landing,
                        dead_letter_queue=landing_dlq,
                        retry_attempts=185,
                        max_event_age=Duration.hours(24),
                    )
                )
                rules.append(rule)

            pipe_role = iam.Role(
                route,
                "PipeRole",
                assumed_by=iam.ServicePrincipal(
                    "pipes.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
                ),
                description=f"EventBridge pipe {spec.name}: landing queue -> {spec.target_queue}",
            )
            landing.grant_consume_messages(pipe_role)
            target.grant_send_messages(pipe_role)
            pipe_logs = logs.LogGroup(
                route, "PipeLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
            )
            pipe_logs.grant_write(pipe_role)

            pipe = pipes.CfnPipe(
                route,
                "Pipe",
                name=f"{prefix}-{spec.name}",
                description=f"{spec.name}: landing queue -> {spec.target_queue} (group {spec.message_group_path})"[
                    :512
                ],
                role_arn=pipe_role.role_arn,
                source=landing.queue_arn,
                source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                    sqs_queue_parameters=pipes.CfnPipe.PipeSourceSqsQueueParametersProperty(batch_size=10)
                ),
                target=target.queue_arn,
                target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                    input_template=PIPE_INPUT_TEMPLATE,
                    sqs_queue_parameters=pipes.CfnPipe.PipeTargetSqsQueueParametersProperty(
                        message_group_id=group_path,
                        message_deduplication_id=PIPE_DEDUPLICATION_PATH,
                    ),
                ),
                log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
                    level="ERROR",
                    cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                        log_group_arn=pipe_logs.log_group_arn
                    ),
                ),
                desired_state="RUNNING",
            )
            # The pipe validates its role's permissions when it is created.
            pipe.node.add_dependency(pipe_role)
            self.by_name[spec.name] = RouteToQueue(
                spec=spec, rules=tuple(rules), landing=landing, landing_dlq=landing_dlq, pipe=pipe, pipe_role=pipe_role
            )
