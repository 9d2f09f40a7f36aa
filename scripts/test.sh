#!/usr/bin/env bash
# Install everything the test suite needs into ./.venv and run it (ruff included).
# Used by the README's test command and by CI (.ci/run). Fails loudly on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '==> %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }
# Quiet when it works, the whole log when it does not.
logged() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "FAILED: $*" >&2
        return 1
    fi
    rm -f "$log"
}

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
step "virtual environment .venv ($("$PYTHON" --version 2>&1))"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
step "installing cja-sync with its test extra (editable)"
logged .venv/bin/python -m pip install --upgrade pip
logged .venv/bin/python -m pip install -e ".[test]"

# The warehouse tests read DuckDB files the way BI tools on DuckDB 1.4 LTS do (Evidence, Superset,
# DBeaver): a separate environment with that release, from the package index.
step "DuckDB 1.4 LTS reader (.venv-duckdb14)"
if [ ! -x .venv-duckdb14/bin/python ]; then
    "$PYTHON" -m venv .venv-duckdb14
fi
logged .venv-duckdb14/bin/python -m pip install "duckdb==1.4.4"

# Headless Chromium renders the HTML report in its test (Debian's package; no browser download).
if [ -f tests/report/install_chromium.sh ]; then
    step "chromium for the report test"
    logged bash tests/report/install_chromium.sh
fi

step "ruff check / format"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
if [ -x .venv/bin/mypy ]; then
    step "mypy (shipped packages)"
    .venv/bin/mypy
fi
step "pytest on two workers (about 10 minutes on 2 cores; one dot per test)"
# the upgrade tests need an earlier release's wheel built from git history, and the dbt runs take
# ~45 s each: CI runs both on top (scripts/ci_extra.sh)
.venv/bin/python -m pytest tests -n 2 -m "not upgrade and not dbt" "$@"
