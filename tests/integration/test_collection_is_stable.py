"""Test ids must not depend on the clock or on randomness: pytest-xdist refuses to run when its
workers collect different ids, so an unstable id makes CI fail by chance."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _collect(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # a failed collection says why (a collection error once came with no more than "exit status 2")
    assert done.returncode == 0, f"collection exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return sorted(line for line in done.stdout.splitlines() if "::" in line)


def test_two_collections_a_second_apart_give_the_same_ids() -> None:
    first = _collect("1")
    time.sleep(1.1)  # gzip headers, timestamps and the like change with the second
    second = _collect("2")
    assert first, "nothing was collected"
    assert first == second, sorted(set(first) ^ set(second))[:10]
