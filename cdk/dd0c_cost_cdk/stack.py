"""The central dd0c/cost stack: it only composes the constructs, one per concern."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from .alarms import AlarmTopic
from .config import DeployConfig
from .database import Database
from .functions import PipelineFunctions
from .http_api import HttpApi
from .ingress import EventBusIngress, EventRoutes
from .layers import Layers
from .log_buckets import BucketTriggers
from .migrations import MigrationsOnDeploy
from .network import Network
from .queues import PipelineQueues
from .schedules import Schedules
from .secrets_key import SecretsKey
from .slack import SlackSecret


class Dd0cCostStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        topology = config.topology

        self.alarms = AlarmTopic(self, "Alarms", name_prefix=config.name_prefix, email=config.alarm_email)
        self.queues = PipelineQueues(self, "Queues", config=config, alarms=self.alarms)
        self.ingress = EventBusIngress(self, "Ingress", config=config)
        self.routes = EventRoutes(
            self, "EventRoutes", config=config, bus=self.ingress.bus, queues=self.queues, alarms=self.alarms
        )
        self.network = Network(self, "Network", config=config)
        self.database = Database(self, "Database", config=config, network=self.network)
        self.slack = SlackSecret(self, "Slack", config=config)
        self.secrets_key = SecretsKey(self, "SecretsKey", config=config)
        self.layers = Layers(self, "Layers", config=config)
        self.functions = PipelineFunctions(
            self,
            "Functions",
            config=config,
            layers=self.layers,
            queues=self.queues,
            network=self.network,
            database=self.database,
            slack=self.slack,
            bus=self.ingress.bus,
            secrets_key=self.secrets_key,
        )
        self.buckets = BucketTriggers(self, "Buckets", config=config, functions=self.functions, alarms=self.alarms)
        self.schedules = Schedules(self, "Schedules", config=config, functions=self.functions, alarms=self.alarms)
        self.http_api = HttpApi(
            self,
            "HttpApi",
            config=config,
            functions={name: f.function for name, f in self.functions.by_name.items()},
        )

        migrate = self.functions[topology.deploy_function().name]
        self.migrations = MigrationsOnDeploy(
            self,
            "Migrations",
            handler=migrate.function,
            handler_timeout=Duration.seconds(migrate.spec.timeout_s),
            execute_after=[self.database, self.network],
            execute_before=[f.function for f in self.functions.by_name.values() if not f.spec.runs_on_deploy],
        )

        CfnOutput(self, "ApiUrl", value=self.http_api.url, description="HTTP API base URL")
        CfnOutput(
            self, "EventBusArn", value=self.ingress.bus.event_bus_arn, description="Target for customer accounts' rules"
        )
        CfnOutput(
            self,
            "SlackSecretArn",
            value=self.slack.secret.secret_arn,
            description="Fill in signing_secret, client_id and client_secret (or bot_token and tenant for one workspace)",
        )
        CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn)
        CfnOutput(self, "DatabaseAdminSecretArn", value=self.database.admin_secret.secret_arn)
        CfnOutput(
            self,
            "OperatorFunctionName",
            value=self.functions[topology.operator_function().name].function.function_name,
            description="What `dd0c-cost --stack <stack name> ...` invokes (lambda:InvokeFunction)",
        )
        for spec in topology.bucket_triggers:
            CfnOutput(
                self,
                f"BucketName{_camel(spec.name)}",
                value=self.buckets[spec.name].bucket.bucket_name,
                description=f"{spec.purpose} (on the trail: this bucket, no key prefix)",
            )
        for spec in topology.queues:
            pair = self.queues[spec.name]
            CfnOutput(self, f"QueueUrl{_camel(spec.name)}", value=pair.queue.queue_url)
            CfnOutput(self, f"DlqUrl{_camel(spec.name)}", value=pair.dlq.queue_url)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
