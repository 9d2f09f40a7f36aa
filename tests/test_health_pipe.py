"""`cja-sync health --fail-on` into a pipe whose reader leaves early (issue 27): the exit code is
the one --fail-on decided, under `set -o pipefail`, whatever happens to the output. A real
subprocess and a real pipe: BrokenPipeError only exists there."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cja_source.simulator import SimConfig, Simulator
from cja_source.simulator.settings import settings_for
from cja_sync.run.sync import run_sync
from tests.health_helpers import duckdb_options


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A synced org with failed and stuck backfills (the simulator's seed 3 has both)."""
    tmp = tmp_path_factory.mktemp("health_pipe")
    opts = duckdb_options(tmp)
    with Simulator(SimConfig(seed=3, connections=40, rate_limit=None)) as sim:
        run_sync(settings_for(sim, page_size=100), opts)
    yield tmp, ["--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir)]


def _piped(warehouse: tuple[Path, list[str]], reader: str, *flags: str) -> subprocess.CompletedProcess[str]:
    tmp, args = warehouse
    command = [sys.executable, "-m", "cja_sync.commands.cli", "health", *args, *flags]
    script = f"set -o pipefail; {shlex.join(command)} | {reader}"
    return subprocess.run(["bash", "-c", script], cwd=tmp, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "reader",
    [
        "head -1",  # the case: reads one line, then goes
        "true",  # reads nothing and is gone before the first write: every write fails
    ],
)
@pytest.mark.parametrize("output", ["text", "json"])
def test_fail_on_exit_code_survives_a_closed_pipe(warehouse, reader: str, output: str) -> None:
    flags = ["--fail-on", "failed,stuck", "--all", *(["--json"] if output == "json" else [])]
    done = _piped(warehouse, reader, *flags)
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert done.stderr == ""  # no traceback, no "Exception ignored" from the flush at exit
    if reader == "head -1":
        assert len(done.stdout.splitlines()) == 1
        assert done.stdout.startswith("{" if output == "json" else "Health of ")


def test_no_condition_met_still_exits_0_into_a_closed_pipe(warehouse) -> None:
    done = _piped(warehouse, "true", "--fail-on", "drop", "--all")  # one sync: no volume drop yet
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stderr == ""
