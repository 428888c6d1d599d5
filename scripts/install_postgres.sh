#!/usr/bin/env bash
# The tests start a PostgreSQL of their own from the machine's server binaries. When they
# are missing and this runs as root with apt-get (Debian, CI), install PostgreSQL from the
# distribution (about 56 MB of packages: roughly 15 s with apt-get update); elsewhere its
# tests are skipped (and fail under CI). scripts/test.sh runs this; serving needs none of it.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install_postgres: installing PostgreSQL from the distribution for the tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; } \
    || echo "install_postgres: PostgreSQL could not be installed; its tests are skipped (and fail under CI)" >&2
fi
