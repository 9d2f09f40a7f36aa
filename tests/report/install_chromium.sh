#!/usr/bin/env bash
# Installs Debian's chromium for the report rendering test (tests/report/test_report.py).
# No browser download: the test drives /usr/bin/chromium through playwright's Python package.
# Idempotent; needs root (as CI runs). Usage: bash tests/report/install_chromium.sh
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(chromium --version 2>/dev/null || true)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium installed: $(chromium --version 2>/dev/null || true)"
