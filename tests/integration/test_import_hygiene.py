"""No I/O at import time: every module of the package and every Lambda handler imports with the
network cut off and no configuration in the environment (clients and settings are lazy). And no
pydantic model is built at import time: every model of the package defers its validator and
serialiser to first use (``dd0c_cost.model.Model``), and after importing everything none is built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = r"""
import importlib, importlib.util, pkgutil, socket, sys
from pathlib import Path

def refuse(*args, **kwargs):
    raise SystemExit(f"I/O at import time: connect{args[1:]!r}")

socket.socket.connect = refuse
socket.create_connection = refuse

import dd0c_cost
for module in pkgutil.walk_packages(dd0c_cost.__path__, "dd0c_cost."):
    importlib.import_module(module.name)
for handler in sorted(Path(sys.argv[1], "functions").glob("*/handler.py")):
    spec = importlib.util.spec_from_file_location(f"handler_{handler.parent.name}", handler)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    print("ok", handler.parent.name)

from pydantic import BaseModel

def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

for model in models(BaseModel):
    if model.__module__.startswith("dd0c_cost."):
        where = f"{model.__module__}.{model.__qualname__}"
        print("model", where, model.model_config.get("defer_build") is True, model.__pydantic_complete__)
"""


def test_package_and_handlers_import_without_io_or_configuration():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}  # no DATABASE_URL, no queue URLs, no AWS
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    imported = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")}
    assert imported == {p.parent.name for p in (REPO / "functions").glob("*/handler.py")}
    assert {"normalize", "score", "notify", "api", "migrate", "s3_ingest"} <= imported
    models = [line.split() for line in result.stdout.splitlines() if line.startswith("model ")]
    assert len(models) >= 60, models  # the probe finds the package's models
    assert not [m[1] for m in models if m[2] != "True"], "models built at class creation (not dd0c_cost.model.Model)"
    assert not [m[1] for m in models if m[3] != "False"], "models built while importing (a validation at import time)"


TOOLS_PROBE = r"""
import importlib, os, pkgutil, socket, subprocess, sys

def refuse(*args, **kwargs):
    raise SystemExit(f"I/O at import time: {args[-1:]!r}")

socket.socket.connect = refuse
socket.create_connection = refuse
subprocess.Popen.__init__ = refuse
read = set()

class Environ(dict):
    # Records the variables the tools' own modules read (libraries may read theirs).
    def _note(self, key):
        caller = sys._getframe(2).f_globals.get("__name__", "")
        if caller.startswith("dd0c_cost_tools"):
            read.add(f"{caller}: {key}")

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

os.environ = Environ(os.environ)
import dd0c_cost_tools
names = [m.name for m in pkgutil.walk_packages(dd0c_cost_tools.__path__, "dd0c_cost_tools.")]
for name in names:
    if not name.endswith(".__main__"):
        importlib.import_module(name)
print("read", sorted(read))
print("modules", len(names))
"""


def test_tools_import_without_io_or_environment_reads():
    """The tools' modules (the CLI, local runner, benchmarks, price refresh) import with the network
    and subprocesses cut off, and none of them reads an environment variable while importing."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "PYTHONPATH": f"{REPO}/layers/shared/python:{REPO}/tools"}
    result = subprocess.run([sys.executable, "-c", TOOLS_PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("read ", "modules ")))
    assert int(lines["modules"]) >= 60, lines  # the probe walks the whole package
    assert lines["read"] == "[]", lines["read"]
