#!/usr/bin/env bash
# Set up a fresh machine for dd0c/cost: PostgreSQL server binaries (the CLI and the tests start
# their own private server; nothing listens beyond 127.0.0.1) and a virtualenv with the package.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1 && [ -z "${DD0C_PG_BIN:-}" ]; then
  echo "setup: installing the PostgreSQL server binaries" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

# Headless Chromium for the console's browser tests (tests/browser), from Debian's packages.
if [ -z "${DD0C_SKIP_BROWSER:-}" ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
  echo "setup: installing chromium and chromium-driver (browser tests)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
echo "setup: ready (.venv/bin/dd0c-cost)" >&2
