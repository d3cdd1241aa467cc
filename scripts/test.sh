#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up, lint and format checks (ruff, incl. the
# complexity gate), type check of the runtime package (mypy), generated contracts, pytest.
# Tests start their own PostgreSQL and emulate AWS with moto; nothing reaches the network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/dd0c-cost contracts --check
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" -q "$@"
