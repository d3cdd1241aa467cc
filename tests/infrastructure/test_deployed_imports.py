"""The deploy, proven as far as this machine can: the deps layer built as the deploy builds it
(``scripts/build_deps_layer.sh``), then every handler imported in a fresh interpreter of the
Python version the functions declare, whose only paths are the standard library, the two layers,
what the Lambda runtime itself provides (boto3 and its dependencies) and the function's folder.

This catches what the dev venv hides: a runtime dependency missing from the deps layer (issue 7:
Powertools' ``Tracer()`` needs ``aws_xray_sdk``, which was a dev-only dependency).

Platform: the deploy builds manylinux2014 wheels for arm64 (Graviton); this machine is what it
is, so the layer is built here for the machine's own architecture with the same script, the same
requirement list and the same Python version (``DD0C_LAYER_PLATFORM``). The layer is built once
per set of requirements and kept under ``build/deps-layer-test/`` (PyPI is reached once)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dd0c_cost.topology import TOPOLOGY

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_deps_layer.sh"
# What the Lambda Python runtime ships next to the interpreter (not in any layer).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")

PROBE = r"""
import importlib.util, json, sys
name, folder = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location(f"handler_{name}", f"{folder}/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(getattr(module, "handler")), "no handler"
print(json.dumps({"ok": name, "xray": "aws_xray_sdk" in sys.modules, "paths": sys.path}))
"""


def declared_runtime() -> str:
    from dd0c_cost_cdk.config import LAMBDA_RUNTIME

    return LAMBDA_RUNTIME  # e.g. "python3.11"


def _host_platform() -> str:
    machine = platform.machine()
    return {"x86_64": "manylinux2014_x86_64", "aarch64": "manylinux2014_aarch64"}[machine]


@pytest.fixture(scope="session")
def built_deps_layer() -> Path:
    key = hashlib.sha256(
        (REPO / "pyproject.toml").read_bytes()
        + SCRIPT.read_bytes()
        + (REPO / "scripts" / "trim_deps_layer.py").read_bytes()
        + _host_platform().encode()
    ).hexdigest()[:16]
    out = REPO / "build" / "deps-layer-test" / key
    out.parent.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers each run this fixture: one builds, the others wait for it.
    with open(out.with_name(key + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "python").is_dir():
            tmp = out.with_name(key + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            env = {**os.environ, "DD0C_LAYER_PLATFORM": _host_platform(), "PYTHON": sys.executable}
            result = subprocess.run(
                ["bash", str(SCRIPT), str(tmp)], env=env, capture_output=True, text=True, timeout=900
            )
            assert result.returncode == 0, result.stdout + result.stderr
            shutil.rmtree(out, ignore_errors=True)
            tmp.rename(out)
    return out


@pytest.fixture(scope="session")
def runtime_provided(tmp_path_factory) -> Path:
    import boto3

    site = Path(boto3.__file__).resolve().parents[1]
    folder = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_PROVIDED:
        (folder / name).symlink_to(site / name)
    return folder


@pytest.fixture(scope="session")
def interpreter() -> str:
    """The real executable of the declared runtime's Python (through any version-manager shim)."""
    runtime = declared_runtime()
    found = shutil.which(runtime)
    assert found, f"{runtime} (the functions' declared runtime) is not installed on this machine"
    return subprocess.run(
        [found, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=True
    ).stdout.strip()


def run_probe(interpreter: str, code: str, *args: str, env: dict, cwd: Path, timeout: int = 120) -> str:
    """Runs probe code in a fresh interpreter and returns the last line it printed.

    -S: no site module, so no site-packages at all; the probe sees only what ``env``'s PYTHONPATH gives it.
    """
    result = subprocess.run(
        [interpreter, "-S", "-c", code, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def test_the_declared_runtime_is_the_interpreter_used_here(interpreter):
    runtime = declared_runtime()
    assert runtime.startswith("python3.")
    version = subprocess.run(
        [interpreter, "-c", "import sys; print(f'python{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == runtime


@pytest.mark.parametrize("name", sorted(f.name for f in TOPOLOGY.functions))
def test_every_handler_imports_from_the_built_layers_alone(
    name, interpreter, built_deps_layer, runtime_provided, tmp_path
):
    folder = REPO / "functions" / name
    paths = [
        str(folder),
        str(REPO / "layers" / "shared" / "python"),
        str(built_deps_layer / "python"),
        str(runtime_provided),
    ]
    # As Lambda starts a function with active tracing: no configuration, no dev venv, no site-packages.
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONNOUSERSITE": "1",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": f"dd0c-cost-{name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "_HANDLER": "handler.handler",
        "LAMBDA_TASK_ROOT": str(folder),
        "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=1",
    }
    out = json.loads(run_probe(interpreter, PROBE, name, str(folder), env=env, cwd=tmp_path))
    assert out["ok"] == name
    assert not any("site-packages" in p or ".venv" in p for p in out["paths"]), out["paths"]


TRIMMED_PROBE = r"""
import importlib.util, json, sys
seen = {}
for name, folder in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location(f"handler_{name}", f"{folder}/handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from dd0c_cost.settings import get_settings, reset_settings
    reset_settings()
    get_settings()  # the first model build of every first call
    seen[name] = {"metadata": "importlib.metadata" in sys.modules, "urllib3": "urllib3" in sys.modules,
                  "ctypes": "ctypes" in sys.modules}
import psycopg, psycopg_binary
from importlib import metadata
print(json.dumps({"seen": seen, "psycopg": psycopg.__version__, "psycopg_binary": psycopg_binary.__version__,
                  "dist": [metadata.version("psycopg"), metadata.version("psycopg-binary")]}))
"""


def test_the_trimmed_layer_imports_no_package_metadata(interpreter, built_deps_layer, runtime_provided, tmp_path):
    """scripts/trim_deps_layer.py, with the environment the CDK gives every function
    (dd0c_cost.COLD_START_ENVIRONMENT): no handler imports importlib.metadata or ctypes at cold
    start or on its first model build (only botocore's urllib3, which the Lambda runtime provides,
    still does), and psycopg reports the same versions as its distribution metadata."""
    from dd0c_cost import COLD_START_ENVIRONMENT

    functions = sorted(f.name for f in TOPOLOGY.functions)
    functions.sort(key=lambda n: n.startswith("zombie_"))  # they import botocore.config -> urllib3 last
    paths = [str(REPO / "layers" / "shared" / "python"), str(built_deps_layer / "python"), str(runtime_provided)]
    env = {
        **COLD_START_ENVIRONMENT,
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(paths),
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    folders = json.dumps([(n, str(REPO / "functions" / n)) for n in functions])
    out = json.loads(run_probe(interpreter, TRIMMED_PROBE, folders, env=env, cwd=tmp_path, timeout=300))
    assert out["psycopg"] == out["dist"][0] and out["psycopg_binary"] == out["dist"][1]
    assert list(out["seen"]) == functions
    for name, seen in out["seen"].items():
        assert not seen["ctypes"], f"{name} imported ctypes"
        if not seen["urllib3"]:
            assert not seen["metadata"], f"{name} imported importlib.metadata"


SLACK_SDK_PROBE = r"""
import sys
import slack_sdk.models.blocks, slack_sdk.web.base_client
assert "slack_sdk.web.client" not in sys.modules and "slack_sdk.webhook" not in sys.modules, "eager WebClient"
from slack_sdk import WebClient, WebhookClient
from slack_sdk.web import SlackResponse, WebClient as Same
from slack_sdk.web.client import WebClient as Real
assert WebClient is Same is Real and issubclass(WebClient, slack_sdk.web.base_client.BaseClient)
assert WebhookClient.__module__ == "slack_sdk.webhook.client"
try:
    slack_sdk.NoSuchName
except AttributeError:
    pass
else:
    raise AssertionError("slack_sdk.NoSuchName")
"""


def test_the_trimmed_slack_sdk_gives_its_clients_on_first_access(interpreter, built_deps_layer, tmp_path):
    """scripts/trim_deps_layer.py: importing slack_sdk's Block Kit models or its BaseClient (all a
    Slack post uses) imports no WebClient, and ``from slack_sdk import WebClient`` still works."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(built_deps_layer / "python")}
    run_probe(interpreter, SLACK_SDK_PROBE, env=env, cwd=tmp_path)


PSYCOPG_PROBE = r"""
import sys
import psycopg
from psycopg import errors

url = sys.argv[1]
with psycopg.connect(url, autocommit=True) as conn:  # the sync API: queries, copy, pipeline, errors
    assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
    with conn.cursor() as cur:
        with cur.copy("COPY (SELECT generate_series(1, 3)) TO STDOUT") as copy:
            assert [row for row in copy.rows()] == [("1",), ("2",), ("3",)]
    with conn.pipeline():
        conn.execute("SELECT 1")
    try:
        conn.execute("SELECT 1 / 0")
    except errors.DivisionByZero:
        pass
    else:
        raise AssertionError("no DivisionByZero")
    assert errors._NO_TRACEBACK == (psycopg.Error, KeyboardInterrupt)
assert "asyncio" not in sys.modules, "the sync API imported asyncio"
# Their modules define the async cursors beside them: the first access imports both (and asyncio).
with psycopg.connect(url, cursor_factory=psycopg.ClientCursor) as conn:
    assert conn.execute("SELECT %s::int", [7]).fetchone() == (7,)
with psycopg.connect(url, cursor_factory=psycopg.RawCursor) as conn:
    assert conn.execute("SELECT $1::int", [8]).fetchone() == (8,)

import asyncio
from psycopg import AsyncConnection, AsyncCursor, AsyncCopy, AsyncServerCursor
from psycopg.copy import AsyncWriter


async def main():
    assert errors._NO_TRACEBACK == (psycopg.Error, KeyboardInterrupt, asyncio.CancelledError)
    async with await AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT 40 + 2")
        assert isinstance(cur, AsyncCursor) and await cur.fetchone() == (42,)
        async with conn.cursor() as cur:
            async with cur.copy("COPY (SELECT generate_series(1, 3)) TO STDOUT") as copy:
                assert isinstance(copy, AsyncCopy)
                assert [row async for row in copy.rows()] == [("1",), ("2",), ("3",)]
        async with conn.cursor("named") as named:
            assert isinstance(named, AsyncServerCursor)
            await named.execute("SELECT generate_series(1, 5)")
            assert len(await named.fetchall()) == 5
        try:
            await asyncio.wait_for(conn.execute("SELECT pg_sleep(5)"), 0.2)
        except TimeoutError:
            pass
        else:
            raise AssertionError("no timeout")
        await conn.rollback()
        assert await (await conn.execute("SELECT 1")).fetchone() == (1,)
    async with await psycopg.AsyncConnection.connect(url, cursor_factory=psycopg.AsyncClientCursor) as conn:
        assert await (await conn.execute("SELECT %s::int", [9])).fetchone() == (9,)
    assert issubclass(psycopg.AsyncRawCursor, AsyncCursor) and AsyncWriter.__module__ == "psycopg._copy_async"


asyncio.run(main())
for name in ("NoSuchName", "AsyncNoSuchName"):
    try:
        getattr(psycopg, name)
    except AttributeError:
        pass
    else:
        raise AssertionError(name)
print("ok")
"""


def test_the_trimmed_psycopg_imports_asyncio_only_for_its_async_api(interpreter, built_deps_layer, pg_server, tmp_path):
    """scripts/trim_deps_layer.py: psycopg's sync API (queries, copy, pipeline, errors) runs without
    importing asyncio, and the names resolved on first access (the client and raw cursors, the async
    API) still work against a real server: queries, copy, server-side cursors, a cancelled query."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(built_deps_layer / "python")}
    assert run_probe(interpreter, PSYCOPG_PROBE, pg_server, env=env, cwd=tmp_path) == "ok"


POWERTOOLS_PROBE = r"""
import sys
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
assert "jmespath" not in sys.modules and "asyncio" not in sys.modules, "eager jmespath or asyncio"
lazy = ("appsync", "bedrock_agent", "bedrock_agent_function", "events_appsync", "http_resolver", "lambda_function_url",
        "vpc_lattice")
assert not [m for m in lazy if f"aws_lambda_powertools.event_handler.{m}" in sys.modules], "eager resolvers"
from aws_lambda_powertools.event_handler import AppSyncResolver, VPCLatticeV2Resolver, HttpResolverLocal
from aws_lambda_powertools.event_handler.appsync import AppSyncResolver as Real
import aws_lambda_powertools.event_handler as handlers
assert AppSyncResolver is Real and VPCLatticeV2Resolver.__module__.endswith(".vpc_lattice")
assert handlers.BedrockAgentResolver.__module__.endswith(".bedrock_agent")
import aws_lambda_powertools.utilities.data_classes as events
from importlib import import_module
from types import FunctionType
assert "aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event" not in sys.modules, "eager data classes"
for name in events.__all__:
    module = import_module(f"{events.__name__}.{events._LAZY.get(name, name)}")
    assert getattr(events, name) is getattr(module, name), name
assert isinstance(events.event_source, FunctionType)
try:
    handlers.NoSuchResolver
except AttributeError:
    pass
else:
    raise AssertionError("NoSuchResolver")


class Context:
    function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "f", 128, "arn:f", "r-1"


logger = Logger(service="probe")


@logger.inject_lambda_context(correlation_id_path="headers.id")
def handler(event, context):
    return logger.get_correlation_id()


assert handler({"headers": {"id": "c-42"}}, Context()) == "c-42"
print("ok")
"""


def test_the_trimmed_powertools_imports_what_a_function_uses(interpreter, built_deps_layer, runtime_provided, tmp_path):
    """scripts/trim_deps_layer.py: Powertools' Logger and API Gateway resolver import neither
    jmespath nor the other resolvers (nor asyncio with AppSync's) nor the other event data classes;
    those still resolve on first access, and a correlation id path still works (it imports jmespath
    then)."""
    paths = [str(built_deps_layer / "python"), str(runtime_provided)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(paths)}
    result = subprocess.run(
        [interpreter, "-S", "-c", POWERTOOLS_PROBE], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "ok"
