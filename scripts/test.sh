#!/usr/bin/env bash
# Install everything the test suite needs into ./.venv and run it (ruff included).
# Used by the README's test command and by CI (.ci/run). Fails loudly on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

# Headless Chromium renders the HTML report in its test (Debian's package; no browser download).
if [ -f tests/report/install_chromium.sh ]; then
    bash tests/report/install_chromium.sh
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest tests "$@"
