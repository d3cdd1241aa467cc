"""The benchmarks' own tests (marked ``bench``: `pytest -m "not bench"` skips them): the score
benchmark runs end to end on a tiny input (it starts PostgreSQL), the NAB scorer port on a
hand-checkable corpus, and the full NAB run guards the figure in docs/scoring.md."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest

pytestmark = pytest.mark.bench


def test_score_core_benchmark_prints_json():
    from dd0c_cost_tools.bench import score_core

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert score_core.main(["--points", "3000", "--repeat", "1", "--events", "200", "--json"]) == 0
    out = json.loads(buf.getvalue())
    assert list(out) == [
        "composite_events_per_s",
        "welford_events_per_s",
        "composite_to_welford",
        "core_points_per_s",
        "pipeline_events_per_s",
    ]
    assert out["composite_events_per_s"] > 0 and out["welford_events_per_s"] > 0
    assert out["composite_to_welford"] == pytest.approx(
        out["composite_events_per_s"] / out["welford_events_per_s"], rel=0.01
    )
    assert out["core_points_per_s"] > 0 and out["pipeline_events_per_s"] > 0


def test_score_counts_benchmark_counts_the_backend_and_digests_what_the_scoring_stored():
    """The same stream scored twice gives the same digest (it names run-specific ids), and the backend's
    instructions are counted per event."""
    from dd0c_cost_tools.bench import score_counts

    runs = []
    for _ in range(2):
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert score_counts.main(["--events", "100", "--modes", "group", "--json"]) == 0
        runs.append(json.loads(buf.getvalue())["group"])
    first, second = runs
    assert first["events"] >= 100 and len(first["digest"]) == 16
    assert first["digest"] == second["digest"]
    assert first["backend_instructions_per_event"] > 10_000 and first["wal_bytes_per_event"] > 0


def test_nab_scorer_port_on_a_tiny_corpus():
    """Hand-checkable NAB arithmetic: one window, fire on its first row and once far outside."""
    from datetime import datetime, timedelta

    from dd0c_cost_tools.bench import nab

    t0 = datetime(2020, 1, 1)
    ts = [t0 + timedelta(minutes=5 * i) for i in range(100)]
    windows = {"c/f.csv": [(ts[40], ts[49])]}
    scores = [0.0] * 100
    scores[40] = 0.9  # first row of the window: full credit
    scores[20] = 0.8  # before any window: -A_fp
    r = nab.score_corpus({"c/f.csv": (ts, scores)}, windows, "standard", threshold=0.5)
    assert r["raw"] == pytest.approx(1.0 - 0.11)
    assert r["nab"] == pytest.approx(100 * (0.89 + 1) / 2)
    best = nab.score_corpus({"c/f.csv": (ts, scores)}, windows, "standard")
    assert best["threshold"] == 0.9  # dropping the false alarm is better
    assert best["nab"] == pytest.approx(100.0)


def test_nab_benchmark_reaches_its_documented_figure():
    """The full NAB realAWSCloudwatch run (about 1 s): guards the figure in docs/scoring.md."""
    from dd0c_cost_tools.bench import nab

    try:
        nab.find_data_dir()
    except FileNotFoundError as e:
        pytest.fail(f"NAB data missing (../shared/benchmarks/nab or benchmarks/nab): {e}")
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert nab.main(["--json", "--no-baseline"]) == 0
    out = json.loads(buf.getvalue())
    assert list(out) == ["standard", "reward_low_fp", "reward_low_fn"]
    assert out["standard"] >= 75.0
    assert out["standard"] == pytest.approx(77.67, abs=0.01)


def test_bench_reports_calls_per_resource_metric_under_the_target():
    """1 resource-metric per GetMetricData query, 500 a call: the calls are the ceiling of metrics / 500."""
    from dd0c_cost_tools.bench import zombies as bench

    result = bench.run(100, 1)
    assert result["resources"] == 100
    assert result["get_metric_data_calls"] == -(-result["resource_metrics"] // 500)
    assert result["calls_per_resource_metric"] <= bench.TARGET_CALLS_PER_RESOURCE_METRIC
