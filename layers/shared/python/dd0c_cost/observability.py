"""One place for what the logs, traces and metrics are called.

Every Lambda's Powertools Logger, Tracer and Metrics come from here, named after its topology
function (``service_name``); the CDK sets ``POWERTOOLS_SERVICE_NAME`` and
``POWERTOOLS_METRICS_NAMESPACE`` from the same two definitions, so the deployed environment and the
code cannot name a function differently. Building these objects does no I/O.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

METRICS_NAMESPACE = "dd0c-cost"
SERVICE_PREFIX = "dd0c-cost-"


def service_name(function: str) -> str:
    """The service name of a topology function (``FunctionSpec.name``): logs, traces, metrics."""
    return f"{SERVICE_PREFIX}{function}"


def logger(function: str) -> Logger:
    return Logger(service=service_name(function))


def tracer(function: str) -> Tracer:
    return Tracer(service=service_name(function))


def metrics(function: str) -> Metrics:
    return Metrics(namespace=METRICS_NAMESPACE, service=service_name(function))


def count(name: str) -> None:
    """Add 1 to a metric; the handler's ``@metrics.log_metrics`` flushes it as EMF (Powertools keeps
    metrics in shared state, so any Metrics object of the namespace can add)."""
    Metrics(namespace=METRICS_NAMESPACE).add_metric(name=name, unit=MetricUnit.Count, value=1)
