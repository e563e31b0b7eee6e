#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh clone: Prometheus and promtool (Debian's
# package, v2.42) and the npm dependencies (which also builds the CLI).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing Prometheus (Debian package)..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq prometheus >/dev/null
fi
prometheus --version 2>&1 | head -1
npm ci --no-audit --no-fund
