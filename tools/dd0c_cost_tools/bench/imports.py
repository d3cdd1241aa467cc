"""Cold import time of every Lambda handler (``dd0c-cost bench imports``).

Each handler is imported in fresh interpreters (``python -S -E``: no site-packages, no user
environment) whose ``sys.path`` holds only what Lambda gives it: the function's code directory,
the shared layer and the deps layer (built for this machine by
``LAYER_PLATFORM=host scripts/build_deps_layer.sh``, with the boto3 the Lambda runtime provides).
The interpreters run with ``-B`` (no bytecode written), as on Lambda, where ``/opt`` and
``/var/task`` are read-only: what is shipped without ``.pyc`` is compiled again on every cold
start. The layers are copied as they are shipped: the deps layer as the build script made it
(precompiled when built with Python 3.11, the runtime's version), the shared layer compiled as the
CDK stages it (unchecked-hash ``.pyc``, ``cdk/dd0c_cost_cdk/shared_layer.py``), the function code
without bytecode (the CDK excludes it: one small module). ``--shared-source`` ships the shared layer
without bytecode, to show what its compilation costs; ``--bytecode`` precompiles the function code
too. The environment is what
the CDK gives the function (service name, tracing switch) plus what Lambda sets
(``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``, region).

Reported per handler: the minimum and median wall time of ``import handler`` over ``--runs``
interpreters, and the minimum CPU time (user + system of the importing process, which the
machine's other work does not inflate). The target is 250 ms (minimum wall time); on a busy
machine compare the CPU column. ``+build`` is the CPU of the import plus the first model build
every first call makes (``dd0c_cost.settings.get_settings()``): models build on first use, and
pydantic's first build imports its schema machinery, so that cost shows here rather than nowhere.
The environment includes ``dd0c_cost.COLD_START_ENVIRONMENT``, as the CDK sets it. ``--json``
prints ``{"handlers": {name: {...}}, ...}``.

``--against REV`` also stages another revision's shared layer and functions (``git archive``, the
same deps layer unless ``--against-deps DIR`` names the one that revision built, e.g. with its own
``scripts/build_deps_layer.sh``; that revision's own ``COLD_START_ENVIRONMENT``) and alternates its
interpreters with this tree's, handler by handler: on a shared machine whose speed drifts from
minute to minute, only ratios from one run compare.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

TARGET_MS = 250.0

_PROBE = r"""
import os, sys, time, json
sys.path[:0] = json.loads(os.environ["DD0C_PROBE_PATH"])
c0 = time.process_time(); t0 = time.perf_counter()
import handler
t1 = time.perf_counter(); c1 = time.process_time()
# botocore.session, not botocore: Powertools' user agent imports the package's __init__ alone (< 1 ms)
heavy = sorted(m for m in ("aws_xray_sdk", "botocore.session", "boto3", "pydantic_settings", "slack_sdk", "psycopg", "moto",
                           "importlib.metadata") if m in sys.modules)
modules = len(sys.modules)
from dd0c_cost.settings import get_settings
get_settings()
c2 = time.process_time()
for name in json.loads(os.environ.get("DD0C_PROBE_FIRST_USE", "[]")):
    __import__(name)
c3 = time.process_time()
print(json.dumps({"wall_ms": 1e3 * (t1 - t0), "cpu_ms": 1e3 * (c1 - c0), "first_build_cpu_ms": 1e3 * (c2 - c0),
                  "first_use_cpu_ms": 1e3 * (c3 - c0), "modules": modules, "heavy": heavy}))
"""


def repo_root() -> Path:
    from dd0c_cost_tools import REPO_ROOT

    return REPO_ROOT


# What the deps layer is built from: a layer built from other inputs is stale (a newer trim script
# would otherwise be measured on an older checkout's layer without a word).
DEPS_LAYER_INPUTS = ("scripts/build_deps_layer.sh", "scripts/trim_deps_layer.py", "pyproject.toml")
_INPUTS_STAMP = "build-inputs.sha256"


def deps_layer_inputs_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for name in DEPS_LAYER_INPUTS:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def host_deps_layer(root: Path, *, rebuild: bool = False) -> Path:
    """``build/deps-layer-host``, built with the project's script if missing or built from other inputs."""
    out = root / "build" / "deps-layer-host"
    stamp = out / _INPUTS_STAMP
    wanted = deps_layer_inputs_digest(root)
    current = stamp.read_text().strip() if stamp.is_file() else None
    if rebuild or not (out / "python").is_dir() or current != wanted:
        env = {**os.environ, "LAYER_PLATFORM": "host", "PYTHON": sys.executable}
        subprocess.run(["bash", str(root / "scripts" / "build_deps_layer.sh"), str(out)], check=True, env=env)
        stamp.write_text(wanted + "\n")
    return out


