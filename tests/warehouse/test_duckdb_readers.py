"""DuckDB files as BI tools meet them: DuckDB 1.4 LTS opens what a sync leaves, a reader that keeps
the file open never stops the next sync, and a file in a newer storage format is named and, on
request, converted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cja_source.simulator.settings import settings_values
from cja_sync.run.sync import run_sync
from cja_sync.warehouse.duckdb_file import readable_by_1_4, storage_number, working_path

from ..helpers import FAST, env_for, fast_settings, query
from ..truth_compare import assert_matches_truth

# every relation of the dataset with its row count and the comments on it, as JSON on stdout
READ_ALL = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
names = con.execute(
    "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'cja' ORDER BY 1"
).fetchall()
out = {"version": duckdb.__version__, "relations": {}}
for name, kind in names:
    n = con.execute(f'SELECT COUNT(*) FROM cja."{name}"').fetchone()[0]
    out["relations"][name] = {"kind": kind, "rows": n}
print(json.dumps(out))
"""

# holds a read-only connection, prints what it sees, then what it sees after a line on stdin
HOLD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
count = "SELECT COUNT(*) FROM cja.sync_runs WHERE status = 'succeeded'"
print(con.execute(count).fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute(count).fetchone()[0], flush=True)
con.close()  # DuckDB shares one instance per path within a process while a connection is open
print(duckdb.connect(sys.argv[1], read_only=True).execute(count).fetchone()[0], flush=True)
"""


def _read_all(python: Path, path: str) -> dict:
    done = subprocess.run([str(python), "-c", READ_ALL, path], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_duckdb_1_4_reads_every_table_and_view(make_sim, duckdb_opts, duckdb14):
    sim = make_sim(connections=30)
    opts = duckdb_opts()
    run_sync(fast_settings(sim), opts)
    assert storage_number(Path(opts.duckdb_path)) in range(64, 68)
    seen = _read_all(duckdb14, opts.duckdb_path)
    assert seen["version"].startswith("1.4.")
    ours = _read_all(Path(sys.executable), opts.duckdb_path)
    assert seen["relations"] == ours["relations"]
    kinds = {r["kind"] for r in seen["relations"].values()}
    assert kinds == {"BASE TABLE", "VIEW"}
    assert seen["relations"]["connections"]["rows"] == 30
    assert seen["relations"]["connection_health"]["rows"] == 30
    assert seen["relations"]["backfills"]["rows"] > 100


def test_reader_holding_the_file_never_stops_a_sync(make_sim, duckdb_opts, duckdb14, monkeypatch):
    # a writer that had to wait for this reader would give up after 3 s instead of 120
    monkeypatch.setenv("CJA_SYNC__DUCKDB_WRITER_WAIT_SECONDS", "3")
    sim = make_sim(connections=30)
    opts = duckdb_opts()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    reader = subprocess.Popen(
        [str(duckdb14), "-c", HOLD, opts.duckdb_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "1"
        cid, dsid = sim.pick(statuses=("IN_PROGRESS",))
        changed = next(
            b for b in sim.backfill_ids(cid, dsid) if sim.truth().backfills[b]["status"] == "IN_PROGRESS"
        )
        sim.set_backfill_status(changed, "FAILED")
        for _ in range(2):  # two syncs while the reader holds its connection
            assert run_sync(cfg, opts).status == "succeeded"
        reader.stdin.write("go\n")
        reader.stdin.flush()
        out, err = reader.communicate(timeout=60)
    finally:
        reader.kill()
    held, reconnected = out.split()
    assert held == "1", err  # the open connection keeps the state it opened, whole
    assert reconnected == "3", err  # a reader that reconnects sees the latest sync
    assert_matches_truth(opts, sim.truth())
    quoted = changed.replace("'", "''")
    status = query(opts, f"SELECT status FROM {{t}}backfills WHERE id = '{quoted}'")
    assert status == [("FAILED",)]


def test_health_reads_while_a_sync_writes(make_sim, duckdb_opts, tmp_path):
    """`health` opens the published file: a sync in progress (its working file open read-write)
    does not make it wait, and it answers from the last published sync."""
    sim = make_sim(connections=20)
    opts = duckdb_opts()
    run_sync(fast_settings(sim), opts)
    work = working_path(Path(opts.duckdb_path))
    writer = duckdb.connect(str(work))  # what a sync holds while it loads
    try:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cja_sync.commands.cli",
                "health",
                "--json",
                "--duckdb-path",
                opts.duckdb_path,
                "--pipelines-dir",
                str(tmp_path / "readers"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        waited = time.monotonic() - started
    finally:
        writer.close()
    assert done.returncode in (0, 3), done.stderr
    assert json.loads(done.stdout)["orgs"][0]["connections"] == 20
    assert waited < 60, "health waited for the writer"


def test_newer_storage_is_named_and_converted_on_request(
    make_sim, duckdb_opts, duckdb14, monkeypatch, capsys
):
    from cja_sync.commands.cli import main

    sim = make_sim(connections=15)
    opts = duckdb_opts()
    for key, value in env_for(settings_values(sim, **FAST)).items():
        monkeypatch.setenv(key, value)
    argv = ["--duckdb-path", opts.duckdb_path, "--pipelines-dir", opts.pipelines_dir]
    # a warehouse as DuckDB 2.x writes by default (and as 0.2.0 left it)
    monkeypatch.setenv("CJA_SYNC__DUCKDB_STORAGE_VERSION", "latest")
    assert main(["run", *argv]) == 0
    published = Path(opts.duckdb_path)
    assert not readable_by_1_4(published)
    out = capsys.readouterr().out
    assert "--convert-storage" in out and "DuckDB 1.x" in out
    monkeypatch.delenv("CJA_SYNC__DUCKDB_STORAGE_VERSION")
    assert main(["run", *argv]) == 0  # still works, still says so
    assert "--convert-storage" in capsys.readouterr().out
    assert main(["run", "--convert-storage", *argv]) == 0
    assert "--convert-storage" not in capsys.readouterr().out
    assert readable_by_1_4(published)
    seen = _read_all(duckdb14, opts.duckdb_path)
    assert seen["relations"]["connections"]["rows"] == 15
    assert seen["relations"]["sync_runs"]["rows"] == 3
    assert_matches_truth(opts, sim.truth())


@pytest.mark.parametrize("version", ["v0.0.1-bogus", "v1.4.0; DROP TABLE x"])
def test_bad_storage_version_is_a_configuration_error(make_sim, duckdb_opts, monkeypatch, version):
    from cja_source.errors import ConfigurationError

    monkeypatch.setenv("CJA_SYNC__DUCKDB_STORAGE_VERSION", version)
    sim = make_sim(connections=3)
    with pytest.raises(ConfigurationError, match="duckdb_storage_version"):
        run_sync(fast_settings(sim), duckdb_opts())


def test_users_view_in_the_published_file_survives_syncs(make_sim, duckdb_opts):
    """A view a user adds to the file they were given is kept: the next sync notices the published
    file changed, continues from it, and publishes it with the view."""
    sim = make_sim(connections=12)
    opts = duckdb_opts()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    with duckdb.connect(opts.duckdb_path) as con:
        con.execute(
            "CREATE VIEW cja.my_unhealthy AS SELECT connection_id, worst_status "
            "FROM cja.connection_health WHERE worst_status <> 'HEALTHY'"
        )
        before = con.execute("SELECT COUNT(*) FROM cja.my_unhealthy").fetchone()[0]
    for i, full in enumerate((False, True, False), start=1):
        opts.full = full
        sim.add_connection()
        assert run_sync(cfg, opts).status == "succeeded"
        assert query(opts, "SELECT COUNT(*) FROM {t}connection_health")[0][0] == 12 + i
        assert query(opts, "SELECT COUNT(*) FROM {t}my_unhealthy")[0][0] >= before
    assert_matches_truth(opts, sim.truth())
