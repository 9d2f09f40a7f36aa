"""`cja_source()` as a dlt user composes it: settings from the environment only, a plain
`dlt.pipeline(...).run(...)`, the README's finishing call, then `cja-sync health` on that file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cja_source.simulator.settings import settings_values

from ..helpers import env_for

# The README's "Use it from your own dlt pipeline" snippet, as written there.
RUN = (
    "import dlt; from cja_source import cja_source; "
    "dlt.pipeline('p', destination='duckdb', dataset_name='cja').run(cja_source())"
)
FINISH = (
    "import dlt; from cja_sync import finish_sync; "
    "finish_sync(dlt.pipeline('p', destination='duckdb', dataset_name='cja'))"
)


def _env(sim: Any, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(
        env_for(settings_values(sim, page_size=10)),
        # dlt's pipelines dir (~/.dlt or, for root, /var/dlt): one of our own
        DLT_DATA_DIR=str(workdir / "dlt"),
        RUNTIME__LOG_LEVEL="ERROR",
    )
    return env


def _python(code: str, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_plain_dlt_pipeline_is_incremental_and_health_reads_it(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim(connections=25)
    env = _env(sim, tmp_path)
    _python(RUN, tmp_path, env)
    first = sim.count("backfills") + sim.count("list")
    assert first > 0

    sim.reset_counters()
    _python(RUN, tmp_path, env)
    assert sim.count("backfills") == 0, "a re-run with nothing changed asked backfill lists"

    # a connection deleted at the source: the finishing call marks it
    gone = sim.connection_ids()[0]
    sim.delete_connection(gone)
    _python(RUN, tmp_path, env)
    _python(FINISH, tmp_path, env)

    truth_backfills = sum(
        len(sim.backfill_ids(cid, dsid)) for cid in sim.connection_ids() for dsid in sim.dataset_ids(cid)
    )
    with duckdb.connect(str(tmp_path / "p.duckdb"), read_only=True) as db:
        stored = db.sql(
            "SELECT count(*) FROM cja.backfills b JOIN cja.connections c ON c.id = b.connection_id "
            "WHERE c.deleted_in_source_at IS NULL"
        ).fetchall()[0][0]
        assert stored == truth_backfills
        deleted = db.sql("SELECT id FROM cja.connections WHERE deleted_in_source_at IS NOT NULL").fetchall()
        assert [r[0] for r in deleted] == [gone if gone.startswith("dg_") else f"dg_{gone}"]
        # every table of the contract exists, even one with no row
        tables = {
            r[0]
            for r in db.sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cja'"
            ).fetchall()
        }
        for table in (
            "configured_containers",
            "dataset_container_fields",
            "connection_validation_errors",
            "sync_runs",
        ):
            assert table in tables
        assert db.sql("SELECT status FROM cja.sync_runs").fetchall() == [("succeeded",)]

    health = subprocess.run(
        [sys.executable, "-m", "cja_sync.commands.cli", "health", "--duckdb-path", "p.duckdb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert health.returncode in (0, 3), health.stderr


@pytest.mark.parametrize("missing", ["SOURCES__CJA__CREDENTIALS__CLIENT_SECRET"])
def test_plain_pipeline_names_a_missing_secret(make_sim: Any, tmp_path: Path, missing: str) -> None:
    env = _env(make_sim(connections=3), tmp_path)
    del env[missing]
    done = subprocess.run([sys.executable, "-c", RUN], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "client_secret" in done.stderr
