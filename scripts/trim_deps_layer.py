"""Trim what the deps layer's packages do at import time and never use (docs/decisions.md: "The deps
layer is trimmed at build time").

Run by ``scripts/build_deps_layer.sh`` on the freshly installed layer, before it is compiled:
``python scripts/trim_deps_layer.py LAYER/python``. Each edit replaces one exact piece of text that
must occur exactly once in its file; if a package upgrade changes the text, the build fails here and
the edit must be looked at again (never applied blindly). Behaviour does not change:

- ``psycopg`` and ``psycopg_binary`` look up their own version with ``importlib.metadata`` on import
  (importing it and its email/zipfile/csv parsers, then scanning every distribution on ``sys.path``);
  the layer writes the version that lookup returns, read from the same ``.dist-info``, as a literal.
- ``psycopg.pq.misc`` imports ``ctypes.util`` (and through it ``subprocess``/``tempfile``) for
  ``find_libpq_full_path``, which only the pure-Python libpq wrapper calls; the binary wrapper the
  layer ships never does. The import moves into that function.
- pydantic imports ``importlib.metadata`` at module level in ``plugin._loader`` (used by
  ``get_plugins`` only when plugins are enabled: the functions run with
  ``PYDANTIC_DISABLE_PLUGINS=__all__``, and the layer has no pydantic plugin) and in ``networks``
  (used only to check the version of ``email-validator``, which the layer does not have). Both
  imports move into the functions that use them.
- ``slack_sdk``'s package and its ``web`` package import ``WebClient`` (one wrapper per Web API
  method, with the views, streaming and webhook modules, ≈ 22 M instructions) on any import of a
  submodule, e.g. the Block Kit models or ``web.base_client``, which is all the functions use to
  post. Both names are resolved on first access instead (a module ``__getattr__``, PEP 562):
  ``from slack_sdk import WebClient`` works as before.
- ``psycopg`` imports its async API (``AsyncConnection``, ``AsyncCursor``, ``AsyncCopy``, …) and
  with it ``asyncio`` (≈ 40 M instructions) on ``import psycopg``, though the functions only use
  the sync API. The package resolves the async names, and the cursors whose modules define them
  beside theirs (``RawCursor``, ``ClientCursor``), on first access (PEP 562), as ``psycopg.copy``
  does its ``Async*`` names; the sync modules import asyncio's names where they are used
  (``waiting``'s async waits, ``_acompat``'s ``AQueue``/``ALock``/``AWorker`` on first access,
  the async address lookup), and ``errors._NO_TRACEBACK``, which every ``except`` clause reads when
  it runs, includes asyncio's ``CancelledError`` once asyncio is loaded (none exists before).
- Powertools' ``Logger`` imports its JMESPath utilities (and ``jmespath``) for
  ``inject_lambda_context(correlation_id_path=…)``, which no function passes: the import moves
  there. Its ``event_handler`` package imports every resolver (AppSync with asyncio, Bedrock agents,
  VPC Lattice, Function URLs, the HTTP resolver) whenever any of its modules is imported, e.g. the
  API Gateway resolver the api and slack_events use: those names resolve on first access. So do the
  event data classes of its ``utilities.data_classes`` package (45 names in 30 modules, of which
  the API Gateway resolver uses seven).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class Edit:
    path: str  # relative to the layer's python/ directory
    old: str
    new: str


def _version_file(distribution: str, version: str) -> Edit:
    module = distribution.replace("-", "_")
    old = (
        "from importlib import metadata\n\n"
        "try:\n"
        f'    __version__ = metadata.version("{distribution}")\n'
        "except metadata.PackageNotFoundError:\n"
        '    __version__ = "0.0.0.0"\n'
    )
    new = f'# Written by scripts/trim_deps_layer.py: what metadata.version("{distribution}") returns.\n__version__ = "{version}"\n'
    return Edit(f"{module}/version.py", old, new)


def layer_versions(layer: Path) -> dict[str, str]:
    """Each distribution's version in the layer, by its normalised name (what metadata.version says)."""
    return {d.metadata["Name"].lower().replace("_", "-"): d.version for d in metadata.distributions(path=[str(layer)])}


