"""The local runner: the real Lambda handlers, fed the event shapes AWS sends, with the
topology's queues emulated by moto so FIFO grouping, deduplication and DLQ redrive behave as
they do on AWS.

Queues, DLQs and which handler consumes which queue all come from ``dd0c_cost.topology``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from aws_lambda_powertools import Metrics

from dd0c_cost.settings import env_var
from dd0c_cost.topology import (
    TOPOLOGY,
    FunctionSpec,
    physical_queue_name,
    queue_url_env_var,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PREFIX = "dd0c-local"

# Environment the local runner gives the handlers, like the CDK app gives them in AWS.
_LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "dd0c-cost-local",
}


def functions_dir() -> Path:
    """``functions/`` of the checkout this package runs from (override: DD0C_FUNCTIONS_DIR)."""
    override = os.environ.get("DD0C_FUNCTIONS_DIR")
    if override:
        return Path(override)
    from dd0c_cost_tools import REPO_ROOT

    return REPO_ROOT / "functions"


def load_handler(spec: FunctionSpec) -> Callable[[dict, object], dict]:
    module_name, attribute = spec.handler.rsplit(".", 1)
    path = functions_dir() / spec.name / f"{module_name}.py"
    if not path.exists():
        raise FileNotFoundError(f"handler for {spec.name!r} not found at {path}")
    loader_spec = importlib.util.spec_from_file_location(f"dd0c_functions.{spec.name}.{module_name}", path)
    module: ModuleType = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    return getattr(module, attribute)


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_s: int = 10

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_lambda_record(message: dict, queue_arn: str) -> dict:
    """One SQS message as Lambda's SQS event source delivers it."""
    attributes = dict(message.get("Attributes", {}))
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


@dataclass
class QueuePair:
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str


