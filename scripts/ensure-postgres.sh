#!/usr/bin/env bash
# Make sure the PostgreSQL tests can start a throwaway cluster: initdb and pg_ctl on the path or in Debian's
# /usr/lib/postgresql/<version>/bin, else Debian's package (when we are root with apt), else say how to get them.
set -euo pipefail

found() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then return 0; fi
  for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ]; then return 0; fi
  done
  return 1
}

if found; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's postgresql for the PostgreSQL tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if apt-get install -y -qq postgresql >/dev/null && found; then exit 0; fi
  echo "apt-get could not install postgresql" >&2
fi
echo "The PostgreSQL tests need PostgreSQL's server programs (initdb, pg_ctl) and none were found." >&2
echo "Install them: Debian/Ubuntu 'sudo apt-get install postgresql', Fedora 'sudo dnf install postgresql-server'," >&2
echo "macOS 'brew install postgresql'; or put a directory holding initdb and pg_ctl on PATH." >&2
exit 1
