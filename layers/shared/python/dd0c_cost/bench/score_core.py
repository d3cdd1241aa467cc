"""Speed of the in-memory scoring core (``dd0c-cost bench score``).

Feeds a synthetic, deterministic series (5-minute steps, a daily cycle, noise,
occasional spikes and a level shift) to one
:class:`dd0c_cost.scoring.streaming.StreamingDetector` and reports points per
second of ``update(t, x)``, next to a plain expanding Welford z-score loop over
the same points in the same run, and their ratio. Python runs this on one core
(one thread). The figure is the best of ``--repeat`` runs, which filters out
noise from other work on the machine.

``--json`` prints exactly ``{"core_points_per_s": ...}``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time

from dd0c_cost.scoring.streaming import StreamingDetector, Welford

TARGET_POINTS_PER_S = 100_000


def synthetic_series(n: int, seed: int = 7) -> tuple[list[float], list[float]]:
    """Deterministic test series: (epoch seconds, value)."""
    rng = random.Random(seed)
    t0 = 1_700_000_000.0
    ts, xs = [], []
    level = 10.0
    for i in range(n):
        t = t0 + 300.0 * i
        if i == n // 2:
            level = 14.0
        x = level + 3.0 * math.sin(2 * math.pi * (t % 86400.0) / 86400.0) + rng.gauss(0.0, 0.5)
        if rng.random() < 0.002:
            x += rng.uniform(5.0, 20.0)
        ts.append(t)
        xs.append(max(x, 0.0))
    return ts, xs


def time_detector(ts: list[float], xs: list[float]) -> float:
    """Seconds to score every point with a fresh detector (range not given)."""
    det = StreamingDetector()
    upd = det.update
    t0 = time.perf_counter()
    for t, x in zip(ts, xs):
        upd(t, x)
    return time.perf_counter() - t0


def time_welford(ts: list[float], xs: list[float]) -> float:
    """Seconds for the baseline: z against an expanding Welford mean/variance, then update."""
    w = Welford()
    add, z = w.add, w.zscore
    t0 = time.perf_counter()
    for t, x in zip(ts, xs):
        s = abs(z(x))
        s = s / (1.0 + s)
        add(x)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dd0c-cost bench score",
                                 description="Points/s of the streaming scoring core on one core.")
    ap.add_argument("--points", type=int, default=100_000, help="points per run (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs; the best is reported (default 3)")
    ap.add_argument("--json", action="store_true", help='print only {"core_points_per_s": ...}')
    a = ap.parse_args(argv)
    if a.points < 1 or a.repeat < 1:
        ap.error("--points and --repeat must be >= 1")

    ts, xs = synthetic_series(a.points)
    core = min(time_detector(ts, xs) for _ in range(a.repeat))
    base = min(time_welford(ts, xs) for _ in range(a.repeat))
    core_pps = a.points / core
    base_pps = a.points / base
    if a.json:
        print(json.dumps({"core_points_per_s": round(core_pps)}))
        return 0
    print(f"scoring core speed: {a.points} points, best of {a.repeat}, one thread")
    print(f"{'':34s} {'points/s':>12s}  {'us/point':>8s}")
    print(f"{'StreamingDetector.update':34s} {core_pps:12,.0f}  {1e6 / core_pps:8.2f}")
    print(f"{'baseline: expanding Welford z':34s} {base_pps:12,.0f}  {1e6 / base_pps:8.2f}")
    print(f"ratio core/baseline: {core_pps / base_pps:.3f} "
          f"(the core costs {base_pps / core_pps:.1f}x the baseline per point)")
    verdict = "meets" if core_pps >= TARGET_POINTS_PER_S else "MISSES"
    print(f"target >= {TARGET_POINTS_PER_S:,} points/s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
