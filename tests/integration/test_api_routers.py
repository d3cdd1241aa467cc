"""The API's routers are imported on first need (``dd0c_cost.api.app.ROUTERS``): every route is under
its router's prefixes, no two routers can answer one request, a request includes what serves it
and nothing else, and the OpenAPI document is the same whatever was included first."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from dd0c_cost.api import app as api_app

REPO = Path(__file__).resolve().parents[2]
ROUTES_DIR = REPO / "layers" / "shared" / "python" / "dd0c_cost" / "api" / "routes"


def _routes(name: str) -> list[tuple[str, str]]:
    import importlib

    router = importlib.import_module(f"dd0c_cost.api.routes.{name}").router
    return [(rule, method.upper()) for rule, methods, *_ in router._routes for method in methods]


def _sample(rule: str) -> str:
    return re.sub(r"<\w+>", "x1", rule)


def _matches(rule: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"<\w+>", "[^/]+", rule), path) is not None


def test_every_router_is_listed_and_every_route_is_under_its_prefixes():
    modules = {p.stem for p in ROUTES_DIR.glob("*.py") if p.stem != "__init__"}
    assert set(api_app.ROUTERS) == modules
    for name, prefixes in api_app.ROUTERS.items():
        routes = _routes(name)
        assert routes, name
        for rule, _ in routes:
            assert api_app.serves(prefixes, _sample(rule)), f"{name}: {rule} is not under {prefixes}"


def test_no_two_routers_can_answer_one_request():
    every = [(name, rule, method) for name in api_app.ROUTERS for rule, method in _routes(name)]
    for name, rule, method in every:
        path = _sample(rule)
        answering = {other for other, r, m in every if m == method and _matches(r, path)}
        assert answering == {name}, f"{method} {path}: {sorted(answering)}"


PROBE = r"""
import json, sys
from dd0c_cost.api import app as api_app
from dd0c_cost_tools.local.runner import LambdaContext
from dd0c_cost_tools.local.serve import apigw_v2_event
before = sorted(m for m in sys.modules if m.startswith("dd0c_cost.api.routes."))
for path in sys.argv[1:]:
    api_app.app.resolve(apigw_v2_event("GET", path, {}, b"", "127.0.0.1"), LambdaContext("api"))
after = sorted(m for m in sys.modules if m.startswith("dd0c_cost.api.routes."))
print(json.dumps({"before": before, "after": after, "document": api_app.openapi_document()}))
"""


def _fresh(*paths: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *paths], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_request_includes_what_serves_it_and_the_document_does_not_depend_on_the_order():
    eager = _fresh()
    lazy = _fresh("/v1/zombies", "/slack/install", "/health", "/v1/spend/bill")
    assert lazy["before"] == []  # the resolver alone: the api function's handler imports the list's router
    assert lazy["after"] == sorted(f"dd0c_cost.api.routes.{n}" for n in ("zombies", "slack", "health", "spend", "bill"))
    assert lazy["document"] == eager["document"]
    assert len(json.loads(eager["document"])["paths"]) >= 30
