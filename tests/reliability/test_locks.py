"""One writer per warehouse, one run per org, readers welcome: a DuckDB reader never makes a sync
fail, a reader that meets a sync says so in one line, and a second run of one org from another
pipelines directory (another machine) exits 1 at once without touching history, or waits for the
first with --wait; either way each backfill status change is recorded once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cja_sync.run.sync import run_sync

from ..helpers import query
from ..status_changes import assert_each_status_change_once, change_backfill_statuses
from ..truth_compare import assert_matches_truth
from .helpers import HOOKED_CLI, ORG_ID, rel_settings, rel_values, runs
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


def test_health_during_a_sync_answers_from_the_last_published_sync(rsim, cli, tmp_path: Path, monkeypatch):
    """A sync paused in the middle of its load (connections merged, the rest not) holds its working
    file; `health` reads the published one at once and sees the previous sync whole."""
    from cja_sync.commands.cli import main

    sim = rsim(connections=10, inline_backfills=False)
    opts = cli.opts()
    run_sync(rel_settings(sim), opts)
    sim.add_connection()
    marker = tmp_path / "paused"
    # paused right after the merge of `connections`, its DuckDB connection open
    proc = cli.spawn(rel_values(sim), CJA_TEST_PAUSE=f"job=connections.sql:{marker}")
    _wait(marker.exists, proc)

    monkeypatch.setenv("CJA_SYNC__DUCKDB_READER_WAIT_SECONDS", "1")
    cli.capfd.readouterr()
    where = ["--duckdb-path", opts.duckdb_path, "--pipelines-dir", opts.pipelines_dir, "--json"]
    code = main(["health", *where])
    out, err = cli.capfd.readouterr()
    os.kill(proc.pid, signal.SIGKILL)
    cli.collect(proc)
    assert code == 0, err
    assert json.loads(out)["orgs"][0]["connections"] == 10  # not the 11th the paused load merged

    # and the sync after the killed one is exact, and published
    run_sync(rel_settings(sim), opts)
    assert_matches_truth(opts, sim.truth())
    assert main(["health", *where]) == 0
    assert json.loads(cli.capfd.readouterr().out)["orgs"][0]["connections"] == 11


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_a_second_run_of_one_org_from_another_pipelines_dir_exits_at_once_or_waits(
    rsim, cli, request, tmp_path: Path, destination: str
):
    sim = rsim(connections=10, inline_backfills=False)
    values = rel_values(sim)
    if destination == "postgres":
        opts = request.getfixturevalue("pg_opts")(pipelines_dir=cli.pipelines_dir)
        target = ["--destination", "postgres", "--dataset-name", opts.dataset_name]
        env = {"DESTINATION__POSTGRES__CREDENTIALS": os.environ["DESTINATION__POSTGRES__CREDENTIALS"]}
    else:
        opts, target, env = cli.opts(), [], {}
    run_sync(rel_settings(sim), opts)
    sim.modify_connection(sorted(sim.truth().connections)[0], name="changed between runs")
    changed = change_backfill_statuses(sim)

    sim.faults.set(latency_ms=(100, 100))
    sim.reset_counters()
    first = cli.spawn(values, *target, **env)
    _wait(lambda: sim.count("list") >= 1, first)
    # frozen inside its extract, its locks held, until the other two runs have met them
    os.kill(first.pid, signal.SIGSTOP)
    try:
        # the same org from other machines: other pipelines dirs, other pipeline lock files
        started = time.monotonic()
        code, _, err = cli.run(values, *target, "--pipelines-dir", str(tmp_path / "machine-2"))
        refused_in = time.monotonic() - started
        log = tmp_path / "machine-3.log"
        waiter = _spawn_logged(
            cli, values, log, *target, "--pipelines-dir", str(tmp_path / "machine-3"), "--wait", "60", **env
        )
        _until(lambda: "waiting up to" in log.read_text() or waiter.poll() is not None)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    sim.faults.reset()
    assert code == 1 and refused_in < 10, (refused_in, err)
    lines = err.strip().splitlines()
    busy = f"another cja-sync run is writing {destination} "
    assert len(lines) == 1 and busy in lines[0] and f"for org {ORG_ID}; wait for it to finish" in lines[0], (
        err
    )

    code, _, err = cli.collect(first, timeout=120)
    assert code == 0, err
    assert waiter.wait(timeout=120) == 0, log.read_text()
    waited = log.read_text().strip().splitlines()
    assert len(waited) == 1 and busy in waited[0] and "waiting up to 60 s" in waited[0], waited
    cli.guard.texts.append(waiter.communicate()[0])

    # the refused run wrote nothing; the waiting one started after the first had finished
    assert [s for s, _ in runs(opts)] == ["succeeded"] * 3
    (_, first_end), (second_start, _) = query(
        opts, "SELECT started_at, finished_at FROM {t}sync_runs ORDER BY started_at"
    )[1:]
    assert second_start > first_end
    assert_each_status_change_once(opts, changed)
    assert_matches_truth(opts, sim.truth())
    assert_history_exact(opts, sim.truth())
    versions = query(opts, "SELECT COUNT(*) FROM {t}connections_history")[0][0]
    assert versions == len(sim.truth().connections) + 1


def _spawn_logged(cli, values, log: Path, *extra: str, **env: str) -> subprocess.Popen[str]:
    """cli.spawn with stderr in `log`, to be read while the run waits."""
    (cli.tmp_path / "home").mkdir(exist_ok=True)
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, str(HOOKED_CLI), *cli.args(*extra)],
            env=cli.subprocess_env(values, **env),
            cwd=str(cli.tmp_path),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def _until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "soon"])
def test_wait_takes_a_finite_number_of_seconds(cli, value: str):
    from cja_sync.commands.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["run", "--wait", value])
    assert exit_.value.code == 2
    lines = cli.capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--wait" in lines[0] and "seconds" in lines[0], lines
