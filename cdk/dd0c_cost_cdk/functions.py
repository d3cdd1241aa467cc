"""One Lambda function per topology FunctionSpec, with exactly the access its spec implies."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from dd0c_cost import COLD_START_ENVIRONMENT
from dd0c_cost.observability import METRICS_NAMESPACE, TRACE_DISABLED_ENV, service_name
from dd0c_cost.onboarding import READER_ROLE_NAME, REMEDIATOR_ROLE_NAME
from dd0c_cost.settings import env_var
from dd0c_cost.topology import DATABASE_ROLES, INGEST, FunctionSpec, queue_url_env_var

from .config import DeployConfig
from .database import Database
from .layers import ASSET_EXCLUDES, Layers
from .nag import acknowledge
from .network import Network
from .queues import PipelineQueues
from .runtime import ARCHITECTURE, RUNTIME
from .secrets_key import SecretsKey
from .slack import SlackSecret

# Actions that AWS does not scope to resources; the only "Resource": "*" statements we allow.
# Lambda needs the EC2 ones to manage the function's ENIs in the VPC; X-Ray has no resources.
VPC_ENI_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


def reader_role_arn_pattern() -> str:
    return f"arn:{Aws.PARTITION}:iam::*:role/{READER_ROLE_NAME}"


def remediator_role_arn_pattern() -> str:
    return f"arn:{Aws.PARTITION}:iam::*:role/{REMEDIATOR_ROLE_NAME}"


@dataclass(frozen=True)
class PipelineFunction:
    spec: FunctionSpec
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup


class PipelineFunctions(Construct):
    """For each FunctionSpec: code from ``functions/<name>/``, the shared + deps layers, X-Ray,
    a log group with retention, an SQS event source for ``source_queue`` (partial batch
    failures on), send rights on ``output_queues`` only, and database/Slack access as flagged.

    Rejects: a function with ``sends_rejects`` (normalize, s3_ingest) may also send to the
    ingest DLQ, whose URL it gets as REJECTS_QUEUE_URL (deterministic rejects skip the retries).
    """

    def __init__(  # noqa: C901 - one branch per FunctionSpec flag; split into per-flag grants in issue 8 step 2
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        layers: Layers,
        queues: PipelineQueues,
        network: Network,
        database: Database,
        slack: SlackSecret,
        bus: events.IEventBus,
        secrets_key: SecretsKey,
    ) -> None:
        super().__init__(scope, construct_id)
        topology = config.topology
        self._config = config
        self.by_name: dict[str, PipelineFunction] = {}

        for spec in topology.functions:
            code_dir = config.functions_path / spec.name
            module = spec.handler.rsplit(".", 1)[0]
            if not (code_dir / f"{module}.py").is_file():
                raise FileNotFoundError(
                    f"function {spec.name!r}: {code_dir / (module + '.py')} does not exist "
                    f"(topology handler {spec.handler!r}); context functionsPath={config.functions_path}"
                )
            scope_ = Construct(self, spec.name)
            log_group = logs.LogGroup(
                scope_, "Logs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
            )
            role = iam.Role(
                scope_,
                "Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"dd0c-cost {spec.name}: {spec.purpose}"[:1000],
            )
            log_group.grant_write(role)

            environment = {
                "POWERTOOLS_SERVICE_NAME": service_name(spec.name),
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "LOG_LEVEL": config.log_level,
                # dd0c_cost.observability imports the X-Ray SDK only when this is not "true".
                TRACE_DISABLED_ENV: "false" if config.xray_sdk else "true",
                **COLD_START_ENVIRONMENT,
            }
            for queue_name in spec.output_queues:
                environment[queue_url_env_var(queue_name)] = queues[queue_name].queue.queue_url
            if spec.sends_rejects:
                environment[env_var("rejects_queue_url")] = queues[INGEST].dlq.queue_url
            # Each function logs in as a member of the role the topology gives it (migration 008):
            # only the normaliser's login can resolve accounts to tenants.
            runtime_secret = database.runtime_secret(spec.database_role)
            if spec.needs_database:
                environment[env_var("database_secret_arn")] = runtime_secret.secret_arn
            if spec.needs_admin_database:
                environment[env_var("database_admin_secret_arn")] = database.admin_secret.secret_arn
            if spec.runs_on_deploy:  # the migrate function creates the runtime logins
                for role_spec in DATABASE_ROLES:
                    environment[role_spec.secret_env] = database.role_secrets[role_spec.role].secret_arn
            if spec.needs_slack:
                environment[env_var("slack_secret_arn")] = slack.secret.secret_arn
                environment[env_var("slack_channel")] = config.slack_channel
            if spec.explains and config.llm_base_url and config.llm_model:
                # The key comes from the Slack secret ("llm_api_key"), never from the template.
                environment[env_var("llm_base_url")] = config.llm_base_url
                environment[env_var("llm_model")] = config.llm_model
            if spec.kms_access != "none":
                environment[env_var("kms_key_id")] = secrets_key.key.key_arn
            if spec.needs_onboarding:
                # What POST /v1/accounts hands a tenant: the bus its rules forward to, and whom
                # its dd0c-reader role trusts.
                environment[env_var("central_bus_arn")] = bus.event_bus_arn
                environment[env_var("dd0c_account_id")] = Stack.of(self).account

            in_vpc = spec.needs_database
            if in_vpc:
                # Lambda creates the function's ENIs with the execution role, at create time.
                role.add_to_principal_policy(iam.PolicyStatement(actions=VPC_ENI_ACTIONS, resources=["*"]))

            function = lambda_.Function(
                scope_,
                "Function",
                description=spec.purpose[:256],
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=spec.handler,
                code=lambda_.Code.from_asset(str(code_dir), exclude=ASSET_EXCLUDES),
                layers=layers.all,
                role=role,
                log_group=log_group,
                timeout=Duration.seconds(spec.timeout_s),
                memory_size=spec.memory_mb,
                reserved_concurrent_executions=spec.reserved_concurrency,
                tracing=lambda_.Tracing.ACTIVE,
                environment=environment,
                vpc=network.vpc if in_vpc else None,
                vpc_subnets=network.function_subnets if in_vpc else None,
                security_groups=[network.functions_sg] if in_vpc else None,
            )

            if spec.source_queue:
                # Consume rights on the source queue come with the event source, and nothing else.
                function.add_event_source(
                    event_sources.SqsEventSource(
                        queues[spec.source_queue].queue,
                        batch_size=spec.batch_size,
                        report_batch_item_failures=True,
                    )
                )
            for queue_name in spec.output_queues:
                queues[queue_name].queue.grant_send_messages(function)
            if spec.sends_rejects:
                queues[INGEST].dlq.grant_send_messages(function)
            if spec.needs_database:
                runtime_secret.grant_read(function)
            if spec.needs_admin_database:
                database.admin_secret.grant_read(function)
            if spec.runs_on_deploy:
                for secret in database.role_secrets.values():
                    secret.grant_read(function)
            if spec.needs_slack:
                slack.secret.grant_read(function)
            if spec.assumes_reader_role:
                # The customers' read-only role, in whichever connected account; each role trusts
                # only the dd0c account presenting that account's ExternalId (onboarding template).
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[reader_role_arn_pattern()])
                )
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/{READER_ROLE_NAME}]",
                    "sts:AssumeRole on the customers' dd0c-reader role in any account: connected accounts "
                    "change at run time (they are rows in the database, not deploy-time parameters), and each "
                    "role admits dd0c only with that account's ExternalId.",
                )
            if spec.assumes_remediation_role:
                # The customers' opt-in remediation role (template parameter EnableRemediation); it
                # trusts only the dd0c account presenting that account's ExternalId, and denies
                # everything on resources tagged dd0c:protect.
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[remediator_role_arn_pattern()])
                )
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/{REMEDIATOR_ROLE_NAME}]",
                    "sts:AssumeRole on the customers' opt-in dd0c-remediator role in any account: connected "
                    "accounts are rows in the database, not deploy-time parameters; each role admits dd0c only "
                    "with that account's ExternalId and only for the actions a person confirmed in Slack.",
                )
            secrets_key.grant(function, spec.kms_access)

            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "Only actions without resource-level permissions use '*': xray:PutTraceSegments and "
                "xray:PutTelemetryRecords (active tracing) and, for VPC functions, the EC2 ENI actions "
                "Lambda needs to attach the function to its subnets.",
            )
            acknowledge(
                function,
                "AwsSolutions-L1",
                "Pinned to python3.11 on purpose: the deps layer is built for cp311 wheels "
                "(scripts/build_deps_layer.sh) and pyproject targets 3.11; moving to a newer runtime "
                "is one coordinated change to runtime.py, the script and the layer.",
            )
            self.by_name[spec.name] = PipelineFunction(spec=spec, function=function, role=role, log_group=log_group)

    def __getitem__(self, name: str) -> PipelineFunction:
        return self.by_name[name]
