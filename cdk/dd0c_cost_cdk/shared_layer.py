"""The shared layer as it is shipped: ``layers/shared`` plus its bytecode.

Lambda's ``/opt`` is read-only, so Python cannot cache bytecode there: every module of a layer
shipped without ``.pyc`` is compiled again on every cold start (for the shared layer, 36-51 ms of
CPU per handler, measured with ``dd0c-cost bench imports``). The deps layer is compiled by its build
script; this one is staged at synth time: a copy of the sources under
``build/shared-layer/<digest of the sources>/`` compiled by the synthesising Python when it is the
runtime's version, with unchecked-hash ``.pyc`` (no timestamps: the same sources give the same bytes,
so the asset hash changes only when the sources do). The directory is created under a temporary
name and renamed into place, so concurrent synths (test workers) never see half a copy.
No ``aws_cdk`` import here: the build is plain Python.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import py_compile
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "layers" / "shared"
STAGING = REPO_ROOT / "build" / "shared-layer"
LAMBDA_LAYER_ROOT = "/opt"  # where Lambda extracts a layer's zip
RUNTIME_PYTHON = (3, 11)  # keep in sync with LAMBDA_RUNTIME in config.py
BUILD = "1: unchecked-hash, ddir /opt"
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def _source_files(source: Path) -> list[Path]:
    files = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if not path.is_file() or path.suffix == ".pyc" or _SKIPPED_DIRS.intersection(rel.parts):
            continue
        if any(part.endswith(".egg-info") for part in rel.parts):
            continue
        files.append(path)
    return files


def _digest(source: Path, files: list[Path], compiled: bool) -> str:
    # (BUILD names this procedure: change it when build() changes, so an old copy is not reused)
    h = hashlib.sha256(f"{BUILD} {sys.version_info[:2] if compiled else 'source'}\n".encode())
    for path in files:
        h.update(str(path.relative_to(source)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def build(destination: Path, source: Path = SOURCE, *, compiled: bool = True) -> Path:
    """Copy the layer's files to ``destination`` (which must not exist) and compile them."""
    for path in _source_files(source):
        target = destination / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    if compiled:
        # Names in the code objects (tracebacks) are where Lambda extracts the layer, /opt/...,
        # not this build directory: the bytes do not depend on where the copy was built.
        ok = compileall.compile_dir(
            destination,
            ddir=LAMBDA_LAYER_ROOT,
            quiet=2,
            workers=1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise RuntimeError(f"the shared layer does not compile: {destination}")
    return destination


def _prune(staging: Path, *, older_than_s: float = 86_400.0) -> None:
    """Drop copies of earlier sources (a day old: never one a concurrent synth is using)."""
    now = time.time()
    for old in staging.iterdir():
        if old.is_dir() and now - old.stat().st_mtime > older_than_s:
            shutil.rmtree(old, ignore_errors=True)


def staged_shared_layer(source: Path = SOURCE, staging: Path = STAGING) -> Path:
    """The directory the CDK ships as the shared layer (built if this version of the sources has
    not been staged yet)."""
    compiled = sys.version_info[:2] == RUNTIME_PYTHON
    if not compiled:
        warnings.warn(
            f"synth runs on Python {sys.version_info[0]}.{sys.version_info[1]}, not the runtime's "
            f"{RUNTIME_PYTHON[0]}.{RUNTIME_PYTHON[1]}: the shared layer ships without bytecode (slower cold starts)",
            stacklevel=2,
        )
    files = _source_files(source)
    target = staging / _digest(source, files, compiled)
    if target.is_dir():
        return target
    staging.mkdir(parents=True, exist_ok=True)
    _prune(staging)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=staging))
    try:
        build(scratch / "layer", source, compiled=compiled)
        try:
            os.rename(scratch / "layer", target)
        except OSError:
            if not target.is_dir():  # another synth won the race: its copy is the same
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
