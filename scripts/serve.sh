#!/usr/bin/env bash
# Install (first time only) and start the service with the bundled rule packs on
# 127.0.0.1:50051. Flags go to jixiao-server, e.g. `bash scripts/serve.sh --port 6000`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/jixiao-server ]; then
  bash scripts/bootstrap.sh
fi
exec .venv/bin/jixiao-server "$@"
