#!/usr/bin/env bash
# Create .venv (if missing) and install Jixiao with its test tools into it, and the
# bench's tools too: the tests also check the bench (its zen-engine decision fires what
# the pack's matcher fires; its stream client agrees with grpc's own).
# Needs only Python 3.11+, pip and gcc (durable-rules compiles a small C module).
# The tests also start a PostgreSQL of their own from the machine's server binaries: when
# they are missing and this runs as root with apt-get (Debian, CI), PostgreSQL is installed
# from the distribution (about 56 MB of packages: roughly 15 s with apt-get update);
# elsewhere its tests are skipped (and fail under CI).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bootstrap: installing PostgreSQL from the distribution for the tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; } \
    || echo "bootstrap: PostgreSQL could not be installed; its tests are skipped (and fail under CI)" >&2
fi
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,bench]'
