"""Bounded local footprint and a full disk: hourly runs do not grow the pipelines
directory, and a pipelines directory that fills up fails the run with that cause, recorded as such."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cja_sync.run.sync import RunOptions, run_sync

from ..truth_compare import assert_matches_truth
from .helpers import data_tables, rel_settings, rel_values, runs


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# An idle run costs ~1.5 s of dlt overhead even for a tiny org: 100 of them (CJA_FOOTPRINT_RUNS=100,
# ~3 min) are too slow for every test run; 8 show the same thing, since without pruning each run
# leaves its load packages behind and the directory grows linearly from the first run on.
RUNS = int(os.environ.get("CJA_FOOTPRINT_RUNS", "8"))


def test_idle_runs_keep_the_pipelines_dir_small(rsim, cli):
    sim = rsim(connections=3, max_datasets_per_connection=2, inline_backfills=False)
    opts = cli.opts()
    cfg = rel_settings(sim)
    sizes = []
    for _ in range(RUNS):
        assert run_sync(cfg, opts).status == "succeeded"
        sizes.append(_size(Path(opts.pipelines_dir)))
    # after the first few runs (schema versions settle), idle runs add nothing that stays
    assert sizes[-1] <= sizes[4] * 1.05, (sizes[4], sizes[-1])
    assert not list(Path(opts.pipelines_dir).glob("*/load/loaded/*"))
    assert len(runs(opts)) == RUNS


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _tmpfs(tmp_path / "small-disk", "256k")


@pytest.fixture
def warehouse_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _tmpfs(tmp_path / "warehouse-disk", "64m")


def _tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size`, or a skip where this machine does not let us mount one."""
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs for the disk-full test: {done.stderr.decode().strip()}")
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_pipelines_disk_fails_the_run_with_that_cause(rsim, cli, small_disk: Path):
    sim = rsim(connections=40, inline_backfills=False)
    opts = RunOptions(duckdb_path=cli.duckdb_path, pipelines_dir=str(small_disk / "pipelines"))
    code, _, err = cli.run(rel_values(sim), "--pipelines-dir", opts.pipelines_dir)
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert "no space left on device" in last and str(small_disk) in last, err
    assert data_tables(opts) == set()  # it failed before its load: no data table was created
    statuses = runs(opts)
    assert len(statuses) == 1 and statuses[0][0] == "failed", statuses
    assert "no space left on device" in statuses[0][1] and "interrupted" not in statuses[0][1]

    # on a disk with room, the next run is exact and leaves the failed run's row as it was
    good = RunOptions(duckdb_path=cli.duckdb_path, pipelines_dir=cli.pipelines_dir)
    assert run_sync(rel_settings(sim), good).status == "succeeded"
    assert_matches_truth(good, sim.truth())
    assert [s for s, _ in runs(good)] == ["failed", "succeeded"]
    assert "no space left on device" in runs(good)[0][1]


def test_a_full_warehouse_disk_fails_the_load_and_the_next_good_run_is_exact(rsim, cli, warehouse_disk: Path):
    """What README "A failed load is not atomic" promises when the DuckDB file's disk fills during
    the load: one line naming the cause, nothing marked deleted, ages still measured from the last
    good sync, and an exact warehouse after the next good run."""
    from ..helpers import query

    sim = rsim(connections=10, inline_backfills=False)
    opts = RunOptions(duckdb_path=str(warehouse_disk / "w.duckdb"), pipelines_dir=cli.pipelines_dir)
    run_sync(rel_settings(sim), opts)
    as_of = query(opts, "SELECT as_of FROM {t}health_reference")
    for _ in range(150):
        sim.add_connection()
    filler = warehouse_disk / "filler"
    free = os.statvfs(warehouse_disk).f_bavail * os.statvfs(warehouse_disk).f_frsize
    filler.write_bytes(b"\0" * max(0, free - 512 * 1024))  # leave 512 KB: the load needs more

    code, _, err = cli.run(
        rel_values(sim), "--duckdb-path", opts.duckdb_path, "--pipelines-dir", opts.pipelines_dir
    )
    filler.unlink()
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert "no space left on device" in last and "w.duckdb" in last, err
    assert query(opts, "SELECT COUNT(*) FROM {t}connections WHERE deleted_in_source_at IS NOT NULL") == [(0,)]
    assert query(opts, "SELECT as_of FROM {t}health_reference") == as_of
    failed = [e for s, e in runs(opts) if s == "failed"]
    assert all("no space left on device" in e for e in failed), failed

    assert run_sync(rel_settings(sim), opts).status == "succeeded"
    assert_matches_truth(opts, sim.truth())
