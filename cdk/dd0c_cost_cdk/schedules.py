"""Schedules: one EventBridge rule per topology ScheduleSpec, invoking its function asynchronously.

- The target's input is ``{"kind": <spec.kind>, "time": <the event's time>}``: the scheduled
  event's time is the natural key of the work it starts (the zombie scan time), so a retried
  invocation fans out the same messages, which SQS FIFO and the database deduplicate.
- Each invoked function's asynchronous invocations retry ``retry_attempts`` times, then go to a
  standard SQS failure queue with an alarm (the same shape as the S3 triggers).
- Rules live on the account's default bus: schedules are not customer events and never touch
  the central bus.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dd0c_cost.topology import ScheduleSpec

from .alarms import AlarmTopic
from .config import DeployConfig
from .functions import PipelineFunctions
from .queues import async_failure_queue


@dataclass(frozen=True)
class ScheduledRule:
    spec: ScheduleSpec
    rule: events.Rule


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        functions: PipelineFunctions,
        alarms: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, ScheduledRule] = {}
        self.failure_queues: dict[str, sqs.Queue] = {}
        for spec in config.topology.schedules:
            target = functions[spec.function]
            if spec.function not in self.failure_queues:
                scope_ = Construct(self, spec.function)
                failure_queue = async_failure_queue(
                    scope_,
                    config=config,
                    alarms=alarms,
                    function_name=spec.function,
                    function=target.function,
                    retry_attempts=spec.retry_attempts,
                    max_event_age_s=spec.max_event_age_s,
                )
                self.failure_queues[spec.function] = failure_queue
            rule = events.Rule(
                self,
                spec.name,
                rule_name=f"{config.name_prefix}-{spec.name}",
                description=spec.purpose[:512],
                schedule=events.Schedule.expression(spec.expression),
            )
            rule.add_target(
                targets.LambdaFunction(
                    target.function,
                    event=events.RuleTargetInput.from_object({"kind": spec.kind, "time": events.EventField.time}),
                )
            )
            self.by_name[spec.name] = ScheduledRule(spec=spec, rule=rule)

    def __getitem__(self, name: str) -> ScheduledRule:
        return self.by_name[name]
