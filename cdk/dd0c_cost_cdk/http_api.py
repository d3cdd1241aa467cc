"""The HTTP API (API Gateway v2): one route per topology RouteSpec, each to its function."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .config import DeployConfig
from .nag import acknowledge

_AUTH_REASONS = {
    "api_key": "Lambda authorizer (functions/authorizer): tenant API keys and console sessions.",
    "sign_in": (
        "Console sign-in: the tenant API key is in the request body; the api function checks it "
        "and answers with a session cookie (HttpOnly, SameSite=Strict, Secure)."
    ),
    "static": "The web console's and the API viewer's static files: no data.",
    "slack_signature": (
        "Slack cannot present AWS credentials or tokens; the api function verifies the Slack "
        "request signature (HMAC-SHA256 with the signing secret, 5-minute replay window)."
    ),
    "oauth_state": (
        "Browser steps of Slack's OAuth install: the credential is the one-time, 10-minute install "
        "state a tenant's API key (or an operator) asked for, pinned to the browser in a cookie; the "
        "api function checks it in PostgreSQL before redirecting or saving anything."
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

        # One Lambda authorizer for every api_key route: it runs dd0c_cost.auth.check_credentials, the
        # check the api function runs locally. API keys come as a header and console sessions as a
        # cookie, and API Gateway caches only on identity sources that are all present, so its cache
        # is off; the authorizer keeps a 60 s in-process cache instead (dd0c_cost.auth.CACHE).
        self.authorizer = authorizers.HttpLambdaAuthorizer(
            "Authorizer",
            functions[config.topology.function("authorizer").name],
            authorizer_name=f"{config.name_prefix}-credentials",
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            results_cache_ttl=Duration.seconds(0),
            identity_source=[],
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
            authorizer = self.authorizer if spec.auth == "api_key" else None
            for route in self.api.add_routes(
                path=spec.path,
                methods=[apigw.HttpMethod[spec.method]],
                integration=integration,
                authorizer=authorizer,
            ):
                if authorizer is None:
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