def edits(versions: dict[str, str]) -> list[Edit]:
    return [
        _version_file("psycopg", versions.get("psycopg", "")),
        _version_file("psycopg-binary", versions.get("psycopg-binary", "")),
        Edit(
            "psycopg/pq/misc.py",
            "import ctypes.util\n",
            "",
        ),
        Edit(
            "psycopg/pq/misc.py",
            "def find_libpq_full_path() -> str | None:\n",
            "def find_libpq_full_path() -> str | None:\n    import ctypes.util\n\n",
        ),
        Edit(
            "pydantic/plugin/_loader.py",
            "from importlib.metadata import entry_points\n",
            "",
        ),
        Edit(
            "pydantic/plugin/_loader.py",
            "        try:\n            for entry_point in entry_points(group=PYDANTIC_ENTRY_POINT_GROUP):\n",
            "        try:\n            from importlib.metadata import entry_points\n\n"
            "            for entry_point in entry_points(group=PYDANTIC_ENTRY_POINT_GROUP):\n",
        ),
        Edit(
            "pydantic/networks.py",
            "from importlib.metadata import version\n",
            "",
        ),
        Edit(
            "pydantic/networks.py",
            "    if not version('email-validator').partition('.')[0] == '2':\n",
            "    from importlib.metadata import version\n\n    if not version('email-validator').partition('.')[0] == '2':\n",
        ),
        Edit(
            "slack_sdk/__init__.py",
            "from .web import WebClient\nfrom .webhook import WebhookClient\n",
            _LAZY_SLACK_SDK,
        ),
        Edit(
            "slack_sdk/web/__init__.py",
            "from .client import WebClient\nfrom .slack_response import SlackResponse\n",
            _LAZY_SLACK_SDK_WEB,
        ),
        *_psycopg_without_asyncio(),
        Edit(
            "aws_lambda_powertools/logging/logger.py",
            "from aws_lambda_powertools.utilities import jmespath_utils\n",
            "",
        ),
        Edit(
            "aws_lambda_powertools/logging/logger.py",
            "            if correlation_id_path:\n                self.set_correlation_id(\n",
            "            if correlation_id_path:\n"
            "                from aws_lambda_powertools.utilities import jmespath_utils\n\n"
            "                self.set_correlation_id(\n",
        ),
        Edit("aws_lambda_powertools/event_handler/__init__.py", _EAGER_RESOLVERS, _LAZY_RESOLVERS),
        Edit(
            "aws_lambda_powertools/utilities/data_classes/__init__.py",
            _EAGER_DATA_CLASSES,
            lazy_relative_imports(_EAGER_DATA_CLASSES),
        ),
    ]


def lazy_relative_imports(block: str) -> str:
    """A package's ``from .module import Name`` lines as a PEP 562 ``__getattr__``: the same names,
    each module imported on first access; a name that is also its module's stays imported (importing
    the submodule elsewhere would otherwise make the package's attribute the module)."""
    names, eager = {}, []
    for node in ast.parse(block).body:
        if not (isinstance(node, ast.ImportFrom) and node.level == 1 and node.module):
            raise SystemExit(f"trim_deps_layer: not a relative from-import: {ast.unparse(node)}")
        for alias in node.names:
            name = alias.asname or alias.name
            if name == node.module:
                eager.append(f"from .{node.module} import {name}\n")
            else:
                names[name] = node.module
    return "".join(eager) + "\n" + lazy_names(names, "these names are imported on first access.")


def lazy_names(names: dict[str, str], why: str) -> str:
    """The text of a package's PEP 562 ``__getattr__`` importing each name from its submodule
    (``names``: name -> submodule, relative to the package) on first access, then keeping it."""
    table = "".join(f"    {name!r}: {module!r},\n" for name, module in names.items())
    return (
        f"# Written by scripts/trim_deps_layer.py: {why}\n"
        f"_LAZY = {{\n{table}}}\n\n\n"
        "def __getattr__(name):\n"
        "    module = _LAZY.get(name)\n"
        "    if module is None:\n"
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")\n'
        "    from importlib import import_module\n\n"
        '    value = globals()[name] = getattr(import_module(f"{__name__}.{module}"), name)\n'
        "    return value\n"
    )


