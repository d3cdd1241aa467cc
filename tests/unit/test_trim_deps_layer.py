"""The deps layer's build-time edits (scripts/trim_deps_layer.py) still match the packages this
project installs, and refuse to apply to anything else.

The development environment installs the same requirements as the layer, so each edit's text is
looked for in the installed package's own file: a dependency upgrade that changes it fails here,
before a deploy's layer build would. tests/infrastructure/test_deployed_imports.py checks the built
layer itself (versions, what the handlers import)."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _trim_module():
    spec = importlib.util.spec_from_file_location("trim_deps_layer", REPO / "scripts" / "trim_deps_layer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


trim = _trim_module()


def _site_of(package: str) -> Path:
    found = importlib.util.find_spec(package)
    assert found and found.origin
    return Path(found.origin).parents[1]


def _installed_copy(tmp_path: Path) -> Path:
    """The edited files and the dist-info of the installed psycopg, psycopg-binary, pydantic and slack_sdk."""
    layer = tmp_path / "python"
    for package, distribution in (
        ("psycopg", "psycopg"),
        ("psycopg_binary", "psycopg-binary"),
        ("pydantic", "pydantic"),
        ("slack_sdk", "slack-sdk"),
        ("aws_lambda_powertools", "aws-lambda-powertools"),
    ):
        site = _site_of(package)
        dist = metadata.distribution(distribution)
        info = Path(str(dist._path))  # type: ignore[attr-defined]
        shutil.copytree(info, layer / info.name)
        for edit in trim.edits({}):
            if edit.path.startswith(package + "/"):
                (layer / edit.path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(site / edit.path, layer / edit.path)
    return layer


def test_every_edit_matches_the_installed_packages_exactly_once(tmp_path: Path) -> None:
    layer = _installed_copy(tmp_path)
    changed = trim.apply(layer)
    assert changed == [
        "psycopg/version.py",
        "psycopg_binary/version.py",
        "psycopg/pq/misc.py",
        "pydantic/plugin/_loader.py",
        "pydantic/networks.py",
        "slack_sdk/__init__.py",
        "slack_sdk/web/__init__.py",
        "psycopg/__init__.py",
        "psycopg/copy.py",
        "psycopg/errors.py",
        "psycopg/waiting.py",
        "psycopg/_acompat.py",
        "psycopg/_conninfo_attempts_async.py",
        "aws_lambda_powertools/logging/logger.py",
        "aws_lambda_powertools/event_handler/__init__.py",
        "aws_lambda_powertools/utilities/data_classes/__init__.py",
    ]
    version = (layer / "psycopg" / "version.py").read_text()
    assert f'__version__ = "{metadata.version("psycopg")}"' in version and "import" not in version
    assert (
        f'__version__ = "{metadata.version("psycopg-binary")}"' in (layer / "psycopg_binary" / "version.py").read_text()
    )
    for path in ("psycopg/pq/misc.py", "pydantic/plugin/_loader.py", "pydantic/networks.py"):
        tree = (layer / path).read_text()
        compile(tree, path, "exec")  # still Python
        top_level = [line for line in tree.splitlines() if line.startswith(("import ", "from "))]
        assert not any("ctypes" in line or "importlib.metadata" in line for line in top_level), path

    for path in ("slack_sdk/__init__.py", "slack_sdk/web/__init__.py"):
        tree = (layer / path).read_text()
        compile(tree, path, "exec")
        assert "def __getattr__(name):" in tree, path
        assert not [line for line in tree.splitlines() if line.startswith("from .") and "Client" in line], path

    for path in sorted({e.path for e in trim.edits({}) if e.path.startswith("psycopg/") and "version" not in e.path}):
        if path == "psycopg/pq/misc.py":
            continue
        imported = _module_level_imports((layer / path).read_text())
        assert not {m for m in imported if m == "asyncio" or m.startswith("asyncio.")}, path
        assert not imported & _ASYNC_HALF, f"{path} imports the async half: {imported & _ASYNC_HALF}"

    logger = _module_level_imports((layer / "aws_lambda_powertools/logging/logger.py").read_text())
    assert not {m for m in logger if "jmespath" in m}, logger
    resolvers = _module_level_imports((layer / "aws_lambda_powertools/event_handler/__init__.py").read_text())
    assert resolvers == {
        "aws_lambda_powertools.event_handler.api_gateway",
        "aws_lambda_powertools.event_handler.depends",
        "aws_lambda_powertools.event_handler.request",
    }, resolvers
    events = _module_level_imports((layer / "aws_lambda_powertools/utilities/data_classes/__init__.py").read_text())
    assert events == {".event_source"}, events


# psycopg's modules that import asyncio when they are imported (untouched: imported on first access).
_ASYNC_HALF = {
    "._copy_async",
    ".cursor_async",
    ".connection_async",
    "._server_cursor_async",
    ".raw_cursor",
    ".client_cursor",
}


def _module_level_imports(source: str) -> set[str]:
    """The modules a file imports when it is imported (not inside functions or classes)."""
    found: set[str] = set()
    pending = list(ast.parse(source).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
            found.update(f"{'.' * node.level}{alias.name}" for alias in node.names if not node.module)
        elif isinstance(node, (ast.If, ast.Try)):
            pending.extend(node.body + node.orelse + getattr(node, "finalbody", []))
    return found


def test_an_edit_that_no_longer_matches_stops_the_build(tmp_path: Path) -> None:
    layer = _installed_copy(tmp_path)
    misc = layer / "psycopg" / "pq" / "misc.py"
    misc.write_text(misc.read_text().replace("import ctypes.util\n", "import ctypes.util as cu\n"))
    with pytest.raises(SystemExit, match=r"psycopg/pq/misc\.py"):
        trim.apply(layer)
