"""Where alarms go: one SNS topic, optionally with an email subscription."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class AlarmTopic(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str, email: str | None) -> None:
        super().__init__(scope, construct_id)
        # Not KMS-encrypted: alarm notifications carry alarm names and metric values, no customer
        # data, and CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.
        self.topic = sns.Topic(self, "Topic", topic_name=f"{name_prefix}-alarms", enforce_ssl=True)
        if email:
            self.topic.add_subscription(subs.EmailSubscription(email))
        self._action = cw_actions.SnsAction(self.topic)

    def alarm_on_dead_letters(
        self, scope: Construct, construct_id: str, dlq: sqs.IQueue, threshold: int
    ) -> cloudwatch.Alarm:
        """Messages waiting in a DLQ: something failed max_receive_count times (or was rejected)."""
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            alarm_description=f"Messages in the dead-letter queue {dlq.queue_name}: inspect, fix, redrive.",
            metric=dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        return alarm
