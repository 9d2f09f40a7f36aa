"""`kill -9` inside each phase of a run, and two runs at once: the next run completes and the
warehouse is exact; sync_runs tells what happened to the killed run.

How each phase is hit reliably: `cja-sync run` runs as a subprocess (hooked_cli.py) against a
simulator in this process. Extract: the simulator answers slowly and the test kills once the
listing has been asked for. Normalize and load: hooked_cli.py pauses at a fixed point inside dlt's
phase (see its docstring) after writing a marker file; the test kills when the marker appears.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cja_sync.run.sync import run_sync

from ..helpers import query
from ..truth_compare import assert_matches_truth
from .helpers import rel_settings, rel_values, runs


def _wait(predicate, proc, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the run ended (exit {proc.returncode}) before the kill: {err[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the run never reached the phase to kill")
        time.sleep(0.02)


@pytest.mark.parametrize("phase", ["extract", "normalize", "load"])
def test_kill_9_then_next_run_is_exact(rsim, cli, tmp_path: Path, phase: str):
    sim = rsim(inline_backfills=False)
    values = rel_values(sim)
    opts = cli.opts()
    # a first good run, so the killed run is an incremental one over existing tables
    run_sync(rel_settings(sim), opts)
    sim.add_connection()
    cid = sim.connection_ids()[0]
    sim.delete_connection(cid)
    bid = next(b for b in sim.truth().backfills if sim.truth().backfills[b]["status"] != "COMPLETED")
    sim_status_before = sim.truth().backfills[bid]["status"]
    sim.set_backfill_status(bid, "COMPLETED")

    marker = tmp_path / f"paused-in-{phase}"
    if phase == "extract":
        sim.faults.set(latency_ms=(150, 150))
        sim.reset_counters()
        proc = cli.spawn(values)
        _wait(lambda: sim.count("list") >= 1, proc)
        time.sleep(0.2)
    else:
        proc = cli.spawn(values, CJA_TEST_PAUSE=f"{phase}:{marker}")
        _wait(marker.exists, proc)
    os.kill(proc.pid, signal.SIGKILL)
    code, _, _ = cli.collect(proc)
    assert code == -signal.SIGKILL

    sim.faults.reset()
    summary = run_sync(rel_settings(sim), opts)
    assert summary.status == "succeeded"
    assert_matches_truth(opts, sim.truth())
    # the killed run is recorded as failed (interrupted), not left 'running' forever
    statuses = runs(opts)
    assert [s for s, _ in statuses] == ["succeeded", "failed", "succeeded"], statuses
    assert "interrupted" in statuses[1][1]
    # what the syncs observe over time is neither lost nor doubled by the replayed load
    changes = query(
        opts, f"SELECT from_status, to_status FROM {{t}}backfill_status_changes WHERE backfill_id = '{bid}'"
    )
    assert [c for c in changes if c[1] == "COMPLETED"] == [(sim_status_before, "COMPLETED")]
    doubled = query(
        opts,
        "SELECT connection_id, observed_at FROM {t}connection_volume_history "
        "GROUP BY 1, 2 HAVING COUNT(*) > 1",
    )
    assert doubled == []
    # and a run after that one is still exact and asks for no backfill list
    sim.reset_counters()
    run_sync(rel_settings(sim), opts)
    assert sim.count("backfills") == 0, sim.counters()
    assert_matches_truth(opts, sim.truth())


def test_two_runs_at_once_second_exits_with_a_message(rsim, cli):
    sim = rsim(inline_backfills=False)
    values = rel_values(sim)
    sim.faults.set(latency_ms=(100, 100))
    first = cli.spawn(values)
    _wait(lambda: sim.count("list") >= 1, first)

    # another pipelines dir (another user, another checkout): the lock belongs to the warehouse
    code, out, err = cli.run(values, "--pipelines-dir", cli.pipelines_dir + "-other")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "another cja-sync run is writing duckdb" in lines[0], err
    assert "Traceback" not in err

    code, _, err = cli.collect(first)
    assert code == 0, err
    opts = cli.opts()
    sim.faults.reset()
    assert_matches_truth(opts, sim.truth())
    assert runs(opts) == [("succeeded", None)]  # the refused run touched nothing


def test_package_that_can_no_longer_load_is_dropped_and_the_run_is_full(rsim, cli, tmp_path: Path):
    """A run killed inside load leaves a package whose schema was already applied; if the DuckDB
    file is then replaced, that package cannot load anywhere. It must not block every later run:
    the next run drops it, refetches every backfill list and leaves the new warehouse exact."""
    sim = rsim(inline_backfills=False)
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    bid = next(b for b, v in sim.truth().backfills.items() if v["status"] != "COMPLETED")
    sim.set_backfill_status(bid, "COMPLETED")
    marker = tmp_path / "paused-in-load"
    proc = cli.spawn(rel_values(sim), CJA_TEST_PAUSE=f"load:{marker}")
    _wait(marker.exists, proc)
    os.kill(proc.pid, signal.SIGKILL)
    cli.collect(proc)
    Path(opts.duckdb_path).unlink()

    sim.reset_counters()
    summary = run_sync(rel_settings(sim), opts)
    assert summary.status == "succeeded" and summary.full is True
    pairs = sum(1 for d in sim.truth().datasets.values() if d["backfillSummary"]["total"])
    assert summary.backfill_pairs["fetch"] == pairs
    assert_matches_truth(opts, sim.truth())
    sim.reset_counters()
    assert run_sync(rel_settings(sim), opts).full is False
    assert sim.count("backfills") == 0
