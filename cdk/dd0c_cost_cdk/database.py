"""Aurora PostgreSQL Serverless v2 and its two secrets (admin/schema owner, app login)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from dd0c_cost.topology import DATABASE_ROLES

from .config import (
    DATABASE_ADMIN_USER,
    DATABASE_APP_LOGIN,
    DATABASE_NAME,
    DATABASE_PORT,
    DeployConfig,
)
from .nag import acknowledge
from .network import Network

# 16.6 is deprecated: RDS no longer creates clusters with it (cfn-lint W3690). 16.13 is the newest
# 16.x both this aws-cdk-lib and cfn-lint's engine list know; 16.3+ supports scaling to 0 ACU.
# tests/infrastructure/test_cfn_lint.py fails when the pinned version is deprecated.
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_13


class Database(Construct):
    """The cluster lives in isolated subnets; only the functions' security group reaches 5432.

    Secrets (both RDS-style JSON: host, port, username, password, dbname, engine):
    - ``admin_secret``: the cluster's master login. Only the migrate function reads it. Rotated
      every 30 days by the Secrets Manager single-user rotation application.
    - ``app_secret``: the runtime login ``dd0c_app_login``. CDK generates the password; the
      migrate function creates/updates the role from this secret on every run (ensure_app_login),
      so the database and the secret cannot drift.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, network: Network) -> None:
        super().__init__(scope, construct_id)
        prefix = config.name_prefix
        cluster_identifier = f"{prefix}-db"

        self.admin_secret = rds.DatabaseSecret(
            self,
            "AdminSecret",
            username=DATABASE_ADMIN_USER,
            dbname=DATABASE_NAME,
            secret_name=f"{prefix}/database/admin",
        )
        self.app_secret = rds.DatabaseSecret(
            self, "AppSecret", username=DATABASE_APP_LOGIN, dbname=DATABASE_NAME, secret_name=f"{prefix}/database/app"
        )
        # One login per function with a role of its own (dd0c_app plus one cross-tenant door:
        # the normaliser's account -> tenant lookup, the sweeper's list of unsent alerts...).
        self.role_secrets: dict[str, rds.DatabaseSecret] = {
            spec.role: rds.DatabaseSecret(
                self,
                f"{spec.short.replace('_', ' ').title().replace(' ', '')}Secret",
                username=spec.login,
                dbname=DATABASE_NAME,
                secret_name=f"{prefix}/database/{spec.short.replace('_', '-')}",
            )
            for spec in DATABASE_ROLES
        }

        self.security_group = ec2.SecurityGroup(
            self,
            "Sg",
            vpc=network.vpc,
            description="dd0c-cost Aurora PostgreSQL: 5432 from the functions only",
            allow_all_outbound=False,
        )

        # Create the PostgreSQL log group ourselves, with a retention, instead of letting RDS
        # create one that never expires (the LogRetention custom resource would add a Lambda).
        postgres_logs = logs.LogGroup(
            self,
            "PostgresLogs",
            log_group_name=f"/aws/rds/cluster/{cluster_identifier}/postgresql",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )

        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            cluster_identifier=cluster_identifier,
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            credentials=rds.Credentials.from_secret(self.admin_secret),
            default_database_name=DATABASE_NAME,
            writer=rds.ClusterInstance.serverless_v2("Writer", publicly_accessible=False),
            serverless_v2_min_capacity=config.db_min_capacity,
            serverless_v2_max_capacity=config.db_max_capacity,
            vpc=network.vpc,
            vpc_subnets=network.database_subnets,
            security_groups=[self.security_group],
            port=DATABASE_PORT,
            storage_encrypted=True,
            deletion_protection=config.db_deletion_protection,
            backup=rds.BackupProps(retention=Duration.days(7)),
            cloudwatch_logs_exports=["postgresql"],
            removal_policy=RemovalPolicy.SNAPSHOT,
        )
        self.cluster.node.add_dependency(postgres_logs)

        # host/port/engine/dbClusterIdentifier are written into the app secret by the attachment.
        self.app_secret_attachment = self.app_secret.attach(self.cluster)
        self.role_secret_attachments = {role: secret.attach(self.cluster) for role, secret in self.role_secrets.items()}

        # Functions -> database on 5432 only (adds the matching egress rule to the functions SG).
        self.cluster.connections.allow_from(
            network.functions_sg, ec2.Port.tcp(DATABASE_PORT), "PostgreSQL from dd0c-cost functions"
        )

        self.admin_rotation = self.cluster.add_rotation_single_user(
            automatically_after=Duration.days(30),
            # Not at creation: a rotation racing the first migrate run could fail the deploy.
            rotate_immediately_on_update=False,
            vpc_subnets=network.function_subnets,
        )

        acknowledge(
            self.cluster,
            "AwsSolutions-RDS6",
            "Logins use Secrets Manager credentials over TLS (sslmode=require). IAM database auth would "
            "add a token fetch per connection and a 200 new-connections/s cap for no gain here.",
        )
        if not config.db_deletion_protection:
            acknowledge(
                self.cluster,
                "AwsSolutions-RDS10",
                "Deletion protection was switched off explicitly with context dbDeletionProtection=false "
                "for a disposable environment; the default is on.",
            )
        for runtime_secret in (self.app_secret, *self.role_secrets.values()):
            acknowledge(
                runtime_secret,
                "AwsSolutions-SMG4",
                "A runtime login's password is generated here and applied to the database by the migrate "
                "function on every deploy. Automatic rotation needs multi-user rotation plus connection "
                "re-authentication in the functions; tracked as a follow-up in docs/deploy.md.",
            )

    def runtime_secret(self, role: str):
        """The secret of the runtime login that is a member of ``role`` (FunctionSpec.database_role)."""
        return self.role_secrets.get(role, self.app_secret)
