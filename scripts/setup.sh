#!/usr/bin/env bash
# Installs what the demo, the tests and the benchmarks need on a fresh clone: Prometheus and promtool
# (Debian's package, v2.42), nginx (nginx-light) and wrk for `npm run bench`, and the npm dependencies
# (which also builds the CLI).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  missing+=(prometheus)
fi
# nginx lives in /usr/sbin, which a non-root PATH may lack.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  missing+=(nginx-light)
fi
if ! command -v wrk >/dev/null 2>&1; then
  missing+=(wrk)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing ${missing[*]} (Debian packages)..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
prometheus --version 2>&1 | head -1
npm ci --no-audit --no-fund
