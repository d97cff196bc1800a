#!/usr/bin/env bash
# `make bench` wants wrk as its load generator: Debian's package when we are root with apt. Without it the
# bench uses its own load generator (bench/loader.py) and says so in its table.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's wrk for the benchmark..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq wrk >/dev/null || echo "apt-get could not install wrk; using bench/loader.py" >&2
fi
