#!/usr/bin/env bash
# Make sure the two-replica tests can put nginx in front of the replicas: nginx on the path or Debian's
# /usr/sbin/nginx, else Debian's package (when we are root with apt), else say how to get it.
set -euo pipefail

found() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]
}

if found; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's nginx for the two-replica tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if apt-get install -y -qq nginx >/dev/null && found; then exit 0; fi
  echo "apt-get could not install nginx" >&2
fi
echo "The two-replica tests put nginx in front of the replicas and none was found." >&2
echo "Install it: Debian/Ubuntu 'sudo apt-get install nginx', Fedora 'sudo dnf install nginx'," >&2
echo "macOS 'brew install nginx'; or put a directory holding nginx on PATH." >&2
exit 1
