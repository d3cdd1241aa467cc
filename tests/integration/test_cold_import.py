"""Cold import guard: each handler imports without the packages its first call does not need, and
well within a generous CPU budget (``dd0c-cost bench imports`` reports the exact figures); the
garbage collector is paused while it imports and running again, with the imports' objects frozen,
once it has (``dd0c_cost.cold_start_done``)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

# What no handler may import at cold start (tracing off, as deployed by default).
NEVER = (
    "aws_xray_sdk",
    "pydantic_settings",
    "boto3",
    "botocore.client",
    "moto",
    "aws_lambda_powertools.utilities.batch",
    # botocore is imported where a client is made (the zombie functions made their client config at import)
    "botocore.config",
)
# What only some handlers need for their first call.
ONLY = {
    "dd0c_cost.scoring.scorer": {"score", "history_import"},
    "dd0c_cost.catalogue": {"normalize", "history_import"},
}
# Checked for every function (test_no_function_imports_what_only_others_need).
ONLY_ANY = {
    # Powertools' data classes of every event source: the resolver's (api, slack_events) only;
    # tickets and remediate read their records as dd0c_cost.lambda_runtime.SqsRecord.
    "aws_lambda_powertools.utilities.data_classes": {"api", "slack_events"},
    # Their first calls ask governance; the api imports it only for a snooze (lazily, in the route).
    "dd0c_cost.governance": {"notify", "digest", "tickets", "remediate"},
    # The functions that build Slack messages with it at cold start; the notify package re-exports
    # nothing, so notify.store / notify.sweep users (notify_sweep, digest) do not import it.
    "slack_sdk": {"notify", "tickets", "remediate"},
    # The scanner (inventory, pricing, criteria): the hunter only; the fan-out sends messages.
    "dd0c_cost.zombies.scan": {"zombie_hunter"},
    # The anomaly list's queries and models: the api's fast path; slack_events serves only Slack.
    "dd0c_cost.dashboard": {"api"},
    # Slack's install flow and its OAuth stores: the api (its install routes, lazily) only; a post
    # opens the installation's token with notify.installation.
    "slack_sdk.oauth": set(),
    "dd0c_cost.notify.oauth": set(),
    # Parsing Slack's requests: slack_events; the action modules use SlackAction in annotations only.
    "dd0c_cost.notify.interactions": {"slack_events"},
    # The cost event's models: the functions that make, price or score cost events; the notify,
    # ticket and remediation workers read their messages from dd0c_cost.events.messages.
    "dd0c_cost.events.models": {"history_import", "normalize", "s3_ingest", "score", "sizing", "zombie_hunter"},
    # The topology's dataclasses: tickets and remediate read it only when a message is retried.
    "dd0c_cost.topology": {
        "migrate",
        "normalize",
        "s3_ingest",
        "score",
        "sizing",
        "usage_fanout",
        "usage_poll",
        "zombie_fanout",
    },
}
# Generous: the handlers take about 0.3 s of CPU on the 2-core development machine under load;
# the X-Ray SDK alone added 0.5 s, pydantic-settings and botocore another 0.3 s.
CPU_BUDGET_S = 1.0

_PROBE = """
import gc, json, sys, time
sys.path.insert(0, sys.argv[1])
c0 = time.process_time()
import handler
cpu = time.process_time() - c0
done = {"gc_enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "collections": gc.get_stats()[2]["collections"]}
print(json.dumps({"cpu": cpu, "modules": sorted(sys.modules), **done}))
"""

HANDLERS = ["api", "normalize", "score", "notify", "s3_ingest", "migrate", "history_import"]
FUNCTIONS = sorted(p.parent.name for p in (REPO_ROOT / "functions").glob("*/handler.py"))


def _environment(function: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(REPO_ROOT / "functions" / function),
            "AWS_LAMBDA_FUNCTION_NAME": f"dd0c-cost-{function}",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return env


def _import(function: str, probe: str = _PROBE) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", probe, str(REPO_ROOT / "functions" / function)],
        env=_environment(function),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@functools.cache
def _import_once(function: str) -> dict:
    """One cold import per function and test process, shared by the tests that only read modules."""
    return _import(function)


@pytest.mark.parametrize("function", HANDLERS)
def test_handler_imports_only_what_its_first_call_needs(function: str) -> None:
    runs = [_import(function) for _ in range(2)]
    modules = set(runs[0]["modules"])
    for name in NEVER:
        assert name not in modules, f"{function} imports {name} at cold start"
    for name, allowed in ONLY.items():
        if function not in allowed:
            assert name not in modules, f"{function} imports {name}, which only {sorted(allowed)} need"
    assert min(r["cpu"] for r in runs) <= CPU_BUDGET_S, f"{function}: {min(r['cpu'] for r in runs):.2f} s of CPU"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_imports_what_only_others_need(function: str) -> None:
    modules = set(_import_once(function)["modules"])
    for name in NEVER:
        assert name not in modules, f"{function} imports {name} at cold start"
    for name, allowed in ONLY_ANY.items():
        if function not in allowed:
            assert name not in modules, f"{function} imports {name}, which only {sorted(allowed)} need"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_garbage_collection_while_a_handler_imports(function: str) -> None:
    done = _import_once(function)
    assert done["collections"] == 0, f"{function}: a full collection ran while importing"
    assert done["gc_enabled"], f"{function}: the collector is still paused (no dd0c_cost.cold_start_done() at its end)"
    assert done["frozen"] > 10_000, f"{function}: the imports' objects were not frozen"


@pytest.mark.parametrize(("function", "eager"), [("api", {"dd0c_cost.api.routes.anomalies"}), ("slack_events", set())])
def test_the_api_imports_its_routers_on_first_need(function: str, eager: set[str]) -> None:
    """The api: only the anomaly list's router (the resolver's fast path) at cold start; slack_events
    (only Slack's requests): none, nor the list's queries and models. A request includes the rest
    (dd0c_cost.api.app.ROUTERS)."""
    modules = set(_import_once(function)["modules"])
    routers = {m for m in modules if m.startswith("dd0c_cost.api.routes.")}
    assert routers == eager, sorted(routers)
    if not eager:
        assert not {m for m in modules if m.startswith("dd0c_cost.dashboard")}, f"{function} imports the list"
    for lazy in ("dd0c_cost.zombies.dal", "dd0c_cost.tickets.targets", "dd0c_cost.onboarding", "dd0c_cost.usage.bill"):
        assert lazy not in modules, f"{function} imports {lazy} at cold start"


def test_tracing_on_builds_the_real_tracer_and_off_a_stand_in(monkeypatch) -> None:
    from dd0c_cost import observability

    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    untraced = observability.tracer("score")
    assert isinstance(untraced, observability.UntracedTracer)

    def f(event, context):
        return 1

    assert untraced.capture_lambda_handler(f) is f and untraced.capture_method(f) is f
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    assert observability.tracing_enabled()
    monkeypatch.delenv("LAMBDA_TASK_ROOT")
    assert not observability.tracing_enabled()  # outside Lambda, as Powertools decides


# What a first call that posts to Slack about an anomaly imports: the anomaly subject's loader and
# message parts (as the tickets and remediate workers load it), and the Web API client; then the
# zombie subject's loader, which its module registers on first need.
_FIRST_POST_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import handler
from dd0c_cost.crypto import Redacted
from dd0c_cost.notify.registry import subject_loader
from dd0c_cost.notify.slack import _web_client
subject_loader("anomaly")
client = _web_client(Redacted("xoxb-not-a-token"), "http://127.0.0.1:9/api/")
modules = sorted(sys.modules)
zombie = subject_loader("zombie")
print(json.dumps({"client": type(client).__module__ + "." + type(client).__name__, "modules": modules,
                  "zombie_loader": zombie.__module__ + "." + zombie.__name__}))
"""


@pytest.mark.parametrize("function", ["notify", "tickets", "remediate"])
def test_a_slack_post_imports_neither_the_install_flow_nor_request_parsing(function: str) -> None:
    """The functions whose first call posts to Slack import, up to that post, none of Slack's
    install flow (slack_sdk.oauth and our OAuth stores) nor the request parsing (interactions),
    and post with slack_sdk's BaseClient, not WebClient's per-method wrappers (docs/decisions.md:
    "What a Slack post needs, and nothing else")."""
    done = _import(function, _FIRST_POST_PROBE)
    modules = set(done["modules"])
    for name in ("slack_sdk.oauth", "dd0c_cost.notify.oauth", "dd0c_cost.notify.interactions", "slack_sdk.signature"):
        assert name not in modules, f"{function}'s first post imports {name}"
    assert done["client"] == "slack_sdk.web.base_client.BaseClient", done["client"]
    # An anomaly's ticket or remediation loads no zombie actions; a zombie's loads them when it needs them.
    assert "dd0c_cost.zombies.actions" not in modules, f"{function}'s first anomaly post imports the zombie actions"
    assert done["zombie_loader"] == "dd0c_cost.zombies.actions.load_zombie", done["zombie_loader"]


def test_every_built_in_subject_kind_names_the_module_that_registers_it() -> None:
    """``load_subject`` imports a kind's module from ``SUBJECT_MODULES`` on first need: a built-in
    subject kind missing there would not load in a worker that has not imported its module."""
    from dd0c_cost.notify import registry

    registry.load_builtin_actions()
    built_in = {k: f.__module__ for k, f in registry._SUBJECTS.items() if f.__module__.startswith("dd0c_cost.")}
    assert built_in == registry.SUBJECT_MODULES
