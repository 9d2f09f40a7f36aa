"""One run per org per warehouse, whoever starts it: two Dagster materializations of one org's
partition, each with its own pipelines dir (two worker containers), never overlap, and a fleet run
skips an org that another run holds while its other orgs go on. Each backfill status change is
recorded once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cja_sync.commands.cli import main
from cja_sync.run.identity import target_of
from cja_sync.run.locks import run_locks, warehouse_lock
from cja_sync.warehouse.pipeline import make_pipeline
from tests.fleet.conftest import ORGS, run_args
from tests.helpers import query
from tests.status_changes import assert_each_status_change_once, change_backfill_statuses
from tests.truth_compare import assert_matches_truth

dagster = pytest.importorskip("dagster")

EMEA, US = ORGS["emea"]["org_id"], ORGS["us"]["org_id"]


def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _other_writer(opts: Any, tmp_path: Path) -> Any:
    """A pipeline of another process writing the same warehouse (its own pipelines dir)."""
    return make_pipeline(replace(opts, pipeline_name="cja_test_other", pipelines_dir=str(tmp_path / "other")))


@pytest.mark.parametrize("destination", ["postgres", "duckdb"])
def test_two_materializations_of_one_org_partition_never_overlap(
    two_orgs: dict[str, Any],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    destination: str,
) -> None:
    from cja_sync.orchestration.dagster_defs import ASSET, CJAWarehouse, build_definitions

    opts = request.getfixturevalue("pg_opts" if destination == "postgres" else "duckdb_opts")()
    sim = two_orgs["emea"]

    def worker(name: str, org_wait: float = 0.0) -> Callable[[], Any]:
        """A materialization of emea's partition as a worker container runs it: its own pipelines
        dir; no retries (the RetryPolicy's first retry is a minute away)."""
        warehouse = CJAWarehouse(
            destination=destination,
            duckdb_path=opts.duckdb_path,
            dataset_name=opts.dataset_name,
            pipelines_dir=str(tmp_path / name),
            turn_wait_seconds=60,
            org_wait_seconds=org_wait,
        )
        asset_def = build_definitions(["emea"], warehouse=warehouse, retries=0).resolve_assets_def(ASSET)
        return lambda: dagster.materialize([asset_def], partition_key="emea", raise_on_error=False)

    assert worker("worker-0")().success
    changed = change_backfill_statuses(sim)
    sim.faults.set(latency_ms=(300, 300))
    sim.reset_counters()
    caplog.set_level(logging.WARNING, logger="cja_sync")
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(worker("worker-1"))
        _until(lambda: sim.count("list") >= 1 or first.done())
        # another org's writer holds the warehouse: worker-1 extracts, then waits for its load turn
        # with emea's run lock held, for as long as the test needs it to
        with warehouse_lock(target_of(opts), _other_writer(opts, tmp_path)):
            sim.faults.reset()
            refused = worker("worker-2")()
            waiter = pool.submit(worker("worker-3", org_wait=60))
            _until(lambda: "waiting up to 60 s" in caplog.text or waiter.done())
            assert not first.done()
        assert first.result().success
        assert waiter.result().success

    assert not refused.success
    failure = refused.get_step_failure_events()[0].step_failure_data
    # Dagster's RetryPolicy takes it (another attempt later); with retries=0 it has none left
    assert failure.error is not None and failure.error.cls_name == "RetryRequestedFromPolicy"
    assert failure.user_failure_data is not None
    message = str(failure.user_failure_data.description)
    assert message.startswith(f"org emea: another cja-sync run is writing {destination} "), message
    assert message.endswith(f"for org {EMEA}; wait for it to finish"), message

    # the refused attempt wrote nothing; the waiting one started after the first had finished
    runs = query(opts, "SELECT status, started_at, finished_at FROM {t}sync_runs ORDER BY started_at")
    assert [status for status, _, _ in runs] == ["succeeded"] * 3
    assert runs[2][1] > runs[1][2]
    assert_each_status_change_once(opts, changed)
    assert_matches_truth(opts, sim.truth(), EMEA)


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_a_fleet_skips_an_org_another_run_holds_and_syncs_the_others(
    two_orgs: dict[str, Any],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    destination: str,
) -> None:
    opts = request.getfixturevalue("pg_opts" if destination == "postgres" else "duckdb_opts")()
    target, other = target_of(opts), _other_writer(opts, tmp_path)
    # emea is being synced elsewhere: an orchestrator worker between two of its warehouse steps
    with run_locks(target, other, EMEA, whole_run=False):
        assert main(run_args(opts)) == 1
    out, err = capsys.readouterr()
    assert "fleet: 1 of 2 orgs synced; failed: emea" in out
    reason = [line for line in err.splitlines() if line.startswith("cja-sync: org emea: ")]
    assert len(reason) == 1, err
    assert f"another cja-sync run is writing {destination} " in reason[0]
    assert reason[0].endswith(f"for org {EMEA}; wait for it to finish")
    assert_matches_truth(opts, two_orgs["us"].truth(), US)
    assert query(opts, "SELECT org_id, status FROM {t}sync_runs") == [(US, "succeeded")]

    # with --wait the fleet waits for that run to end, then syncs every org
    held, release = threading.Event(), threading.Event()

    def elsewhere() -> None:
        with run_locks(target, other, EMEA, whole_run=False):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    held.wait(30)
    caplog.set_level(logging.WARNING, logger="cja_sync")
    threading.Timer(1.0, release.set).start()
    assert main([*run_args(opts), "--wait", "30"]) == 0
    thread.join()
    assert f"for org {EMEA}; waiting up to 30 s for it to finish" in caplog.text
    for name, org in ORGS.items():
        assert_matches_truth(opts, two_orgs[name].truth(), org["org_id"])
