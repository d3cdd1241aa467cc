"""The one Lambda runtime and architecture used by every function and layer."""

from aws_cdk import aws_lambda as lambda_

from .config import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64

assert RUNTIME.name == LAMBDA_RUNTIME and ARCHITECTURE.name == LAMBDA_ARCHITECTURE
