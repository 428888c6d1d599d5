#!/usr/bin/env bash
# Install everything into .venv and run the whole test suite (unit, contract, e2e, property).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
