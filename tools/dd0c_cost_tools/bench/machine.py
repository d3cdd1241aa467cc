"""The machine a benchmark ran on, in one line: CPU, load and a host-speed reference.

The load average says how busy a shared machine was; it does not say how fast its CPU is. The same
commit imported the admin handler in 85 ms on one development host and 215 ms on another, both
quiet. The reference loop is a fixed piece of pure-Python work timed on this interpreter, so
figures from different hosts can be scaled by it (figure ÷ reference) instead of compared raw.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

REFERENCE_ITERATIONS = 500_000
REFERENCE_CHECKSUM = 999_999  # what _reference_work returns: a changed loop is a different yardstick


def _reference_work(n: int) -> int:
    # integer arithmetic, a comparison and a call per step: the interpreter's common paths, no I/O
    total = 0
    for i in range(n):
        total += _step(i)
    return total


def _step(i: int) -> int:
    return i * i % 7 if i & 1 else i % 5


def reference_ms(runs: int = 3) -> float:
    """Best wall time of the reference loop, in ms (lower is a faster host)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        _reference_work(REFERENCE_ITERATIONS)
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def host_line(when: str) -> str:
    try:
        one, five, _ = os.getloadavg()
        load = f"load average {one:.1f} (5 min {five:.1f})"
    except OSError:
        load = "load unknown"
    return (
        f"host {when}: {cpu_model()}, {os.cpu_count()} CPUs, {load}; "
        f"reference loop {reference_ms():.0f} ms (best of 3; a fixed pure-Python loop: divide a figure by it to compare hosts)"
    )