class LocalPipeline:
    """Moto-backed queues from the topology plus the real handlers, pumped until quiet.

    Use as a context manager: it starts moto's in-process AWS, creates the queues, and points
    the handlers' settings at them.
    """

    def __init__(self, *, extra_env: dict[str, str] | None = None, prefix: str = PREFIX):
        self.prefix = prefix
        self.extra_env = dict(extra_env or {})
        self.queues: dict[str, QueuePair] = {}
        self._handlers: dict[str, Callable] = {}
        self._saved_env: dict[str, str | None] = {}
        self._mock = None
        self.invocations: dict[str, int] = {}
        self.function_errors: list[tuple[str, str]] = []

    # --- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> LocalPipeline:
        from moto import mock_aws

        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self._set_env({**_LOCAL_ENV, **self.extra_env})
        self._mock = mock_aws()
        self._mock.start()
        self._reset_cached_clients()
        sqs = self.sqs
        for spec in TOPOLOGY.queues:
            dlq_url = sqs.create_queue(
                QueueName=physical_queue_name(self.prefix, spec.name, dlq=True),
                Attributes={"FifoQueue": "true"},
            )["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

            url = sqs.create_queue(
                QueueName=physical_queue_name(self.prefix, spec.name),
                Attributes={
                    "FifoQueue": "true",
                    "VisibilityTimeout": str(spec.visibility_timeout_s),
                    "RedrivePolicy": json.dumps(
                        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}
                    ),
                },
            )["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.queues[spec.name] = QueuePair(url, arn, dlq_url, dlq_arn)
        env = {queue_url_env_var(name): pair.url for name, pair in self.queues.items()}
        env[env_var("rejects_queue_url")] = self.queues[TOPOLOGY.consumer_of("ingest").source_queue].dlq_url
        self._set_env(env)
        self._reset_cached_clients()
        return self

    def __exit__(self, *exc) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        self._reset_cached_clients()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    @staticmethod
    def _reset_cached_clients() -> None:
        """Forget what the runtime built from the environment this pipeline changes: settings,
        queue clients, the notifier and this thread's database connections (a connection to the
        previous ``DATABASE_URL`` would fail the next records with the server gone)."""
        from dd0c_cost import queues
        from dd0c_cost.db.connection import close_connection
        from dd0c_cost.notify.slack import reset_notifier
        from dd0c_cost.settings import reset_settings

        reset_settings()
        queues.reset_clients()
        reset_notifier()
        close_connection()

    @property
    def sqs(self):
        from dd0c_cost.queues import sqs_client

        return sqs_client()

    # --- producing ----------------------------------------------------------------------------
    def send_ingest(self, bodies: Iterable[tuple[str, str]]) -> int:
        """Send (message group, body) pairs to the ingest queue in batches of ten; return count.

        The deduplication id is a digest of the body (which carries its origin), so SQS drops
        only exact resends, and the database decides what is a duplicate event."""
        batch: list[dict] = []
        sent = 0
        url = self.queues["ingest"].url
        for index, (group, body) in enumerate(bodies):
            batch.append(
                {
                    "Id": str(index % 10),
                    "MessageBody": body,
                    "MessageGroupId": group,
                    "MessageDeduplicationId": hashlib.sha256(body.encode()).hexdigest(),
                }
            )
            if len(batch) == 10:
                sent += self._send_batch(url, batch)
                batch = []
        if batch:
            sent += self._send_batch(url, batch)
        return sent

    def _send_batch(self, url: str, entries: list[dict]) -> int:
        response = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused messages: {response['Failed']}")
        return len(entries)

    # --- consuming ----------------------------------------------------------------------------
    def handler(self, function_name: str) -> Callable:
        if function_name not in self._handlers:
            self._handlers[function_name] = load_handler(TOPOLOGY.function(function_name))
        return self._handlers[function_name]

    def pump_once(self, spec: FunctionSpec) -> int:
        """Deliver one batch from the function's queue to its handler, as Lambda's event source
        mapping does: delete what succeeded, make failures visible again. Returns messages seen."""
        pair = self.queues[spec.source_queue]
        response = self.sqs.receive_message(
            QueueUrl=pair.url,
            MaxNumberOfMessages=min(spec.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_lambda_record(m, pair.arn) for m in messages]}
        context = LambdaContext(spec.name, memory_limit_in_mb=spec.memory_mb, timeout_s=spec.timeout_s)
        self.invocations[spec.name] = self.invocations.get(spec.name, 0) + 1
        try:
            result = self.handler(spec.name)(event, context) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception as exc:  # noqa: BLE001 - a function error fails the whole batch, as on AWS
            self.function_errors.append((spec.name, repr(exc)))
            failed = {m["MessageId"] for m in messages}
        finally:
            # Metrics are disabled locally, but Powertools keeps (and past 100 values prints)
            # what it never flushes; drop them, as a flush would in Lambda.
            Metrics().clear_metrics()
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=pair.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for message in messages:
            if message["MessageId"] in failed:
                # Lambda would wait out the visibility timeout; locally, retry at once.
                self.sqs.change_message_visibility(
                    QueueUrl=pair.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return len(messages)

    def fire_schedule(self, name: str, at) -> dict:
        """What an EventBridge schedule does: invoke its function with ``{"kind", "time"}`` (the
        rule's input transformer) at event time ``at``."""
        spec = TOPOLOGY.schedule(name)
        function = TOPOLOGY.function(spec.function)
        event = {"kind": spec.kind, "time": at.isoformat().replace("+00:00", "Z")}
        context = LambdaContext(function.name, memory_limit_in_mb=function.memory_mb, timeout_s=function.timeout_s)
        self.invocations[function.name] = self.invocations.get(function.name, 0) + 1
        return self.handler(function.name)(event, context)

    def drain(self, *, on_progress: Callable[[str, int], None] | None = None, max_rounds: int = 1_000_000) -> None:
        """Pump every consumer, upstream first, until all queues are empty."""
        consumers = [f for f in TOPOLOGY.functions if f.source_queue]
        for _ in range(max_rounds):
            moved = 0
            for spec in consumers:
                while True:
                    n = self.pump_once(spec)
                    if not n:
                        break
                    moved += n
                    if on_progress:
                        on_progress(spec.name, n)
            if not moved:
                return
        raise RuntimeError("pipeline did not go quiet")

    def take_dead_letters(self, queue_name: str) -> list[dict]:
        """Receive and delete everything in a queue's DLQ (FIFO groups would otherwise hold
        back the rest while earlier messages are in flight). The caller keeps them."""
        url = self.queues[queue_name].dlq_url
        taken: list[dict] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
            )
            messages = response.get("Messages", [])
            if not messages:
                return taken
            taken.extend(messages)
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
