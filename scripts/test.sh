#!/usr/bin/env bash
# `npm test` on a fresh clone: installs what it needs, then runs every suite (scripts/test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-install.sh
# chromium and redis-server only for the steps that use them: `npm test -- lint` installs and starts nothing.
needs_system=$([ $# -eq 0 ] && echo yes || echo no)
for step in "$@"; do case "$step" in typecheck|lint|unit) ;; *) needs_system=yes ;; esac; done
[ "$needs_system" = no ] || bash scripts/ensure-system.sh
exec node_modules/.bin/tsx --import ./scripts/register.mjs scripts/test.ts "$@"
