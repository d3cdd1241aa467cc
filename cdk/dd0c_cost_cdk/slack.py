"""The Slack app's credentials: one Secrets Manager secret, filled in by an operator."""

from __future__ import annotations

import json

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .config import DeployConfig
from .nag import acknowledge

# The JSON keys the functions read from the secret named by SLACK_SECRET_ARN: the Slack app's
# signing secret and OAuth credentials (one installation per tenant), or, for a single
# workspace, a bot token and the one tenant it serves (dd0c_cost.settings).
SLACK_SECRET_KEYS = ("signing_secret", "client_id", "client_secret", "bot_token", "tenant")


class SlackSecret(Construct):
    """Created empty (every key of SLACK_SECRET_KEYS set to "") unless context slackSecretArn
    names an existing secret. CloudFormation never overwrites the value after creation, so the
    operator's ``put-secret-value`` survives later deploys (docs/deploy.md)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        if config.slack_secret_arn:
            self.secret: secretsmanager.ISecret = secretsmanager.Secret.from_secret_complete_arn(
                self, "Imported", config.slack_secret_arn
            )
            return
        secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=f"{config.name_prefix}/slack",
            description="Slack app: signing_secret, client_id, client_secret (or bot_token + tenant). Fill in after the first deploy.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(dict.fromkeys(SLACK_SECRET_KEYS, "")),
                # A throwaway generated key: CloudFormation requires one; the functions ignore it.
                generate_string_key="unused",
                password_length=16,
            ),
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Slack bot tokens and signing secrets are issued and rotated in Slack, not by AWS; a "
            "Secrets Manager rotation function cannot mint them. Rotate in Slack, then put-secret-value.",
        )
        self.secret = secret
