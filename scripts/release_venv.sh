#!/usr/bin/env bash
# Build a released version's wheel from this repository's history and install it into its own
# virtual environment, for the upgrade tests: bash scripts/release_venv.sh 0.2.0 DIR
# (tag v<version>; 0.2.0 falls back to its commit when the clone has no tags).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1
target=$2
declare -A COMMITS=([0.2.0]=547809aded0f178e4f79d3ff73d6c452a79a794d)
ref=$(git rev-parse -q --verify "v$version^{commit}" 2>/dev/null || echo "${COMMITS[$version]:-}")
if [ -z "$ref" ]; then
    echo "FAILED: no tag v$version and no known commit for release $version" >&2
    exit 1
fi
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git archive "$ref" | tar -x -C "$src"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x "$target/bin/python" ]; then
    "$PYTHON" -m venv "$target"
fi
"$target/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
"$target/bin/python" -m pip install --quiet "$src[postgres]" 2>&1 | grep -v "^WARNING: Location" || true
installed=$("$target/bin/cja-sync" --version)
[ "$installed" = "cja-sync $version" ] || { echo "FAILED: $target has '$installed', not $version" >&2; exit 1; }
echo "$installed in $target"
