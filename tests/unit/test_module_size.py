"""Modules stay small enough to hold in one's head (developers' guide: split by responsibility
before a module passes ~500 lines): no Python module of the runtime layer, the Lambda functions,
the tools or the scripts is longer than MAX_LINES.

A module being split by its owner may be listed in BEING_SPLIT with who and why; the list may only
shrink: an entry back under the limit (or gone) fails too, so it is removed when the split lands
(decision 91).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("layers/shared/python", "functions", "tools", "scripts")
MAX_LINES = 500

# path -> who is splitting it, and why it is still long.
BEING_SPLIT: dict[str, str] = {}


def module_lines() -> dict[str, int]:
    found = {}
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            found[path.relative_to(REPO).as_posix()] = len(path.read_text().splitlines())
    return found


def test_the_guard_reads_every_root():
    lines = module_lines()
    for root in ROOTS:
        assert any(name.startswith(root + "/") for name in lines), root


def test_no_module_over_the_limit_without_a_named_owner():
    long = {name: n for name, n in module_lines().items() if n > MAX_LINES and name not in BEING_SPLIT}
    assert long == {}, f"split these by responsibility (at most {MAX_LINES} lines each): {long}"


def test_the_list_of_modules_being_split_only_shrinks():
    lines = module_lines()
    stale = sorted(name for name in BEING_SPLIT if lines.get(name, 0) <= MAX_LINES)
    assert stale == [], f"no longer over {MAX_LINES} lines (or gone): remove from BEING_SPLIT: {stale}"
