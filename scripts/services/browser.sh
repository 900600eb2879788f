#!/usr/bin/env bash
# Make sure Debian's Chromium and its WebDriver are installed (for tests/browser).
#   scripts/services/browser.sh
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver exist.
# Also installs wrk (HTTP load generator for bench/) when apt has it; optional.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "chromium and chromedriver already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
  exit 0
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
echo "==> installing chromium and chromium-driver (apt-get)"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-dejavu-core >/dev/null
echo "installed: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium (version unknown)')"
