#!/usr/bin/env bash
# Make sure the end-to-end tests have a Chromium: WECHAT_SANDBOX_CHROMIUM, a system one, Debian's
# package (when we are root with apt), or else Playwright's own download.
set -euo pipefail
python=${1:-python3}

if [ -n "${WECHAT_SANDBOX_CHROMIUM:-}" ] && [ -x "$WECHAT_SANDBOX_CHROMIUM" ]; then exit 0; fi
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if apt-get install -y -qq chromium >/dev/null; then exit 0; fi
  echo "apt-get could not install chromium; falling back to Playwright's browser" >&2
fi
"$python" -m playwright install chromium
