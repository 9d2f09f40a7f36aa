#!/usr/bin/env bash
# The checks CI adds on top of the test command: the built wheel, installed into a fresh virtual
# environment, runs demo/health/report from a directory outside the repository; and Python 3.12
# and 3.13 install the package and pass a fast subset of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '==> %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }
# Quiet when it works, the whole log when it does not.
quiet() {
    if ! "$@" >"$work/cmd.log" 2>&1; then
        cat "$work/cmd.log" >&2
        echo "FAILED: $*" >&2
        return 1
    fi
}

step "upgrade: a warehouse of release 0.2.0 (its wheel built from the tag) synced by this version"
quiet bash scripts/release_venv.sh 0.2.0 "$work/release-0.2.0"
CJA_TEST_RELEASE_VENV="$work/release-0.2.0" .venv/bin/python -m pytest -q -p no:cacheprovider -m upgrade \
    tests/warehouse/test_upgrade.py

step "dbt: the shipped package run by dbt on a synced DuckDB file and Postgres schema"
.venv/bin/python -m pytest -q -p no:cacheprovider -m dbt tests/dbt

step "wheel: build"
.venv/bin/python -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" . 2>"$work/build.log" || {
    cat "$work/build.log" >&2
    exit 1
}
if grep -qi "warning" "$work/build.log"; then
    grep -i "warning" "$work/build.log" | grep -v "Location 'file" >&2 && { echo "FAILED: the wheel build warns" >&2; exit 1; }
fi
wheel=$(ls "$work"/dist/cja_sync-*.whl)
step "wheel: install $(basename "$wheel") into a fresh venv"
python3.11 -m venv "$work/venv"
quiet "$work/venv/bin/python" -m pip install "$wheel"
if (cd "$work" && "$work/venv/bin/python" -c "import pipelines" 2>/dev/null); then
    echo "FAILED: the wheel installs a top-level package named 'pipelines'" >&2
    exit 1
fi
mkdir "$work/elsewhere"
(
    cd "$work/elsewhere"
    step "wheel: cja-sync --version, demo, health, report (outside the repository)"
    "$work/venv/bin/cja-sync" --version
    "$work/venv/bin/cja-sync" demo --pipelines-dir "$work/pipelines" >/dev/null
    "$work/venv/bin/cja-sync" health --duckdb-path cja_demo.duckdb --pipelines-dir "$work/pipelines" >/dev/null
    "$work/venv/bin/cja-sync" report --duckdb-path cja_demo.duckdb --pipelines-dir "$work/pipelines" --out report.html >/dev/null
    test -s report.html
)

for version in 3.12 3.13; do
    py=$(ls -d "$HOME"/.pyenv/versions/"$version".*/bin/python 2>/dev/null | tail -n 1)
    if [ -z "$py" ]; then
        echo "FAILED: Python $version is not installed under ~/.pyenv/versions" >&2
        exit 1
    fi
    step "Python $version: install with the test extra, demo, fast tests"
    "$py" -m venv "$work/venv$version"
    quiet "$work/venv$version/bin/python" -m pip install "$wheel[test]"
    (cd "$work/elsewhere" && "$work/venv$version/bin/cja-sync" demo --duckdb-path "demo$version.duckdb" \
        --pipelines-dir "$work/pipelines$version" >/dev/null)
    # the installed wheel is what runs: the tests import cja_source/cja_sync from site-packages
    (cd "$repo" && "$work/venv$version/bin/python" -P -m pytest -q -p no:cacheprovider \
        tests/simulator/test_gateway.py tests/extractor/test_full_sync.py tests/test_health_views.py)
done
step "CI extras passed"
