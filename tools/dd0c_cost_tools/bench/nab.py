"""NAB (Numenta Anomaly Benchmark) run of the streaming detector core.

``dd0c-cost bench nab`` calls :func:`main`. It runs
:class:`dd0c_cost.scoring.streaming.StreamingDetector` over the 17
``realAWSCloudwatch`` files of NAB under NAB's rules and scores the result with
the NAB method:

* one fixed parameter set for every file (:data:`~dd0c_cost.scoring.streaming.NAB_PARAMS`,
  which is the library default);
* a fresh model per file;
* no look-ahead: records are fed one at a time, in order, and the score of row
  ``i`` is what ``update`` returned for row ``i``;
* the detector is told each file's min and max (allowed by NAB) via
  ``StreamingDetector(value_range=(min, max))``.

Scoring is a pure-Python port of the NAB scorer (``nab_scoring.score_corpus``): the
same probation, window geometry, position weights, threshold sweep (one
threshold per profile shared by all scored files, ties to the highest) and
normalisation as ``shared/tools/nab_score.py`` (which needs numpy; this module
must not). ``--scorer reference`` runs that tool instead, as a cross-check.

Data: ``--data PATH`` is a folder with ``data/realAWSCloudwatch/*.csv`` and
``labels/combined_windows.json`` (the layout of NAB and of
``shared/benchmarks/nab``). Without it the first of these that exists is used:
``$DD0C_NAB_DATA``, ``<repo>/benchmarks/nab`` (bundled copy),
``<repo>/../shared/benchmarks/nab``, and the same two relative to the current
directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path

from dd0c_cost_tools.bench.nab_scoring import NEVER, PROFILES, SUBSET, load_windows, parse_ts, score_corpus

# ---------------------------------------------------------------------------
# Running the detector
# ---------------------------------------------------------------------------


def _repo_root() -> Path:
    from dd0c_cost_tools import REPO_ROOT

    return REPO_ROOT


def find_data_dir(explicit: str | None = None) -> Path:
    """The NAB data folder: ``--data``, ``$DD0C_NAB_DATA``, bundled copy, ``../shared``."""
    cands: list[Path] = []
    if explicit:
        cands.append(Path(explicit))
    elif os.environ.get("DD0C_NAB_DATA"):
        cands.append(Path(os.environ["DD0C_NAB_DATA"]))
    else:
        for base in (_repo_root(), Path.cwd()):
            cands += [base / "benchmarks" / "nab", base.parent / "shared" / "benchmarks" / "nab"]
    for c in cands:
        if (c / "labels" / "combined_windows.json").is_file() and (c / "data" / SUBSET).is_dir():
            return c
    raise FileNotFoundError(
        "NAB data not found (need labels/combined_windows.json and data/realAWSCloudwatch/); "
        "tried: " + ", ".join(str(c) for c in cands)
    )


def read_series(path: str | os.PathLike) -> tuple[list[str], list[float]]:
    """A NAB data file -> (timestamp strings, values)."""
    ts, vals = [], []
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        it, iv = header.index("timestamp"), header.index("value")
        for row in rd:
            ts.append(row[it])
            vals.append(float(row[iv]))
    return ts, vals


def epoch_seconds(ts: str) -> float:
    """NAB timestamps are naive; read them as UTC."""
    return parse_ts(ts).replace(tzinfo=UTC).timestamp()


def run_detector(
    values: Sequence[float], times: Sequence[float], factory: Callable[[float, float], Callable[[float, float], float]]
) -> list[float]:
    """Feed one file, one record at a time, to a fresh model; return its scores."""
    step = factory(min(values), max(values))
    return [step(t, x) for t, x in zip(times, values, strict=True)]


def streaming_factory(lo: float, hi: float) -> Callable[[float, float], float]:
    """The benchmarked detector: the usage path's (``usage.detect.new_detector``: the same class
    and parameters the usage poller runs per billing series), told the file's min and max."""
    from dd0c_cost.usage.detect import new_detector

    upd = new_detector(value_range=(lo, hi)).update
    return lambda t, x: upd(t, x).score


