"""Every benchmark states the host it ran on: CPU, load and the reference loop, before and after."""

from __future__ import annotations

import json
import re

from dd0c_cost_tools.bench import machine
from dd0c_cost_tools.cli.commands import bench


def test_reference_loop_does_fixed_work() -> None:
    # figures are divided by this loop's time across hosts: the work itself must never change
    assert machine._reference_work(machine.REFERENCE_ITERATIONS) == machine.REFERENCE_CHECKSUM


def test_host_line_names_cpu_load_and_reference() -> None:
    line = machine.host_line("before")
    assert re.fullmatch(
        r"host before: .+, \d+ CPUs, (load average [\d.]+ \(5 min [\d.]+\)|load unknown); "
        r"reference loop \d+ ms \(best of 3; .+\)",
        line,
    ), line


def _fake(monkeypatch) -> None:
    def run(rest: list[str]) -> int:
        print(json.dumps({"ran": rest}) if "--json" in rest else "table")
        return 3

    monkeypatch.setattr(bench, "benchmark_main", lambda name: run)
    monkeypatch.setattr(machine, "reference_ms", lambda runs=3: 42.0)


def test_bench_prints_host_before_and_after(monkeypatch, capsys) -> None:
    _fake(monkeypatch)
    code = bench.cmd_bench(type("A", (), {"bench_name": "imports", "rest": []})())
    out = capsys.readouterr().out.splitlines()
    assert code == 3
    assert out[0].startswith("host before: ") and "reference loop 42 ms" in out[0]
    assert out[1] == "table"
    assert out[2].startswith("host after: ")


def test_json_stdout_stays_one_document(monkeypatch, capsys) -> None:
    _fake(monkeypatch)
    bench.cmd_bench(type("A", (), {"bench_name": "api", "rest": ["--json"]})())
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"ran": ["--json"]}
    assert captured.err.count("host ") == 2
