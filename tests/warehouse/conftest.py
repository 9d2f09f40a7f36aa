"""The tools users read the warehouse with: a DuckDB 1.4 LTS reader in its own virtual environment
(scripts/test.sh installs it from the package index into .venv-duckdb14), and Postgres roles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def duckdb14() -> Path:
    """The Python of the DuckDB 1.4 reader environment; in CI its absence is a failure."""
    python = Path(os.environ.get("CJA_TEST_DUCKDB14_PYTHON", REPO / ".venv-duckdb14" / "bin" / "python"))
    if not python.exists():
        message = f"no DuckDB 1.4 reader at {python}: bash scripts/test.sh installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    version = subprocess.run(
        [str(python), "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    assert version.startswith("1.4."), version
    return python


def reader_script(body: str) -> list[str]:
    """argv running `body` in a separate interpreter (the reader's, or ours)."""
    return ["-c", body] if body else [sys.executable]