def streaming_factory_no_range(lo: float, hi: float) -> Callable[[float, float], float]:
    """The same detector, not told the file's min and max (as the usage poller runs it)."""
    from dd0c_cost.usage.detect import new_detector

    upd = new_detector().update
    return lambda t, x: upd(t, x).score


def welford_factory(lo: float, hi: float) -> Callable[[float, float], float]:
    """Reference baseline: |z| against an expanding Welford mean/variance (before the update)."""
    from dd0c_cost.scoring.streaming import Welford

    w = Welford()

    def step(t: float, x: float) -> float:
        z = abs(w.zscore(x))
        w.add(x)
        return z / (1.0 + z)

    return step


# ---------------------------------------------------------------------------
# Held-out protocol: never report a file the parameters were chosen on
# ---------------------------------------------------------------------------

# The parameters a designer would tune (small on purpose: every point is one run over 17 files).
HOLDOUT_GRID: tuple[dict, ...] = tuple(
    {"resolutions": res, "avg_window": aw, "count_halflife_s": hl}
    for res in ((16, 32), (8, 16))
    for aw in (10, 20)
    for hl in (30 * 86400.0, 7 * 86400.0)
)


def folds(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Two halves of the files: sorted names, alternating (deterministic, no randomness)."""
    ordered = sorted(names)
    return ordered[0::2], ordered[1::2]


def params_factory(params, told_range: bool) -> Callable[[float, float], Callable[[float, float], float]]:
    from dd0c_cost.scoring.streaming import StreamingDetector

    def factory(lo: float, hi: float) -> Callable[[float, float], float]:
        det = StreamingDetector(params, value_range=(lo, hi)) if told_range else StreamingDetector(params)
        upd = det.update
        return lambda t, x: upd(t, x).score

    return factory


def held_out(series: dict, windows: dict, told_range: bool, profile: str = "standard") -> dict:
    """2-fold: choose the parameter set AND the threshold on one half (by its NAB score), report
    the other half with both fixed; then the other way round. Returns both folds and their mean."""
    from dataclasses import replace

    from dd0c_cost.scoring.streaming import NAB_PARAMS

    runs = []
    for grid_point in HOLDOUT_GRID:
        params = replace(NAB_PARAMS, **grid_point)
        factory = params_factory(params, told_range)
        dets = {rel: (ts, run_detector(vals, ep, factory)) for rel, (ts, vals, ep) in series.items()}
        runs.append((grid_point, dets))
    a, b = folds(list(windows))
    out = []
    for tune, report in ((a, b), (b, a)):
        tw = {n: windows[n] for n in tune}
        rw = {n: windows[n] for n in report}
        best = None
        for grid_point, dets in runs:
            fit = score_corpus({n: dets[n] for n in tune}, tw, profile)
            if best is None or fit["nab"] > best[0]["nab"] + 1e-12:
                best = (fit, grid_point, dets)
        fit, grid_point, dets = best
        got = score_corpus({n: dets[n] for n in report}, rw, profile, threshold=fit["threshold"])
        out.append(
            {
                "tuned_on": len(tune),
                "reported_on": len(report),
                "params": grid_point,
                "threshold": fit["threshold"],
                "tuned_nab": fit["nab"],
                "held_out_nab": got["nab"],
                "windows_hit": got["windows_hit"],
                "windows": got["windows"],
            }
        )
    return {"folds": out, "mean_held_out_nab": sum(f["held_out_nab"] for f in out) / len(out)}


def write_results(
    out_dir: str | os.PathLike, rel: str, ts: Sequence[str], values: Sequence[float], scores: Sequence[float]
) -> Path:
    """NAB results layout: ``<out>/<category>/<file>.csv`` with timestamp,value,anomaly_score."""
    p = Path(out_dir) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "value", "anomaly_score"])
        for t, x, s in zip(ts, values, scores, strict=True):
            w.writerow([t, repr(x), repr(float(s))])
    return p


def _reference_scores(tool: Path, windows_path: Path, results_dir: str) -> dict[str, dict]:
    """Run shared/tools/nab_score.py (needs numpy) on written results."""
    exe = sys.executable
    try:
        subprocess.run([exe, "-c", "import numpy"], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        exe = "python3"  # the project venv has no numpy; the system one may
    with tempfile.TemporaryDirectory() as td:
        jp = os.path.join(td, "scores.json")
        subprocess.run(
            [
                exe,
                str(tool),
                "--windows",
                str(windows_path),
                "--results",
                results_dir,
                "--subset",
                SUBSET,
                "--profile",
                "all",
                "--json",
                jp,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        with open(jp) as f:
            return json.load(f)


JSON_KEYS = {"standard": "standard", "reward_low_FP_rate": "reward_low_fp", "reward_low_FN_rate": "reward_low_fn"}
REFERENCE_POINTS = {"Numenta HTM (published results)": 73.4, "expanding Welford z-score": 36.6}


def _print_held_out(ho: dict) -> None:
    print(
        "HELD-OUT (2-fold; parameters from a grid of "
        f"{len(HOLDOUT_GRID)} and the threshold chosen on one half, reported on the other, both ways):"
    )
    for i, f in enumerate(ho["folds"], start=1):
        thr = "never" if f["threshold"] == NEVER else f"{f['threshold']:.4f}"
        print(
            f"  fold {i}: tuned on {f['tuned_on']} files (NAB {f['tuned_nab']:.2f}) -> held-out "
            f"{f['reported_on']} files: standard {f['held_out_nab']:.2f} "
            f"({f['windows_hit']}/{f['windows']} windows, threshold {thr}, params {f['params']})"
        )
    print(f"  mean held-out standard NAB: {ho['mean_held_out_nab']:.2f}")
    print(
        "  (honest for the grid's choices only: the parameters outside the grid were themselves set "
        "looking at all 17 files)"
    )


def _print_usage_setting(series: dict, windows: dict, *, skip: bool) -> None:
    """The same detector as the usage poller runs it: not told each file's min and max (skipped
    when the main run is already that setting)."""
    if skip:
        return
    plain = {rel: (ts, run_detector(vals, ep, streaming_factory_no_range)) for rel, (ts, vals, ep) in series.items()}
    u = {p: score_corpus(plain, windows, p)["nab"] for p in PROFILES}
    print(
        f"{'usage-path setting':20s} not told min/max, as a billing series: standard {u['standard']:.2f}, "
        f"low-FP {u['reward_low_FP_rate']:.2f}, low-FN {u['reward_low_FN_rate']:.2f} (in-sample)"
    )


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="dd0c-cost bench nab",
        description="Run the streaming detector on NAB realAWSCloudwatch (17 files) and score "
        "it with the NAB method (standard, reward-low-FP, reward-low-FN).",
    )
    ap.add_argument(
        "--data",
        help="NAB folder with data/ and labels/ (default: bundled benchmarks/nab, else ../shared/benchmarks/nab)",
    )
    ap.add_argument("--out", help="write NAB-format result CSVs (timestamp,value,anomaly_score) here")
    ap.add_argument(
        "--json", action="store_true", help='print only {"standard": ..., "reward_low_fp": ..., "reward_low_fn": ...}'
    )
    ap.add_argument(
        "--scorer",
        choices=("builtin", "reference"),
        default="builtin",
        help="builtin: pure-Python NAB scorer; reference: run shared/tools/nab_score.py "
        "(needs numpy) on the written results",
    )
    ap.add_argument("--reference-tool", help="path of nab_score.py (default: <data>/../../tools/)")
    ap.add_argument("--per-file", action="store_true", help="also print per-file results")
    ap.add_argument(
        "--no-range", action="store_true", help="do not tell the detector each file's min and max (product setting)"
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the expanding-Welford baseline run")
    ap.add_argument(
        "--no-holdout",
        action="store_true",
        help="skip the held-out 2-fold protocol (parameters and threshold chosen on half the files, "
        "reported on the other half, both ways)",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    try:
        data = find_data_dir(a.data)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    windows_path = data / "labels" / "combined_windows.json"
    windows = load_windows(windows_path, SUBSET)
    series = {}
    for rel in sorted(windows):
        ts, vals = read_series(data / "data" / rel)
        series[rel] = (ts, vals, [epoch_seconds(t) for t in ts])

    t0 = time.perf_counter()
    factory = streaming_factory_no_range if a.no_range else streaming_factory
    dets = {rel: (ts, run_detector(vals, ep, factory)) for rel, (ts, vals, ep) in series.items()}
    elapsed = time.perf_counter() - t0
    n_points = sum(len(v[1]) for v in series.values())

    results = _score(a, data, windows_path, windows, series, dets)
    figures = {JSON_KEYS[p]: round(results[p]["nab"], 4) for p in PROFILES}
    if a.json:
        print(json.dumps(figures))
        return 0
    _print_in_sample(a, data, series, results, n_points / elapsed)
    _print_usage_setting(series, windows, skip=a.no_range)
    if not a.no_baseline:
        base = {rel: (ts, run_detector(vals, ep, welford_factory)) for rel, (ts, vals, ep) in series.items()}
        b = {p: score_corpus(base, windows, p)["nab"] for p in PROFILES}
        print(
            f"{'baseline (this run)':20s} expanding Welford z: standard {b['standard']:.2f}, "
            f"low-FP {b['reward_low_FP_rate']:.2f}, low-FN {b['reward_low_FN_rate']:.2f}"
        )
    if not a.no_holdout:
        _print_held_out(held_out(series, windows, told_range=not a.no_range))
    print("reference points (standard): " + ", ".join(f"{k} {v}" for k, v in REFERENCE_POINTS.items()))
    if a.out:
        print(f"results written to {a.out}/{SUBSET}/")
    return 0


def _score(a: argparse.Namespace, data: Path, windows_path: Path, windows: dict, series: dict, dets: dict) -> dict:
    """Each profile's NAB result: the builtin scorer, or the reference tool on the written results."""
    out_dir = a.out
    tmp = None
    if a.scorer == "reference" and not out_dir:
        tmp = tempfile.TemporaryDirectory()
        out_dir = tmp.name
    if out_dir:
        for rel, (ts, vals, _) in series.items():
            write_results(out_dir, rel, ts, vals, dets[rel][1])
    if a.scorer == "reference":
        tool = Path(a.reference_tool) if a.reference_tool else data.parent.parent / "tools" / "nab_score.py"
        ref = _reference_scores(tool, windows_path, out_dir)
        keys = ("nab", "threshold", "windows_hit", "windows", "fp_rows", "per_file")
        results = {p: {k: ref[p][k] for k in keys} for p in PROFILES}
    else:
        results = {p: score_corpus(dets, windows, p) for p in PROFILES}
    if tmp is not None:
        tmp.cleanup()
    return results