def _psycopg_without_asyncio() -> list[Edit]:
    """``import psycopg`` and its sync API without asyncio (see the module's docstring)."""
    wait_import = "from asyncio import Future, get_running_loop, sleep\n"
    return [
        Edit("psycopg/__init__.py", "from .copy import AsyncCopy, Copy\n", "from .copy import Copy\n"),
        Edit(
            "psycopg/__init__.py",
            "from .raw_cursor import AsyncRawCursor, AsyncRawServerCursor, RawCursor, RawServerCursor\n",
            "",
        ),
        Edit("psycopg/__init__.py", "from .cursor_async import AsyncCursor\n", ""),
        Edit("psycopg/__init__.py", "from .client_cursor import AsyncClientCursor, ClientCursor\n", ""),
        Edit(
            "psycopg/__init__.py",
            "from .connection_async import AsyncConnection\nfrom ._server_cursor_async import AsyncServerCursor\n",
            _LAZY_PSYCOPG,
        ),
        Edit("psycopg/copy.py", "from . import _copy, _copy_async\n", "from . import _copy\n"),
        Edit(
            "psycopg/copy.py",
            "".join(f"{n} = _copy_async.{n}\n" for n in _ASYNC_COPY),
            _LAZY_PSYCOPG_COPY,
        ),
        Edit("psycopg/errors.py", "from asyncio import CancelledError\n", ""),
        Edit("psycopg/errors.py", "_NO_TRACEBACK = (Error, KeyboardInterrupt, CancelledError)\n", _NO_TRACEBACK),
        Edit("psycopg/waiting.py", wait_import, ""),
        Edit(
            "psycopg/waiting.py",
            "    # Don't touch the event loop before we know that we will have to wait: a\n",
            f"    {wait_import}\n    # Don't touch the event loop before we know that we will have to wait: a\n",
        ),
        Edit(
            "psycopg/waiting.py",
            "    # Don't touch the event loop before we know that we will have to wait.\n",
            f"    {wait_import}\n    # Don't touch the event loop before we know that we will have to wait.\n",
        ),
        Edit(
            "psycopg/_acompat.py",
            "import queue\nimport asyncio\nimport threading\n",
            "import queue\nimport threading\n",
        ),
        Edit("psycopg/_acompat.py", "AWorker: TypeAlias = asyncio.Task[None]\n", ""),
        Edit("psycopg/_acompat.py", "ALock = asyncio.Lock\n", ""),
        Edit("psycopg/_acompat.py", "class AQueue(asyncio.Queue[T]):\n    pass\n", _LAZY_ACOMPAT),
        Edit(
            "psycopg/_acompat.py",
            "    return asyncio.create_task(f(*args), name=name)\n",
            "    import asyncio\n\n    return asyncio.create_task(f(*args), name=name)\n",
        ),
        Edit(
            "psycopg/_acompat.py",
            "    wait = asyncio.gather(*tasks)\n",
            "    import asyncio\n\n    wait = asyncio.gather(*tasks)\n",
        ),
        Edit("psycopg/_conninfo_attempts_async.py", "if True:  # ASYNC:\n    import asyncio\n", ""),
        Edit(
            "psycopg/_conninfo_attempts_async.py",
            "        loop = asyncio.get_running_loop()\n",
            "        import asyncio\n\n        loop = asyncio.get_running_loop()\n",
        ),
    ]


