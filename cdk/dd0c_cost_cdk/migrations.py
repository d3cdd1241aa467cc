"""Run the migrate function during each deploy, after the database and before the other functions."""

from __future__ import annotations

from aws_cdk import Duration, triggers
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct


class MigrationsOnDeploy(Construct):
    """An ``aws_cdk.triggers.Trigger`` on the migrate function.

    CloudFormation invokes the function (synchronously; a failure fails and rolls back the
    deploy) whenever the function's version changes: its code, configuration or layers. The
    feature flag ``@aws-cdk/aws-lambda:recognizeLayerVersion`` (cdk.json) makes the shared
    layer part of the version hash, and the SQL migrations live in that layer, so every deploy
    that carries a new migration runs it. Migrations are idempotent, so a run with nothing
    pending is a no-op (and a deploy that changes nothing migrate depends on skips it).

    It runs after ``execute_after`` (the database, its secrets, the network) and before
    ``execute_before`` (every other function), so new code never meets an old schema.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.Function,
        handler_timeout: Duration,
        execute_after: list[IConstruct],
        execute_before: list[IConstruct],
    ) -> None:
        super().__init__(scope, construct_id)
        self.trigger = triggers.Trigger(
            self,
            "Trigger",
            handler=handler,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=handler_timeout.plus(Duration.minutes(1)),
            execute_after=execute_after,
            execute_before=execute_before,
            execute_on_handler_change=True,
        )
