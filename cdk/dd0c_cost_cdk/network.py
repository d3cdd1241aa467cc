"""The VPC: isolated subnets for the database, private subnets with egress for the functions."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from .config import DeployConfig


class Network(Construct):
    """Two AZs (Aurora needs subnets in two); NAT gateway count from context ``natGateways``.

    The functions need egress: Slack (notify, api), and the SQS / Secrets Manager / X-Ray APIs.
    One NAT gateway is the cheapest way to get it (~USD 33/month + data processing); interface
    endpoints for SQS, Secrets Manager and X-Ray would cost more at this size and Slack would
    still need a NAT. With one NAT the functions lose egress if its AZ fails (context
    natGateways=2 removes that single point of failure at twice the cost).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="functions", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name="database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Rejected traffic only: enough to debug security groups, a fraction of the cost of ALL.
        self.vpc.add_flow_log(
            "RejectedTraffic",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        # One security group for every function: HTTPS out (AWS APIs, Slack) and PostgreSQL to
        # the database (added by the Database construct); nothing may connect in.
        self.functions_sg = ec2.SecurityGroup(
            self,
            "FunctionsSg",
            vpc=self.vpc,
            description="dd0c-cost Lambda functions: HTTPS out, PostgreSQL to the database only",
            allow_all_outbound=False,
        )
        self.functions_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: AWS APIs and Slack")
        self.function_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.database_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
