"""Buckets whose new objects invoke a function: one per topology BucketTriggerSpec.

Today that is the CloudTrail log bucket: trails in connected accounts deliver their log files
to it (cross-account delivery, like a central logging bucket) and every new ``.json.gz`` under
``AWSLogs/`` invokes ``s3_ingest``, which queues the records for the normaliser.

- The stack creates the bucket (SSE-S3, TLS only, all public access blocked, ACLs disabled,
  objects expire after ``expire_after_days``). Using an existing bucket instead is not
  supported: CDK could only add the notification through a custom-resource Lambda.
- Its name is fixed (``<prefix>-<name>-<account>-<region>``) so the S3 -> Lambda permission and
  the function's read grant can name it without referencing the bucket resource; the bucket's
  notification configuration needs the permission to exist first, and a reference back would
  be a dependency cycle.
- Bucket policy: CloudTrail may check the ACL and write ``AWSLogs/<account>/*`` for each account
  in ``connectedAccountIds`` (``aws:SourceAccount`` = that account), and ``AWSLogs/<org-id>/*``
  for organisation trails (``aws:SourceOrgID``). Nobody else may write.
- Invocations are asynchronous: ``retry_attempts`` retries, then the event (bucket, key, error)
  goes to a standard SQS failure queue with an alarm. Malformed objects are not failures: the
  function reports them to the ingest DLQ (REJECTS_QUEUE_URL) and succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dd0c_cost.topology import BucketTriggerSpec

from .alarms import AlarmTopic
from .config import DeployConfig, bucket_name
from .functions import PipelineFunctions
from .nag import acknowledge
from .queues import async_failure_queue

CLOUDTRAIL = "cloudtrail.amazonaws.com"
# Trails write <bucket>/[<trail prefix>/]AWSLogs/...; dd0c's trails must use no key prefix.
CLOUDTRAIL_KEY_ROOT = "AWSLogs/"


@dataclass(frozen=True)
class TriggeredBucket:
    spec: BucketTriggerSpec
    bucket: s3.Bucket
    name: str
    permission: lambda_.CfnPermission
    failure_queue: sqs.Queue


class BucketTriggers(Construct):
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
        self.by_name: dict[str, TriggeredBucket] = {}
        for spec in config.topology.bucket_triggers:
            target = functions[spec.function]
            scope_ = Construct(self, spec.name)
            name = bucket_name(config.name_prefix, spec)
            bucket_arn = f"arn:{Aws.PARTITION}:s3:::{name}"

            bucket = s3.Bucket(
                scope_,
                "Bucket",
                bucket_name=name,
                encryption=s3.BucketEncryption.S3_MANAGED,
                enforce_ssl=True,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                lifecycle_rules=[
                    s3.LifecycleRule(
                        id="expire-log-files",
                        expiration=Duration.days(spec.expire_after_days),
                        abort_incomplete_multipart_upload_after=Duration.days(1),
                    )
                ],
            )
            self._allow_cloudtrail_delivery(bucket, config)
            acknowledge(
                bucket,
                "AwsSolutions-S1",
                "The bucket only receives CloudTrail log files written by the CloudTrail service and read "
                "by s3_ingest; CloudTrail in this account records the S3 management API calls, and a "
                "second access-log bucket would itself be an unlogged bucket.",
            )

            # S3 -> Lambda, restricted to this bucket in this account.
            permission = lambda_.CfnPermission(
                scope_,
                "InvokePermission",
                action="lambda:InvokeFunction",
                function_name=target.function.function_arn,
                principal="s3.amazonaws.com",
                source_account=Aws.ACCOUNT_ID,
                source_arn=bucket_arn,
            )
            rules = [
                s3.CfnBucket.FilterRuleProperty(name=kind, value=value)
                for kind, value in (("prefix", spec.prefix), ("suffix", spec.suffix))
                if value
            ]
            cfn_bucket: s3.CfnBucket = bucket.node.default_child  # type: ignore[assignment]
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                lambda_configurations=[
                    s3.CfnBucket.LambdaConfigurationProperty(
                        event="s3:ObjectCreated:*",
                        function=target.function.function_arn,
                        filter=s3.CfnBucket.NotificationFilterProperty(
                            s3_key=s3.CfnBucket.S3KeyFilterProperty(rules=rules)
                        )
                        if rules
                        else None,
                    )
                ]
            )
            cfn_bucket.add_dependency(permission)

            # Read only what the trigger delivers.
            target.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket_arn}/{spec.prefix}*"])
            )
            nag_name = f"{config.name_prefix}-{spec.name}-<AWS::AccountId>-<AWS::Region>"
            # The history import reads a tenant's past log files from the same bucket (the bulk path).
            for reader in config.topology.functions:
                if spec.name in reader.reads_buckets:
                    functions[reader.name].role.add_to_principal_policy(
                        iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket_arn}/{spec.prefix}*"])
                    )
                    acknowledge(
                        functions[reader.name].role,
                        f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{nag_name}/{spec.prefix}*]",
                        "s3:GetObject on the log files of this one bucket: a history import reads the keys "
                        "of its chunk, which are not known when the stack is deployed.",
                    )
            acknowledge(
                target.role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{nag_name}/{spec.prefix}*]",
                "s3:GetObject on the objects under the notification prefix of this one bucket: the "
                "function reads whichever new log file it is invoked for, and keys are not known in advance.",
            )

            failure_queue = async_failure_queue(
                scope_,
                config=config,
                alarms=alarms,
                function_name=spec.function,
                function=target.function,
                retry_attempts=spec.retry_attempts,
                max_event_age_s=spec.max_event_age_s,
            )

            self.by_name[spec.name] = TriggeredBucket(
                spec=spec, bucket=bucket, name=name, permission=permission, failure_queue=failure_queue
            )

    def __getitem__(self, name: str) -> TriggeredBucket:
        return self.by_name[name]

    @staticmethod
    def _allow_cloudtrail_delivery(bucket: s3.Bucket, config: DeployConfig) -> None:
        """CloudTrail's documented bucket policy, with one write statement per connected account
        (an account's trails can write only under its own id) plus one for the organisation."""
        service = iam.ServicePrincipal(CLOUDTRAIL)
        accounts = list(config.connected_account_ids)
        org = config.organization_id
        if accounts:
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudTrailAclCheckAccounts",
                    principals=[service],
                    actions=["s3:GetBucketAcl"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringEquals": {"aws:SourceAccount": accounts}},
                )
            )
        for account in accounts:
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"CloudTrailWrite{account}",
                    principals=[service],
                    actions=["s3:PutObject"],
                    resources=[bucket.arn_for_objects(f"{CLOUDTRAIL_KEY_ROOT}{account}/*")],
                    conditions={
                        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": account}
                    },
                )
            )
        if org:
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudTrailAclCheckOrganization",
                    principals=[service],
                    actions=["s3:GetBucketAcl"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringEquals": {"aws:SourceOrgID": org}},
                )
            )
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudTrailWriteOrganization",
                    principals=[service],
                    actions=["s3:PutObject"],
                    resources=[bucket.arn_for_objects(f"{CLOUDTRAIL_KEY_ROOT}{org}/*")],
                    conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceOrgID": org}},
                )
            )
