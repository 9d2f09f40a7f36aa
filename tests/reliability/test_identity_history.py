"""Pipeline identity and crash idempotence of history.

Real `cja-sync run` subprocesses, real `kill -9`: a run killed for one org/warehouse never leaks
into a run for another, and a kill after any load job (copy into staging, the merge, the scd2
merge of `connections_history`) leaves every table exact, history included, after the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cja_sync.run.sync import RunOptions, run_sync

from ..helpers import query
from ..truth_compare import assert_matches_truth
from .helpers import CLIENT_ID, CLIENT_SECRET, HOOKED_CLI, rel_settings, rel_values, runs
from .test_crash import _wait

ORG_B = "REL0B0B0B0B0B0B0B0B0B0B0B@AdobeOrg"


def assert_history_exact(opts: Any, truth: Any) -> None:
    """One open version per live connection, none for a deleted one, no duplicate version."""
    t = "{t}connections_history"
    dups = query(
        opts,
        f"SELECT connection_id, version_hash, valid_from, COUNT(*) FROM {t} "
        "GROUP BY connection_id, version_hash, valid_from HAVING COUNT(*) > 1",
    )
    assert dups == [], f"duplicate history versions: {dups[:3]}"
    open_ = query(
        opts, f"SELECT connection_id, COUNT(*) FROM {t} WHERE valid_to IS NULL GROUP BY connection_id"
    )
    assert all(n == 1 for _, n in open_), [r for r in open_ if r[1] != 1][:3]
    assert {c for c, _ in open_} == set(truth.connections)


def test_a_killed_run_for_one_org_never_loads_into_another_warehouse(rsim, cli, tmp_path: Path):
    from cja_source.simulator import SimConfig, Simulator

    sim_a = rsim(connections=12, inline_backfills=False)
    sim_b = Simulator(
        SimConfig(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            org_id=ORG_B,
            seed=99,
            connections=5,
            rate_limit=None,
            max_datasets_per_connection=3,
        )
    )
    sim_b.start()
    cli.guard.sims.append(sim_b)
    pipelines = str(tmp_path / "shared-pipelines")
    a_db, b_db = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb")

    # org A into a.duckdb, killed once extract has written its package (paused inside normalize)
    marker = tmp_path / "paused"
    args = ["run", "--duckdb-path", a_db, "--pipelines-dir", pipelines]
    (tmp_path / "home").mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, str(HOOKED_CLI), *args],
        env=cli.subprocess_env(rel_values(sim_a), CJA_TEST_PAUSE=f"normalize:{marker}"),
        cwd=str(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait(marker.exists, proc)
    os.kill(proc.pid, signal.SIGKILL)
    cli.collect(proc)

    # org B into b.duckdb with the same pipelines dir: only org B's data, and no word of A's package
    opts_b = RunOptions(duckdb_path=b_db, pipelines_dir=pipelines)
    summary = run_sync(rel_settings(sim_b, credentials={"org_id": ORG_B}), opts_b)
    assert summary.status == "succeeded"
    assert summary.pipeline.startswith("cja_") and summary.pipeline != "cja"
    assert_matches_truth(opts_b, sim_b.truth())
    orgs = query(opts_b, "SELECT DISTINCT org_id FROM {t}connections_history")
    assert orgs == [(ORG_B,)]

    # org A's next run finishes its own package and is exact
    opts_a = RunOptions(duckdb_path=a_db, pipelines_dir=pipelines)
    assert run_sync(rel_settings(sim_a), opts_a).status == "succeeded"
    assert_matches_truth(opts_a, sim_a.truth())
    assert_history_exact(opts_a, sim_a.truth())


# the copy of each merge table into its staging table, and the merges that follow (scd2 for history)
DUCKDB_STEPS = [
    "job=connections_history.parquet",
    "job=connections_history.sql",
    "job=connections.parquet",
    "job=connections.sql",
    "job=backfills.sql",
    "load",
    "reconcile",
]


@pytest.mark.parametrize("step", DUCKDB_STEPS)
def test_kill_9_at_each_load_step_duckdb(rsim, cli, tmp_path: Path, step: str):
    _kill_at_step_then_exact(rsim, cli, tmp_path, step, cli.opts(), [])


PG_STEPS = ["job=connections_history.insert_values", "job=connections_history.sql", "job=backfills.sql"]


@pytest.mark.parametrize("step", PG_STEPS)
def test_kill_9_at_each_load_step_postgres(rsim, cli, pg_opts, tmp_path: Path, step: str):
    opts = pg_opts(pipelines_dir=cli.pipelines_dir)
    extra = ["--destination", "postgres", "--dataset-name", opts.dataset_name]
    _kill_at_step_then_exact(rsim, cli, tmp_path, step, opts, extra)


def _kill_at_step_then_exact(rsim, cli, tmp_path, step, opts, extra) -> None:
    sim = rsim(connections=12, inline_backfills=False)
    marker = tmp_path / "paused"
    env = {"CJA_TEST_PAUSE": f"{step}:{marker}"}
    if opts.destination == "postgres":
        env["DESTINATION__POSTGRES__CREDENTIALS"] = os.environ["DESTINATION__POSTGRES__CREDENTIALS"]
    # the first run is the one killed: every version is new, so a replayed staging copy would
    # duplicate all of them. reconcile runs after a load, so there the killed run is a second one
    # that has a deletion to mark.
    before: list[str] = []
    deleted = None
    if step == "reconcile":
        run_sync(rel_settings(sim), opts)
        before = ["succeeded"]
        deleted = sorted(sim.truth().connections)[-1]
        sim.delete_connection(deleted)
    proc = cli.spawn(rel_values(sim), *extra, **env)
    _wait(marker.exists, proc, timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    assert cli.collect(proc)[0] == -signal.SIGKILL

    summary = run_sync(rel_settings(sim), opts)
    assert summary.status == "succeeded"
    assert_matches_truth(opts, sim.truth())
    assert_history_exact(opts, sim.truth())
    assert [s for s, _ in runs(opts)] == [*before, "failed", "succeeded"]
    marked = query(opts, "SELECT id FROM {t}connections WHERE deleted_in_source_at IS NOT NULL")
    assert marked == ([(deleted,)] if deleted else [])

    # a change after recovery is one new version, and connection_changes reports it
    cid = sorted(sim.truth().connections)[0]
    sim.modify_connection(cid, name="renamed after the crash")
    run_sync(rel_settings(sim), opts)
    assert_history_exact(opts, sim.truth())
    where = f"WHERE connection_id = '{cid}'"
    versions = query(opts, "SELECT COUNT(*) FROM {t}connections_history " + where)
    assert versions == [(2,)]
    changes = query(
        opts,
        "SELECT new_value FROM {t}connection_changes " + where + " AND field = 'name'",
    )
    assert ("renamed after the crash",) in changes


def test_duplicates_left_by_an_earlier_version_are_repaired(rsim, cli):
    sim = rsim(connections=8, inline_backfills=False)
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    import duckdb

    with duckdb.connect(opts.duckdb_path) as db:
        # what the old tool left after a replayed staging copy: each version twice
        db.execute("INSERT INTO cja.connections_history SELECT * FROM cja.connections_history")
    summary = run_sync(rel_settings(sim), opts)
    assert summary.repaired["history_duplicates_removed"] == len(sim.truth().connections)
    assert_history_exact(opts, sim.truth())


def test_a_warehouse_synced_under_the_old_pipeline_name_keeps_working(rsim, cli):
    """Earlier versions named every pipeline `cja`: the first run under the derived name finds the
    tables, the history and the sync_runs rows where they are and stays exact."""
    sim = rsim(connections=8, inline_backfills=False)
    old = cli.opts(pipeline_name="cja")
    run_sync(rel_settings(sim), old)
    sim.modify_connection(sorted(sim.truth().connections)[0], name="renamed after the upgrade")
    sim.add_connection()
    opts = cli.opts()
    summary = run_sync(rel_settings(sim), opts)
    assert summary.pipeline != "cja"
    assert_matches_truth(opts, sim.truth())
    assert_history_exact(opts, sim.truth())
    versions = query(opts, "SELECT COUNT(*) FROM {t}connections_history")[0][0]
    assert versions == len(sim.truth().connections) + 1
    assert [s for s, _ in runs(opts)] == ["succeeded", "succeeded"]
