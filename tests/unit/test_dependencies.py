"""pyproject's dependency lists name each distribution once: a second entry (the X-Ray SDK was
listed twice, with two comments that disagreed) or a dev or extra entry repeating a runtime one
(installed anyway: `.[dev]` brings the runtime list) leaves two places to keep in step."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _lists() -> dict[str, list[str]]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return {"dependencies": project["dependencies"], **project.get("optional-dependencies", {})}


def _names(requirements: list[str]) -> list[str]:
    return [canonicalize_name(Requirement(r).name) for r in requirements]


def test_no_list_names_a_distribution_twice():
    twice = {group: sorted(n for n, k in Counter(_names(reqs)).items() if k > 1) for group, reqs in _lists().items()}
    assert {g: n for g, n in twice.items() if n} == {}


def test_no_extra_repeats_a_runtime_dependency():
    lists = _lists()
    runtime = set(_names(lists.pop("dependencies")))
    repeated = {group: sorted(runtime & set(_names(reqs))) for group, reqs in lists.items()}
    assert {g: n for g, n in repeated.items() if n} == {}


def test_the_lists_are_read():
    lists = _lists()
    assert "aws-xray-sdk" in _names(lists["dependencies"]) and "pytest" in _names(lists["dev"])
