#!/usr/bin/env bash
# Build the third-party "deps" Lambda layer WITHOUT Docker.
#
# pip downloads prebuilt wheels for the Lambda platform (--platform/--only-binary), so nothing
# is compiled and no container is needed. The platform MUST match the functions' architecture
# in cdk/dd0c_cost_cdk (arm64 / Graviton) and the runtime (python3.11, Amazon Linux 2, glibc
# 2.26 -> manylinux2014 wheels).
#
# Usage: scripts/build_deps_layer.sh [OUTPUT_DIR]      (default: build/deps-layer)
#        PYTHON=python3.11 scripts/build_deps_layer.sh
#        LAYER_PLATFORM=host scripts/build_deps_layer.sh build/deps-layer-host
#          a layer for THIS machine's Python and platform, plus what the Lambda runtime provides
#          (boto3): what `dd0c-cost bench imports` and the layer import tests put on sys.path
#          (with the shared layer, and nothing else) to import the handlers as Lambda would.
# The CDK app reads the directory from context `depsLayerPath` (default build/deps-layer).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/build/deps-layer}"
PYTHON="${PYTHON:-python3}"
# keep in sync with LAMBDA_ARCHITECTURE in cdk/dd0c_cost_cdk/config.py. DD0C_LAYER_PLATFORM overrides
# it only to prove the layer on a machine of another architecture (tests/infrastructure/
# test_deployed_imports.py builds it for the machine it runs on, from the same requirements);
# LAYER_PLATFORM=host builds this machine's layer plus boto3 (bench imports, see above).
PLATFORM="${LAYER_PLATFORM:-${DD0C_LAYER_PLATFORM:-manylinux2014_aarch64}}"
PY_VERSION="3.11"                  # keep in sync with LAMBDA_RUNTIME in cdk/dd0c_cost_cdk/config.py

cd "$ROOT"

# The runtime dependencies are declared once, in pyproject.toml [project].dependencies.
# boto3/botocore ship with the Lambda runtime, so they are left out of the layer.
REQS="$(mktemp)"
trap 'rm -f "$REQS"' EXIT
"$PYTHON" - "$ROOT/pyproject.toml" "$PLATFORM" >"$REQS" <<'PY'
import re
import sys
import tomllib

with open(sys.argv[1], "rb") as fh:
    deps = tomllib.load(fh)["project"]["dependencies"]
provided_by_runtime = {"boto3", "botocore", "s3transfer"}
host = sys.argv[2] == "host"
for dep in deps:
    name = re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0].lower()
    if host or name not in provided_by_runtime:
        print(dep)
PY

echo "deps layer: $PLATFORM cp$PY_VERSION -> $OUT"
sed 's/^/  /' "$REQS"

# Lambda's /opt is read-only: Python cannot cache bytecode there, so every module shipped without a
# .pyc is compiled again on every cold start (for this layer, ~0.5 s of CPU). Ship it compiled, by
# the runtime's Python version, with unchecked-hash .pyc (no timestamps: the same sources give the
# same bytes, so the asset hash only changes when the sources do).
precompile() {
  if "$PYTHON" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$PY_VERSION'.split('.'))))"; then
    "$PYTHON" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$OUT/python" >/dev/null
  else
    echo "warning: $PYTHON is not Python $PY_VERSION; the layer ships without bytecode (slower cold starts)" >&2
  fi
}

rm -rf "$OUT"
mkdir -p "$OUT/python"
if [ "$PLATFORM" = "host" ]; then
  # This machine's wheels (any Python >= 3.11 works for import checks), runtime-provided boto3 kept.
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --no-warn-conflicts \
    --target "$OUT/python" --requirement "$REQS"
  rm -rf "$OUT/python/bin"
  find "$OUT/python" -type d -name "__pycache__" -prune -exec rm -rf {} +
  "$PYTHON" "$ROOT/scripts/trim_deps_layer.py" "$OUT/python"
  precompile
  echo "host deps layer built: $OUT ($(du -sm "$OUT" | cut -f1) MB, boto3 included as the Lambda runtime provides it)"
  exit 0
fi
"$PYTHON" -m pip install \
  --quiet \
  --disable-pip-version-check \
  --no-compile \
  --no-warn-conflicts \
  --platform "$PLATFORM" \
  --implementation cp \
  --python-version "$PY_VERSION" \
  --only-binary=:all: \
  --target "$OUT/python" \
  --requirement "$REQS"

# Anything the runtime already provides, and files Lambda never needs.
rm -rf "$OUT/python/boto3" "$OUT/python/botocore" "$OUT/python/s3transfer" "$OUT/python/bin"
find "$OUT/python" -type d -name "__pycache__" -prune -exec rm -rf {} +
find "$OUT/python" -name "*.pyc" -delete
# Import-time work the functions never use, edited out (scripts/trim_deps_layer.py says what and why).
"$PYTHON" "$ROOT/scripts/trim_deps_layer.py" "$OUT/python"
precompile

SIZE_MB=$(du -sm "$OUT" | cut -f1)
echo "deps layer built: $OUT (${SIZE_MB} MB unzipped; Lambda allows 250 MB for code + all layers)"
if [ "$SIZE_MB" -gt 200 ]; then
  echo "warning: the deps layer is over 200 MB unzipped" >&2
fi
