"""The shared Lambda layer ships only what a Lambda runs.

Every module under ``layers/shared/python`` is read (not imported) and each ``import`` in it,
at any depth (lazy imports inside functions count), is checked: nothing from the tools package
(CLI, local runner, embedded PostgreSQL, benchmarks, contracts, price refresh), nothing that
builds a command line, no test or AWS-emulation library.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "layers" / "shared" / "python"

# Top-level modules a Lambda must never import (the tools package and what only tools use).
FORBIDDEN = {
    "dd0c_cost_tools": "developer/operator tooling: tools/dd0c_cost_tools",
    "moto": "AWS emulation for tests and the local runner",
    "argparse": "command-line parsing belongs to the CLI (tools/dd0c_cost_tools/cli)",
    "pytest": "tests",
    "rich": "terminal output for the CLI",
}
# Runtime dependencies only one room may use: the explanation is the only caller of the LLM client.
CONFINED = {"openai": "dd0c_cost/explain/"}
# Sub-packages of dd0c_cost that moved to the tools package and must not come back.
FORBIDDEN_RUNTIME_PARTS = {"bench", "local", "cli", "contracts"}


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def layer_modules() -> list[Path]:
    return sorted(LAYER.rglob("*.py"))


def test_the_layer_holds_only_the_runtime_package():
    # (an old editable install may have left dd0c_cost.egg-info here; the layer asset excludes it)
    top = {p.name for p in LAYER.iterdir() if not p.name.startswith((".", "__pycache__")) and p.suffix != ".egg-info"}
    assert top == {"dd0c_cost"}
    assert len(layer_modules()) > 50  # the walk below really sees the package


def test_no_layer_module_imports_tooling_tests_or_cli_code():
    offences = []
    for path in layer_modules():
        for name in imported_modules(path):
            root = name.split(".")[0]
            if root in FORBIDDEN:
                offences.append(f"{path.relative_to(LAYER)} imports {name} ({FORBIDDEN[root]})")
            if root in CONFINED and not str(path.relative_to(LAYER)).startswith(CONFINED[root]):
                offences.append(f"{path.relative_to(LAYER)} imports {name} (only {CONFINED[root]} may)")
            parts = name.split(".")
            if root == "dd0c_cost" and len(parts) > 1 and parts[1] in FORBIDDEN_RUNTIME_PARTS:
                offences.append(f"{path.relative_to(LAYER)} imports {name} (tooling; lives in dd0c_cost_tools)")
    assert offences == []


def test_tooling_is_not_inside_the_layer():
    package = LAYER / "dd0c_cost"
    for part in FORBIDDEN_RUNTIME_PARTS:
        assert not (package / part).exists() and not (package / f"{part}.py").exists(), part
    assert not (package / "pricing" / "refresh.py").exists()


def test_the_check_sees_lazy_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import moto\n    from dd0c_cost.bench import nab\n")
    assert imported_modules(module) == ["moto", "dd0c_cost.bench", "dd0c_cost.bench.nab"]
