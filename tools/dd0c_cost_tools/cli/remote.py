"""``dd0c-cost --stack NAME ...``: operator commands against a deployed stack, whose database sits
in isolated subnets. The stack's ``OperatorFunctionName`` output names the admin function; the
command is sent to it with ``lambda:InvokeFunction`` (your AWS credentials and region, as for any
AWS CLI call) and its answer printed like the local command's."""

from __future__ import annotations

import json
from typing import Any

from dd0c_cost_tools.cli.errors import CliError

OUTPUT = "OperatorFunctionName"
# The commands that work against a stack, and the admin action each sends.
REMOTE_COMMANDS = {
    ("tenants", "list"): "tenants.list",
    ("tenants", "create"): "tenants.create",
    ("keys", "create"): "keys.create",
    ("accounts", "connect"): "accounts.connect",
    ("accounts", "list"): "accounts.list",
    ("db", "status"): "db.status",
}


def _client(service: str):
    import boto3

    return boto3.client(service)


def operator_function(stack: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = _client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise CliError(
            f"cannot read stack {stack!r}: {exc}",
            "check --stack and your AWS credentials and region (AWS_PROFILE, AWS_REGION)",
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if OUTPUT not in outputs:
        raise CliError(
            f"stack {stack!r} has no {OUTPUT} output", "deploy this version of dd0c/cost (docs/deploy.md, Upgrades)"
        )
    return outputs[OUTPUT]


def call(stack: str, action: str, args: dict[str, Any]) -> Any:
    """The admin function's result for ``action``; a refusal or a failure as a one-line CliError."""
    from botocore.exceptions import BotoCoreError, ClientError

    name = operator_function(stack)
    try:
        response = _client("lambda").invoke(
            FunctionName=name, Payload=json.dumps({"action": action, "args": args}).encode()
        )
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot invoke {name}: {exc}", "you need lambda:InvokeFunction on it") from None
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        detail = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise CliError(f"the admin function failed: {detail}", f"its log group /aws/lambda/{name} has the traceback")
    if not payload.get("ok"):
        raise CliError(payload.get("error") or "refused", payload.get("fix"))
    return payload["result"]


def route(args) -> str | None:
    """The admin action for this command line when ``--stack`` is given (None without it)."""
    if not getattr(args, "stack", None):
        return None
    action = getattr(args, "tenants_action", None) or getattr(args, "accounts_action", None)
    action = action or getattr(args, "db_action", None) or getattr(args, "action", None)
    remote = REMOTE_COMMANDS.get((args.command, action))
    if remote is None:
        choices = ", ".join(" ".join(k) for k in REMOTE_COMMANDS)
        raise CliError(f"`{args.command}` does not work with --stack", f"against a stack: {choices}")
    return remote
