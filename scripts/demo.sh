#!/usr/bin/env bash
# `npm run demo` on a fresh clone: installs what it needs, then runs scripts/demo.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-install.sh
if ! command -v redis-server >/dev/null 2>&1 && [ -z "${REDIS_URL:-}" ]; then
  echo "redis-server not found: install it with \"apt-get install -y redis-server\" (or set REDIS_URL)" >&2
  exit 1
fi
exec node_modules/.bin/tsx --import ./scripts/register.mjs scripts/demo.ts "$@"
