#!/usr/bin/env bash
# Create .venv (if missing) and install Jixiao with its test tools into it, and the
# bench's tools too: the tests also check the bench (its zen-engine decision fires what
# the pack's matcher fires; its stream client agrees with grpc's own).
# Needs only Python 3.11+, pip and gcc (durable-rules compiles a small C module).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,bench]'
