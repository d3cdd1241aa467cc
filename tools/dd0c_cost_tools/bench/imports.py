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
machine compare the CPU column. ``--json`` prints ``{"handlers": {name: {...}}, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_MS = 250.0

_PROBE = r"""
import os, sys, time, json
sys.path[:0] = json.loads(os.environ["DD0C_PROBE_PATH"])
c0 = time.process_time(); t0 = time.perf_counter()
import handler
t1 = time.perf_counter(); c1 = time.process_time()
heavy = sorted(m for m in ("aws_xray_sdk", "botocore", "boto3", "pydantic_settings", "slack_sdk", "psycopg", "moto")
               if m in sys.modules)
print(json.dumps({"wall_ms": 1e3 * (t1 - t0), "cpu_ms": 1e3 * (c1 - c0), "modules": len(sys.modules), "heavy": heavy}))
"""


def repo_root() -> Path:
    from dd0c_cost_tools import REPO_ROOT

    return REPO_ROOT


def host_deps_layer(root: Path, *, rebuild: bool = False) -> Path:
    """``build/deps-layer-host`` (built with the project's script if missing)."""
    out = root / "build" / "deps-layer-host"
    if rebuild or not (out / "python").is_dir():
        env = {**os.environ, "LAYER_PLATFORM": "host", "PYTHON": sys.executable}
        subprocess.run(["bash", str(root / "scripts" / "build_deps_layer.sh"), str(out)], check=True, env=env)
    return out


def _copy_without_bytecode(src: Path, dst: Path, *, compile_bytecode: bool = False, keep: bool = False) -> Path:
    shutil.copytree(src, dst, ignore=None if keep else shutil.ignore_patterns("__pycache__", "*.pyc"))
    if compile_bytecode:
        import compileall
        import py_compile

        compileall.compile_dir(dst, quiet=2, workers=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return dst


def lambda_environment(function: str, code_dir: Path, *, traced: bool = False) -> dict[str, str]:
    """What a deployed function sees at import (minus secrets and queue URLs, read on first use)."""
    from dd0c_cost import observability

    env = {
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


def measure(
    runs: int = 5,
    *,
    functions: list[str] | None = None,
    rebuild: bool = False,
    traced: bool = False,
    bytecode: bool = False,
    shared_bytecode: bool = True,
    deps_layer: Path | None = None,
) -> dict:
    from dd0c_cost.topology import TOPOLOGY

    root = repo_root()
    deps = deps_layer or host_deps_layer(root, rebuild=rebuild)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="dd0c-imports-") as tmp:
        shared = _copy_without_bytecode(
            root / "layers" / "shared" / "python", Path(tmp) / "shared", compile_bytecode=shared_bytecode
        )
        deps_copy = _copy_without_bytecode(deps / "python", Path(tmp) / "deps", keep=True)
        for spec in TOPOLOGY.functions:
            if functions and spec.name not in functions:
                continue
            code = _copy_without_bytecode(
                root / "functions" / spec.name, Path(tmp) / "functions" / spec.name, compile_bytecode=bytecode
            )
            env = lambda_environment(spec.name, code, traced=traced)
            env["DD0C_PROBE_PATH"] = json.dumps([str(code), str(shared), str(deps_copy)])
            samples = []
            for _ in range(runs):
                done = subprocess.run(
                    [sys.executable, "-S", "-E", "-B", "-c", _PROBE], env=env, cwd=code, capture_output=True, text=True
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{spec.name}: import failed:\n{done.stderr[-2000:]}")
                samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
            walls = [s["wall_ms"] for s in samples]
            results[spec.name] = {
                "min_ms": round(min(walls), 1),
                "median_ms": round(statistics.median(walls), 1),
                "min_cpu_ms": round(min(s["cpu_ms"] for s in samples), 1),
                "modules": samples[0]["modules"],
                "heavy_modules": samples[0]["heavy"],
            }
    return {
        "runs": runs,
        "traced": traced,
        "bytecode": bytecode,
        "shared_bytecode": shared_bytecode,
        "target_ms": TARGET_MS,
        "handlers": results,
    }


def _bytecode_words(code: bool, shared: bool) -> str:
    if code:
        return "all precompiled" if shared else "deps layer and code precompiled, shared layer not"
    return "both layers precompiled, function code not (as shipped)" if shared else "only the deps layer precompiled"


def main(argv: list[str] | None = None) -> int:
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
    ap.add_argument("--json", action="store_true")
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
    print(
        f"{'handler':12s} {'min ms':>8s} {'median ms':>10s} {'min CPU ms':>11s} {'modules':>8s}  heavy modules loaded"
    )
    worst = 0.0
    for name, r in result["handlers"].items():
        worst = max(worst, r["min_ms"])
        print(
            f"{name:12s} {r['min_ms']:8.0f} {r['median_ms']:10.0f} {r['min_cpu_ms']:11.0f} {r['modules']:8d}  "
            f"{', '.join(r['heavy_modules']) or '-'}"
        )
    verdict = "meets" if worst <= TARGET_MS else "MISSES"
    print(f"target <= {TARGET_MS:.0f} ms per handler (minimum wall time): {verdict} (slowest {worst:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
