"""One place for what the logs, traces and metrics are called.

Every Lambda's Powertools Logger, Tracer and Metrics come from here, named after its topology
function (``service_name``); the CDK sets ``POWERTOOLS_SERVICE_NAME`` and
``POWERTOOLS_METRICS_NAMESPACE`` from the same two definitions, so the deployed environment and the
code cannot name a function differently. Building these objects does no I/O.

Tracing. Powertools' ``Tracer`` imports the X-Ray SDK whenever it is built, traced or not (about
0.8 s of a cold start). ``tracer()`` builds one only when tracing is on (Powertools' own rule: in
Lambda, and ``POWERTOOLS_TRACE_DISABLED`` not set); otherwise it hands out a stand-in whose
decorators return the function unchanged. The CDK sets ``POWERTOOLS_TRACE_DISABLED`` from the
``xraySdk`` context (off by default: Lambda's active tracing still records every invocation).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

METRICS_NAMESPACE = "dd0c-cost"
SERVICE_PREFIX = "dd0c-cost-"
# The variable that turns the X-Ray SDK's subsegments off (Powertools reads it too).
TRACE_DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"


def service_name(function: str) -> str:
    """The service name of a topology function (``FunctionSpec.name``): logs, traces, metrics."""
    return f"{SERVICE_PREFIX}{function}"


def logger(function: str) -> Logger:
    return Logger(service=service_name(function))


def tracing_enabled() -> bool:
    """Powertools' rule: traced in Lambda (not SAM/Chalice local) unless POWERTOOLS_TRACE_DISABLED."""
    if os.environ.get(TRACE_DISABLED_ENV, "false").strip().lower() in {"1", "true", "yes", "on", "y"}:
        return False
    in_lambda = bool(os.environ.get("LAMBDA_TASK_ROOT"))
    local = bool(os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))
    return in_lambda and not local


class UntracedTracer:
    """What ``tracer()`` returns when tracing is off: Powertools' decorator surface, doing nothing."""

    disabled = True

    def __init__(self, service: str) -> None:
        self.service = service

    @staticmethod
    def capture_lambda_handler(handler: Callable | None = None, **_: Any) -> Callable:
        return handler if handler is not None else (lambda f: f)

    @staticmethod
    def capture_method(method: Callable | None = None, **_: Any) -> Callable:
        return method if method is not None else (lambda f: f)

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        return None


def tracer(function: str) -> Any:
    """Powertools' Tracer when tracing is on, else an ``UntracedTracer`` (no X-Ray import)."""
    if not tracing_enabled():
        return UntracedTracer(service_name(function))
    from aws_lambda_powertools import Tracer

    return Tracer(service=service_name(function))


def metrics(function: str) -> Metrics:
    return Metrics(namespace=METRICS_NAMESPACE, service=service_name(function))


def count(name: str) -> None:
    """Add 1 to a metric; the handler's ``@metrics.log_metrics`` flushes it as EMF (Powertools keeps
    metrics in shared state, so any Metrics object of the namespace can add)."""
    Metrics(namespace=METRICS_NAMESPACE).add_metric(name=name, unit=MetricUnit.Count, value=1)