def _print_in_sample(a: argparse.Namespace, data: Path, series: dict, results: dict, points_per_s: float) -> None:
    n_points = sum(len(v[1]) for v in series.values())
    print(f"NAB {SUBSET}: {len(series)} files, {n_points} points, data {data}")
    told = "not told min/max" if a.no_range else "told each file's min/max"
    print(
        f"detector: the usage path's (dd0c_cost.usage.detect.new_detector: StreamingDetector, USAGE_PARAMS "
        f"= NAB_PARAMS; allow_negative=False), {told}, "
        f"{points_per_s:,.0f} points/s incl. harness; scorer: {a.scorer}"
    )
    print("IN-SAMPLE (every design choice and the threshold were made looking at these same 17 files):")
    print(f"{'profile':20s} {'NAB':>7s}  {'threshold':>9s}  windows  fp_rows")
    for p in PROFILES:
        r = results[p]
        thr = r["threshold"]
        thr_s = "never" if thr is None or thr == NEVER else f"{thr:.4f}"
        print(f"{p:20s} {r['nab']:7.2f}  {thr_s:>9s}  {r['windows_hit']:>3d}/{r['windows']:<3d}  {r['fp_rows']:>6d}")
    if a.per_file:
        for f in results["standard"]["per_file"]:
            print(f"  {f['name']:58s} raw={f['raw']:7.3f} hit={f['windows_hit']}/{f['windows']} fp={f['fp_rows']}")


if __name__ == "__main__":
    sys.exit(main())