# Written by this script into slack_sdk's two package modules: the same names, imported on first access.
_LAZY_SLACK_SDK = """# Written by scripts/trim_deps_layer.py: WebClient and WebhookClient are imported on first access.


def __getattr__(name):
    if name == "WebClient":
        from .web import WebClient

        return WebClient
    if name == "WebhookClient":
        from .webhook import WebhookClient

        return WebhookClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
"""
_LAZY_SLACK_SDK_WEB = """from .slack_response import SlackResponse

# Written by scripts/trim_deps_layer.py: WebClient is imported on first access.


def __getattr__(name):
    if name == "WebClient":
        from .client import WebClient

        return WebClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
"""

# Written by this script into psycopg: the async names, imported (and asyncio with them) on first access.
_LAZY_PSYCOPG = lazy_names(
    {
        "AsyncCopy": "copy",
        "RawCursor": "raw_cursor",
        "RawServerCursor": "raw_cursor",
        "AsyncRawCursor": "raw_cursor",
        "AsyncRawServerCursor": "raw_cursor",
        "AsyncCursor": "cursor_async",
        "ClientCursor": "client_cursor",
        "AsyncClientCursor": "client_cursor",
        "AsyncConnection": "connection_async",
        "AsyncServerCursor": "_server_cursor_async",
    },
    "the async API, and the cursors defined beside it, are imported on first access\n"
    "# (their modules import asyncio, which the sync API never needs).",
)
_ASYNC_COPY = ("AsyncCopy", "AsyncWriter", "AsyncLibpqWriter", "AsyncQueuedLibpqWriter")
_LAZY_PSYCOPG_COPY = f"""# Written by scripts/trim_deps_layer.py: the async copy, imported on first access.
def __getattr__(name):
    if name not in {_ASYNC_COPY!r}:
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
    from . import _copy_async

    value = globals()[name] = getattr(_copy_async, name)
    return value
"""
_NO_TRACEBACK = """# Written by scripts/trim_deps_layer.py: asyncio's CancelledError is one of these once asyncio is
# loaded (none can exist before), so that importing psycopg does not import asyncio.
def __getattr__(name: str) -> Any:
    if name != "_NO_TRACEBACK":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import sys

    cancelled = getattr(sys.modules.get("asyncio.exceptions"), "CancelledError", None)
    return (Error, KeyboardInterrupt) if cancelled is None else (Error, KeyboardInterrupt, cancelled)
"""
_LAZY_ACOMPAT = """# Written by scripts/trim_deps_layer.py: the asyncio names are made on first access (the sync
# connection and copy import this module too).
def __getattr__(name: str) -> Any:
    if name not in ("AWorker", "ALock", "AQueue"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import asyncio

    global AWorker, ALock, AQueue
    AWorker = asyncio.Task[None]
    ALock = asyncio.Lock

    class AQueue(asyncio.Queue[T]):
        pass

    return globals()[name]
"""

# Powertools' event_handler package: the resolvers no function uses, imported on first access.
_EAGER_RESOLVERS = """from aws_lambda_powertools.event_handler.appsync import AppSyncResolver
from aws_lambda_powertools.event_handler.bedrock_agent import BedrockAgentResolver, BedrockResponse
from aws_lambda_powertools.event_handler.bedrock_agent_function import (
    BedrockAgentFunctionResolver,
    BedrockFunctionResponse,
)
from aws_lambda_powertools.event_handler.depends import DependencyResolutionError, Depends
from aws_lambda_powertools.event_handler.events_appsync.appsync_events import AppSyncEventsResolver
from aws_lambda_powertools.event_handler.http_resolver import HttpResolver, HttpResolverLocal
from aws_lambda_powertools.event_handler.lambda_function_url import (
    LambdaFunctionUrlResolver,
)
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.event_handler.vpc_lattice import VPCLatticeResolver, VPCLatticeV2Resolver
"""
_LAZY_RESOLVERS = """from aws_lambda_powertools.event_handler.depends import DependencyResolutionError, Depends
from aws_lambda_powertools.event_handler.request import Request

""" + lazy_names(
    {
        "AppSyncResolver": "appsync",
        "BedrockAgentResolver": "bedrock_agent",
        "BedrockResponse": "bedrock_agent",
        "BedrockAgentFunctionResolver": "bedrock_agent_function",
        "BedrockFunctionResponse": "bedrock_agent_function",
        "AppSyncEventsResolver": "events_appsync.appsync_events",
        "HttpResolver": "http_resolver",
        "HttpResolverLocal": "http_resolver",
        "LambdaFunctionUrlResolver": "lambda_function_url",
        "VPCLatticeResolver": "vpc_lattice",
        "VPCLatticeV2Resolver": "vpc_lattice",
    },
    "these resolvers are imported on first access.",
)

