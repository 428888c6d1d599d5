#!/usr/bin/env bash
# Install everything into .venv (and PostgreSQL for its tests) and run the whole test suite
# (unit, contract, e2e, property) on one worker per CPU.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_postgres.sh
bash scripts/bootstrap.sh
# One worker per CPU, each taking whole test files (a module's server is started once).
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
