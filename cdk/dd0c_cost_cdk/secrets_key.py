"""The KMS key that seals tenants' secrets at rest (Slack bot tokens, ticket credentials).

Envelope encryption (dd0c_cost.crypto.KmsSealer): the functions ask KMS for a data key bound to
an encryption context {tenant_id, purpose}, encrypt the secret with it, and keep only the
KMS-encrypted data key beside the ciphertext; opening needs kms:Decrypt with the same context.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct

from .config import DeployConfig


class SecretsKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"{config.name_prefix}: seals tenants' Slack bot tokens and ticket credentials",
            enable_key_rotation=True,
            # Destroying the key would make every stored token unreadable: keep it with the data.
            removal_policy=RemovalPolicy.RETAIN,
            alias=f"alias/{config.name_prefix}-secrets",
        )

    def grant(self, grantee, access: str) -> None:
        """``access``: "decrypt" (open sealed values) or "encrypt_decrypt" (also seal new ones)."""
        if access == "decrypt":
            self.key.grant_decrypt(grantee)
        elif access == "encrypt_decrypt":
            self.key.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt")
        elif access != "none":
            raise ValueError(f"unknown KMS access {access!r}")
