#!/usr/bin/env bash
# System packages the test suite needs: Debian's chromium for Playwright, redis-server, and nginx (the
# e2e step's load balancer in front of two web instances; the bench's --lb nginx).
# Installed with apt when missing and running as root; otherwise stop with the command to run.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || [ -n "${REDIS_URL:-}" ] || missing+=(redis-server)
# /usr/sbin is not on every user's PATH. Only the launcher's own nginx runs (scripts/services/nginx.ts),
# on loopback with a private config; the package's system service is not used.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[install] apt-get install -y ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing: ${missing[*]} — install with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
