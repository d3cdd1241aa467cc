"""The pipeline's FIFO queues and their FIFO dead-letter queues, one pair per topology QueueSpec."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dd0c_cost.topology import QueueSpec, physical_queue_name

from .alarms import AlarmTopic
from .config import DeployConfig
from .nag import acknowledge


def secure_queue(scope: Construct, construct_id: str, **props) -> sqs.Queue:
    """Every SQS queue dd0c creates: encrypted at rest (SQS-managed keys, which EventBridge can
    deliver to) and refusing requests that are not over TLS. One place, so none can forget."""
    return sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, **props)


def async_failure_queue(
    scope: Construct,
    *,
    config: DeployConfig,
    alarms: AlarmTopic,
    function_name: str,
    function: lambda_.IFunction,
    retry_attempts: int,
    max_event_age_s: int,
) -> sqs.Queue:
    """A function invoked asynchronously (by a schedule or an S3 notification) retries
    ``retry_attempts`` times, then its event goes to a standard SQS queue with an alarm: one
    shape for every asynchronous trigger, so a lost invocation is always seen."""
    failure_queue = secure_queue(
        scope,
        "FailureQueue",
        queue_name=f"{config.name_prefix}-{function_name.replace('_', '-')}-failures",
        retention_period=Duration.days(14),
    )
    acknowledge(
        failure_queue,
        "AwsSolutions-SQS3",
        "This queue is the on-failure destination of the function's asynchronous invocations "
        "(a dead-letter queue in all but name); it has an alarm and nothing consumes it.",
    )
    alarms.alarm_on_dead_letters(scope, "FailureQueueAlarm", failure_queue, 1)
    function.configure_async_invoke(
        retry_attempts=retry_attempts,
        max_event_age=Duration.seconds(max_event_age_s),
        on_failure=destinations.SqsDestination(failure_queue),
    )
    return failure_queue


@dataclass(frozen=True)
class PipelineQueue:
    spec: QueueSpec
    queue: sqs.Queue
    dlq: sqs.Queue


class PipelineQueues(Construct):
    """Every queue in ``topology.queues``: FIFO + FIFO DLQ + a DLQ alarm.

    - Content-based deduplication is OFF: producers pass the natural key from the QueueSpec as
      MessageDeduplicationId (CloudTrail eventID, anomaly id + revision). Content-based dedup
      would hash the body, so a re-serialised copy of the same event (different key order, a new
      envelope field) would slip through while two different events with equal bodies would
      collide. The EventBridge path sets it explicitly too (see ingress.py).
    - High-throughput FIFO: deduplication scope and throughput limit per message group, so
      groups (accounts, spend series, tenants) progress independently.
    - SSE with SQS-managed keys: no KMS key to pay for or grant, and EventBridge can deliver to
      it (it cannot deliver to queues encrypted with the AWS-managed KMS key).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, alarms: AlarmTopic) -> None:
        super().__init__(scope, construct_id)
        topology = config.topology
        self.by_name: dict[str, PipelineQueue] = {}
        for spec in topology.queues:
            self._check_visibility(config, spec)
            dlq = secure_queue(
                self,
                f"{spec.name}-dlq",
                queue_name=physical_queue_name(config.name_prefix, spec.name, dlq=True),
                fifo=True,
                content_based_deduplication=False,
                retention_period=Duration.days(14),
            )
            queue = secure_queue(
                self,
                spec.name,
                queue_name=physical_queue_name(config.name_prefix, spec.name),
                fifo=True,
                content_based_deduplication=False,
                deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
                fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
                visibility_timeout=Duration.seconds(spec.visibility_timeout_s),
                retention_period=Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
            )
            alarms.alarm_on_dead_letters(self, f"{spec.name}-dlq-alarm", dlq, spec.dlq_alarm_threshold)
            self.by_name[spec.name] = PipelineQueue(spec=spec, queue=queue, dlq=dlq)

    def __getitem__(self, name: str) -> PipelineQueue:
        return self.by_name[name]

    @staticmethod
    def _check_visibility(config: DeployConfig, spec: QueueSpec) -> None:
        """AWS: a queue's visibility timeout should be at least 6x its Lambda consumer's timeout."""
        try:
            consumer = config.topology.consumer_of(spec.name)
        except KeyError:
            return
        if spec.visibility_timeout_s < 6 * consumer.timeout_s:
            raise ValueError(
                f"queue {spec.name!r}: visibility_timeout_s={spec.visibility_timeout_s} is less than 6x "
                f"the timeout of its consumer {consumer.name!r} ({consumer.timeout_s}s); fix topology.py"
            )