def _copy_without_bytecode(src: Path, dst: Path, *, compile_bytecode: bool = False, keep: bool = False) -> Path:
    shutil.copytree(src, dst, ignore=None if keep else shutil.ignore_patterns("__pycache__", "*.pyc"))
    if compile_bytecode:
        import compileall
        import py_compile

        compileall.compile_dir(dst, quiet=2, workers=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return dst


def lambda_environment(
    function: str, code_dir: Path, *, traced: bool = False, cold_start: dict[str, str] | None = None
) -> dict[str, str]:
    """What a deployed function sees at import (minus secrets and queue URLs, read on first use).
    ``cold_start``: the revision's ``dd0c_cost.COLD_START_ENVIRONMENT`` (default: this tree's)."""
    from dd0c_cost import COLD_START_ENVIRONMENT, observability

    env = {
        **(COLD_START_ENVIRONMENT if cold_start is None else cold_start),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": f"dd0c-cost-{function}",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": observability.service_name(function),
        "POWERTOOLS_METRICS_NAMESPACE": observability.METRICS_NAMESPACE,
    }
    if not traced:
        env[observability.TRACE_DISABLED_ENV] = "true"
    return env


@dataclass(frozen=True)
class _Side:
    """One revision as shipped: its shared layer, functions, deps layer and cold-start environment."""

    shared: Path
    functions: Path
    deps: Path
    cold_start: dict[str, str]


def _cold_start_environment(shared: Path) -> dict[str, str]:
    """``COLD_START_ENVIRONMENT`` as a revision's ``dd0c_cost/__init__.py`` defines it ({} before it existed)."""
    tree = ast.parse((shared / "dd0c_cost" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "COLD_START_ENVIRONMENT" for t in node.targets
        ):
            return dict(ast.literal_eval(node.value))
    return {}


def _stage(source: Path, dest: Path, deps: Path, *, shared_bytecode: bool, bytecode: bool) -> _Side:
    """A source tree as shipped (see the module's docstring), with the deps layer it runs on."""
    shared = _copy_without_bytecode(
        source / "layers" / "shared" / "python", dest / "shared", compile_bytecode=shared_bytecode
    )
    functions = _copy_without_bytecode(source / "functions", dest / "functions", compile_bytecode=bytecode)
    return _Side(shared, functions, deps, _cold_start_environment(shared))


def _archive(root: Path, revision: str, dest: Path) -> Path:
    """The shared layer and functions of ``revision`` (git archive), unpacked in ``dest``."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", revision, "layers/shared/python", "functions"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def _probe_environment(name: str, side: _Side, traced: bool, first_use: tuple[str, ...]) -> dict[str, str]:
    code = side.functions / name
    env = lambda_environment(name, code, traced=traced, cold_start=side.cold_start)
    env["DD0C_PROBE_PATH"] = json.dumps([str(code), str(side.shared), str(side.deps)])
    env["DD0C_PROBE_FIRST_USE"] = json.dumps(list(first_use))
    return env


def _probe(name: str, side: _Side, traced: bool, first_use: tuple[str, ...] = ()) -> dict:
    code = side.functions / name
    env = _probe_environment(name, side, traced, first_use)
    done = subprocess.run(
        [sys.executable, "-S", "-E", "-B", "-c", _PROBE], env=env, cwd=code, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name}: import failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_COUNT_PROBE = r"""
import os, sys, json
sys.path[:0] = json.loads(os.environ["DD0C_PROBE_PATH"])
stage = os.environ["DD0C_PROBE_STAGE"]
if stage != "none":
    import handler
if stage in ("build", "first-use"):
    from dd0c_cost.settings import get_settings
    get_settings()
if stage == "first-use":
    for name in json.loads(os.environ.get("DD0C_PROBE_FIRST_USE", "[]")):
        __import__(name)
os._exit(0)  # a Lambda never tears its interpreter down: count up to here, not the finalisation
"""


def _instructions(name: str, side: _Side, traced: bool, stage: str, first_use: tuple[str, ...] = ()) -> int:
    """Instructions the probe's interpreter executes up to ``stage`` (none | import | build | first-use),
    counted by valgrind's cachegrind: the same count on every run, whatever else the machine is doing."""
    code = side.functions / name
    env = _probe_environment(name, side, traced, first_use)
    env["DD0C_PROBE_STAGE"] = stage
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
        + [sys.executable, "-S", "-E", "-B", "-c", _COUNT_PROBE],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{name}: counting instructions failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def _count(name: str, side: _Side, traced: bool, baseline: int, first_use: tuple[str, ...] = ()) -> dict:
    stages = {"import_minstr": "import", "build_minstr": "build"} | (
        {"first_use_minstr": "first-use"} if first_use else {}
    )
    return {
        key: round((_instructions(name, side, traced, stage, first_use) - baseline) / 1e6, 1)
        for key, stage in stages.items()
    }


def _summary(samples: list[dict]) -> dict:
    walls = [s["wall_ms"] for s in samples]
    return {
        "min_ms": round(min(walls), 1),
        "median_ms": round(statistics.median(walls), 1),
        "min_cpu_ms": round(min(s["cpu_ms"] for s in samples), 1),
        "median_cpu_ms": round(statistics.median(s["cpu_ms"] for s in samples), 1),
        "min_first_build_cpu_ms": round(min(s["first_build_cpu_ms"] for s in samples), 1),
        "min_first_use_cpu_ms": round(min(s["first_use_cpu_ms"] for s in samples), 1),
        "modules": samples[0]["modules"],
        "heavy_modules": samples[0]["heavy"],
    }


def measure(
    runs: int = 5,
    *,
    functions: list[str] | None = None,
    rebuild: bool = False,
    traced: bool = False,
    bytecode: bool = False,
    shared_bytecode: bool = True,
    deps_layer: Path | None = None,
    against: str | None = None,
    against_deps: Path | None = None,
    instructions: bool = False,
    first_use: tuple[str, ...] = (),
) -> dict:
    from dd0c_cost.topology import TOPOLOGY

    root = repo_root()
    deps = deps_layer or host_deps_layer(root, rebuild=rebuild)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="dd0c-imports-") as tmp:
        deps_copy = _copy_without_bytecode(deps / "python", Path(tmp) / "deps", keep=True)
        trees = {
            "this": _stage(root, Path(tmp) / "this", deps_copy, shared_bytecode=shared_bytecode, bytecode=bytecode)
        }
        if against:
            source = _archive(root, against, Path(tmp) / "against-source")
            other_deps = (
                _copy_without_bytecode(against_deps / "python", Path(tmp) / "against-deps", keep=True)
                if against_deps
                else deps_copy
            )
            trees["against"] = _stage(
                source, Path(tmp) / "against", other_deps, shared_bytecode=shared_bytecode, bytecode=bytecode
            )
        baselines: dict[str, int] = {}
        for spec in TOPOLOGY.functions:
            if functions and spec.name not in functions:
                continue
            present = [k for k, side in trees.items() if (side.functions / spec.name / "handler.py").is_file()]
            samples: dict[str, list[dict]] = {k: [] for k in present}
            for i in range(runs):  # alternating, each side first every other round
                for key in present if i % 2 == 0 else present[::-1]:
                    samples[key].append(_probe(spec.name, trees[key], traced, first_use))
            results[spec.name] = _summary(samples["this"])
            if "against" in samples:
                results[spec.name]["against"] = _summary(samples["against"])
            if instructions:
                for key in present:
                    if key not in baselines:
                        baselines[key] = _instructions(spec.name, trees[key], traced, "none")
                    target = results[spec.name] if key == "this" else results[spec.name]["against"]
                    target.update(_count(spec.name, trees[key], traced, baselines[key], first_use))
    return {
        "runs": runs,
        "traced": traced,
        "bytecode": bytecode,
        "shared_bytecode": shared_bytecode,
        "target_ms": TARGET_MS,
        "against": against,
        "against_deps": str(against_deps) if against_deps else None,
        "instructions": instructions,
        "first_use": list(first_use),
        "handlers": results,
    }


def _bytecode_words(code: bool, shared: bool) -> str:
    if code:
        return "all precompiled" if shared else "deps layer and code precompiled, shared layer not"
    return "both layers precompiled, function code not (as shipped)" if shared else "only the deps layer precompiled"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="dd0c-cost bench imports",
        description="Cold import time of every handler: fresh interpreters, only the built layers on sys.path.",
    )
    ap.add_argument("--runs", type=int, default=5, help="fresh interpreters per handler (default 5)")
    ap.add_argument("--function", action="append", help="only this function (repeatable)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild build/deps-layer-host first")
    ap.add_argument("--traced", action="store_true", help="with the X-Ray SDK on (POWERTOOLS_TRACE_DISABLED unset)")
    ap.add_argument(
        "--bytecode",
        action="store_true",
        help="precompile the function code too (both layers ship precompiled)",
    )
    ap.add_argument(
        "--shared-source",
        action="store_true",
        help="ship the shared layer without bytecode (what every cold start compiled before it was staged)",
    )
    ap.add_argument(
        "--against",
        metavar="REV",
        help="also import another git revision's handlers, alternating with this tree's (same-run ratios)",
    )
    ap.add_argument(
        "--against-deps",
        metavar="DIR",
        type=Path,
        help="the deps layer the --against revision runs on (default: the same as this tree's), e.g. one "
        "built by that revision's scripts/build_deps_layer.sh",
    )
    ap.add_argument(
        "--instructions",
        action="store_true",
        help="also count the instructions of the import and of +build once per handler and side (valgrind "
        "cachegrind: the same on every run whatever the load; about 8 s per count)",
    )
    ap.add_argument(
        "--first-use",
        metavar="MODULE",
        action="append",
        default=[],
        help="after +build, also import MODULE (repeatable): what a first call imports that the cold start "
        "leaves to it (e.g. botocore.config and boto3 for the zombie functions), reported as +first use",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be >= 1")
    load = os.getloadavg()
    result = measure(
        a.runs,
        functions=a.function,
        rebuild=a.rebuild,
        traced=a.traced,
        bytecode=a.bytecode,
        shared_bytecode=not a.shared_source,
        against=a.against,
        against_deps=a.against_deps,
        instructions=a.instructions,
        first_use=tuple(a.first_use),
    )
    result["loadavg"] = [round(x, 2) for x in load]
    result["cpus"] = os.cpu_count()
    if a.json:
        print(json.dumps(result))
        return 0
    print(
        f"cold import per handler: {a.runs} fresh interpreters each, only the layers on sys.path, "
        f"{_bytecode_words(a.bytecode, not a.shared_source)}, "
        f"tracing {'on' if a.traced else 'off'}; load average {load[0]:.1f} on {os.cpu_count()} CPUs"
    )
    _print_table(result, a.against)
    return 0


def _print_table(result: dict, against: str | None) -> None:
    extra = f" {'vs ' + against[:10]:>16s} {'CPU ratio':>9s} {'+build ratio':>12s}" if against else ""
    print(
        f"{'handler':14s} {'min ms':>7s} {'median ms':>9s} {'min CPU ms':>10s} {'median CPU':>10s} {'+build CPU':>10s}"
        f"{extra} {'modules':>7s}  heavy modules loaded"
    )
    worst = 0.0
    for name, r in result["handlers"].items():
        worst = max(worst, r["min_ms"])
        other = r.get("against")
        cells = ""
        if against:
            cells = (
                f" {other['min_cpu_ms']:7.0f} / {other['median_cpu_ms']:6.0f} {r['min_cpu_ms'] / other['min_cpu_ms']:9.2f}"
                f" {r['min_first_build_cpu_ms'] / other['min_first_build_cpu_ms']:12.2f}"
                if other
                else f" {'-':>16s} {'-':>9s} {'-':>12s}"
            )
        print(
            f"{name:14s} {r['min_ms']:7.0f} {r['median_ms']:9.0f} {r['min_cpu_ms']:10.0f} {r['median_cpu_ms']:10.0f}"
            f" {r['min_first_build_cpu_ms']:10.0f}{cells} {r['modules']:7d}  {', '.join(r['heavy_modules']) or '-'}"
        )
    print(
        "+build CPU: the import and then the first model build every first call makes (dd0c_cost.settings."
        "get_settings()), min CPU ms"
    )
    if against:
        print(
            f"vs {against}: its min / median CPU ms in the same run (interpreters alternating), on "
            f"{result.get('against_deps') or 'the same deps layer'}; ratios = this / it"
        )
    if result.get("first_use"):
        print(f"+first use: then also importing {', '.join(result['first_use'])}, min CPU ms:")
        for name, r in result["handlers"].items():
            other = r.get("against")
            print(
                f"  {name:14s} {r['min_first_use_cpu_ms']:7.0f}"
                + (f"  vs {other['min_first_use_cpu_ms']:7.0f}" if other else "")
            )
    if result.get("instructions"):
        _print_instructions(result, against)
    verdict = "meets" if worst <= TARGET_MS else "MISSES"
    print(f"target <= {TARGET_MS:.0f} ms per handler (minimum wall time): {verdict} (slowest {worst:.0f} ms)")


def _print_instructions(result: dict, against: str | None) -> None:
    print("instructions executed (valgrind cachegrind), millions: the import, and the import + first model build")
    first_use = bool(result.get("first_use"))
    head = f"{'handler':14s} {'import':>8s} {'+build':>8s}" + (f" {'+first use':>10s}" if first_use else "")
    if against:
        head += f" {'vs ' + against[:10]:>17s} {'ratio':>6s} {'+build ratio':>12s}"
    print(head)
    for name, r in result["handlers"].items():
        line = f"{name:14s} {r['import_minstr']:8.1f} {r['build_minstr']:8.1f}"
        if first_use:
            line += f" {r['first_use_minstr']:10.1f}"
        other = r.get("against")
        if against and other:
            line += (
                f" {other['import_minstr']:8.1f} {other['build_minstr']:8.1f}"
                f" {r['import_minstr'] / other['import_minstr']:6.3f} {r['build_minstr'] / other['build_minstr']:12.3f}"
            )
        print(line)


if __name__ == "__main__":
    sys.exit(main())
