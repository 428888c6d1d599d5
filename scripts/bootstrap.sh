#!/usr/bin/env bash
# Create .venv (if missing) and install Jixiao with its test tools into it.
# Needs only Python 3.11+, pip and gcc (durable-rules compiles a small C module).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
