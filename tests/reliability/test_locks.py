"""One writer per warehouse, readers welcome: a DuckDB reader never makes
a sync fail, a reader that meets a sync says so in one line, and a second writer into the same
Postgres schema from another pipelines directory exits 1 without touching history."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import duckdb

from cja_sync.sync import run_sync

from ..truth_compare import assert_matches_truth
from .helpers import rel_settings, rel_values, runs
from .test_crash import _wait
from .test_identity_history import assert_history_exact


def test_a_reader_holding_the_duckdb_file_makes_the_sync_wait_not_fail(rsim, cli):
    sim = rsim(connections=10, inline_backfills=False)
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    sim.add_connection()

    # what `cja-sync health` does, held for longer than any open of the sync
    reader = duckdb.connect(opts.duckdb_path, read_only=True)
    proc = cli.spawn(rel_values(sim))
    time.sleep(3)
    reader.close()
    code, _, err = cli.collect(proc)
    assert code == 0, err
    assert [s for s, _ in runs(opts)] == ["succeeded", "succeeded"]
    assert_matches_truth(opts, sim.truth())


def test_health_during_a_sync_says_so_in_one_line(rsim, cli, tmp_path: Path, monkeypatch):
    from cja_sync.cli import main

    sim = rsim(connections=10, inline_backfills=False)
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    sim.add_connection()
    marker = tmp_path / "paused"
    # paused right after the merge of `connections`, its DuckDB connection open
    proc = cli.spawn(rel_values(sim), CJA_TEST_PAUSE=f"job=connections.sql:{marker}")
    _wait(marker.exists, proc)

    monkeypatch.setenv("CJA_DUCKDB_READER_WAIT_SECONDS", "1")
    cli.capfd.readouterr()
    code = main(["health", "--duckdb-path", opts.duckdb_path, "--pipelines-dir", opts.pipelines_dir])
    _, err = cli.capfd.readouterr()
    os.kill(proc.pid, signal.SIGKILL)
    cli.collect(proc)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "a cja-sync run is writing this DuckDB file" in lines[0], err

    # and the sync after the killed one is exact
    run_sync(rel_settings(sim), opts)
    assert_matches_truth(opts, sim.truth())


def test_two_writers_with_different_pipelines_dirs_into_one_postgres_schema(rsim, cli, pg_opts):
    sim = rsim(connections=10, inline_backfills=False)
    opts = pg_opts(pipelines_dir=cli.pipelines_dir)
    values = rel_values(sim)
    run_sync(rel_settings(sim), opts)
    sim.modify_connection(sorted(sim.truth().connections)[0], name="changed between runs")

    sim.faults.set(latency_ms=(100, 100))
    sim.reset_counters()
    target = ["--destination", "postgres", "--dataset-name", opts.dataset_name]
    first = cli.spawn(
        values, *target, DESTINATION__POSTGRES__CREDENTIALS=os.environ["DESTINATION__POSTGRES__CREDENTIALS"]
    )
    _wait(lambda: sim.count("list") >= 1, first)
    # the same schema from another machine: another pipelines dir, another lock file
    code, _, err = cli.run(values, *target, "--pipelines-dir", str(Path(cli.pipelines_dir) / "other"))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "another cja-sync run is writing postgres" in lines[0], err

    code, _, err = cli.collect(first, timeout=120)
    assert code == 0, err
    sim.faults.reset()
    assert_matches_truth(opts, sim.truth())
    assert_history_exact(opts, sim.truth())
    from ..helpers import query

    versions = query(opts, "SELECT COUNT(*) FROM {t}connections_history")[0][0]
    assert versions == len(sim.truth().connections) + 1
    assert [s for s, _ in runs(opts)] == ["succeeded", "succeeded"]  # the refused run wrote nothing