# Powertools' event data classes, every one imported by the package (utilities/data_classes/__init__.py).
_EAGER_DATA_CLASSES = """from .alb_event import ALBEvent
from .api_gateway_proxy_event import APIGatewayProxyEvent, APIGatewayProxyEventV2
from .api_gateway_websocket_event import APIGatewayWebSocketEvent
from .appsync_resolver_event import AppSyncResolverEvent
from .appsync_resolver_events_event import AppSyncResolverEventsEvent
from .aws_config_rule_event import AWSConfigRuleEvent
from .bedrock_agent_event import BedrockAgentEvent
from .bedrock_agent_function_event import BedrockAgentFunctionEvent
from .cloud_watch_alarm_event import (
    CloudWatchAlarmConfiguration,
    CloudWatchAlarmData,
    CloudWatchAlarmEvent,
    CloudWatchAlarmMetric,
    CloudWatchAlarmMetricStat,
    CloudWatchAlarmState,
)
from .cloud_watch_custom_widget_event import CloudWatchDashboardCustomWidgetEvent
from .cloud_watch_logs_event import CloudWatchLogsEvent
from .cloudformation_custom_resource_event import CloudFormationCustomResourceEvent
from .code_deploy_lifecycle_hook_event import (
    CodeDeployLifecycleHookEvent,
)
from .code_pipeline_job_event import CodePipelineJobEvent
from .connect_contact_flow_event import ConnectContactFlowEvent
from .dynamo_db_stream_event import DynamoDBStreamEvent
from .event_bridge_event import EventBridgeEvent
from .event_source import event_source
from .kafka_event import KafkaEvent
from .kinesis_firehose_event import (
    KinesisFirehoseDataTransformationRecord,
    KinesisFirehoseDataTransformationRecordMetadata,
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
)
from .kinesis_stream_event import KinesisStreamEvent
from .lambda_function_url_event import LambdaFunctionUrlEvent
from .s3_batch_operation_event import (
    S3BatchOperationEvent,
    S3BatchOperationResponse,
    S3BatchOperationResponseRecord,
)
from .s3_event import S3Event, S3EventBridgeNotificationEvent
from .secrets_manager_event import SecretsManagerEvent
from .ses_event import SESEvent
from .sns_event import SNSEvent
from .sqs_event import SQSEvent, SQSRecord
from .transfer_family_event import TransferFamilyAuthorizer, TransferFamilyAuthorizerResponse
from .vpc_lattice import VPCLatticeEvent, VPCLatticeEventV2
"""


def apply(layer: Path) -> list[str]:
    """Apply every edit to the layer at ``layer`` (its python/ directory); the files changed."""
    changed: list[str] = []
    versions = layer_versions(layer)
    if not {"psycopg", "psycopg-binary"} <= set(versions):
        raise SystemExit(f"trim_deps_layer: no psycopg / psycopg-binary distribution in {layer}")
    for edit in edits(versions):
        target = layer / edit.path
        text = target.read_text()
        if text.count(edit.old) != 1:
            raise SystemExit(
                f"trim_deps_layer: {edit.path} does not contain this text exactly once (the package changed; "
                f"review the edit in scripts/trim_deps_layer.py):\n{edit.old}"
            )
        target.write_text(text.replace(edit.old, edit.new, 1))
        if edit.path not in changed:
            changed.append(edit.path)
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: trim_deps_layer.py LAYER_PYTHON_DIR", file=sys.stderr)
        return 2
    for path in apply(Path(argv[0])):
        print(f"  trimmed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
