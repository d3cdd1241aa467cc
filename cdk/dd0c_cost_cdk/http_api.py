"""The HTTP API (API Gateway v2): one route per topology RouteSpec, each to its function."""

from __future__ import annotations

import json

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .config import DeployConfig
from .nag import acknowledge

_AUTH_REASONS = {
    "api_key": (
        "Authenticated in the api function: tenant API keys are hashed and looked up in PostgreSQL "
        "(HTTP APIs have no API-key authorizer, and a Lambda authorizer would add a second cold "
        "start and a second database round trip per request)."
    ),
    "slack_signature": (
        "Slack cannot present AWS credentials or tokens; the api function verifies the Slack "
        "request signature (HMAC-SHA256 with the signing secret, 5-minute replay window)."
    ),
    "none": "Public liveness probe: returns no data.",
}

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "userAgent": "$context.identity.userAgent",
    }
)


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        functions: dict[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self,
            "Api",
            api_name=f"{config.name_prefix}-api",
            description="dd0c/cost: batch ingest, anomalies, Slack interactions",
            create_default_stage=False,
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=config.api_throttle_rate_limit, burst_limit=config.api_throttle_burst_limit
            ),
            access_log_settings=_AccessLogSettings(
                apigw.LogGroupLogDestination(access_logs), apigw_v1.AccessLogFormat.custom(ACCESS_LOG_FORMAT)
            ),
        )

        integrations_by_function: dict[str, integrations.HttpLambdaIntegration] = {}
        for spec in config.topology.routes:
            if spec.auth not in _AUTH_REASONS:
                raise ValueError(f"route {spec.method} {spec.path}: unknown auth {spec.auth!r}")
            integration = integrations_by_function.get(spec.function)
            if integration is None:
                integration = integrations.HttpLambdaIntegration(
                    f"{spec.function}-integration", functions[spec.function]
                )
                integrations_by_function[spec.function] = integration
            for route in self.api.add_routes(
                path=spec.path, methods=[apigw.HttpMethod[spec.method]], integration=integration
            ):
                acknowledge(route, "AwsSolutions-APIG4", _AUTH_REASONS[spec.auth])

    @property
    def url(self) -> str:
        return self.stage.url


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    """aws_apigatewayv2.IAccessLogSettings is a jsii interface (not a struct): implement it."""

    def __init__(self, destination: apigw.IAccessLogDestination, log_format: apigw_v1.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    @jsii.member(jsii_name="destination")
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    @jsii.member(jsii_name="format")
    def format(self) -> apigw_v1.AccessLogFormat:
        return self._format
