#!/usr/bin/env bash
# `npm test` on a fresh clone: installs what it needs, then runs every suite (scripts/test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-install.sh
bash scripts/ensure-system.sh
exec node_modules/.bin/tsx --import ./scripts/register.mjs scripts/test.ts "$@"
