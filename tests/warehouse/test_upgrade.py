"""A warehouse written by release 0.2.0 syncs exactly after the upgrade, on DuckDB and Postgres:
views and comments brought up to date in place, the single-row health_settings made per org, and
`health` reads it. The release runs from its own wheel (scripts/release_venv.sh builds it from the
tag); CI runs these with `-m upgrade` after building it (scripts/ci_extra.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator.settings import settings_values
from cja_source.version import __version__
from cja_sync.run.sync import run_sync
from cja_sync.warehouse.duckdb_file import working_path

from ..helpers import FAST, PG_URL, env_for, fast_settings, query
from ..truth_compare import assert_matches_truth
from .test_postgres_contract import open_backfill

pytestmark = pytest.mark.upgrade
REPO = Path(__file__).resolve().parents[2]
RELEASE = "0.2.0"


@pytest.fixture(scope="module")
def old_cli() -> Path:
    cli = Path(os.environ.get("CJA_TEST_RELEASE_VENV", REPO / f".venv-{RELEASE}")) / "bin" / "cja-sync"
    if not cli.exists():
        message = f"no cja-sync {RELEASE} at {cli}: bash scripts/release_venv.sh {RELEASE} .venv-{RELEASE}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return cli


def _old_run(cli: Path, sim: Any, opts: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "CJA_SYNC__"))}
    env.update(env_for(settings_values(sim, **FAST)))
    args = ["--dataset-name", opts.dataset_name, "--pipelines-dir", opts.pipelines_dir]
    if opts.destination == "duckdb":
        args += ["--duckdb-path", opts.duckdb_path]
    else:
        args += ["--destination", "postgres"]
        env["DESTINATION__POSTGRES__CREDENTIALS"] = PG_URL
    done = subprocess.run([str(cli), "run", *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"cja-sync {RELEASE}: succeeded" in done.stdout


def _upgrade_and_check(cli: Path, sim: Any, opts: Any) -> None:
    _old_run(cli, sim, opts)
    cfg = fast_settings(sim)
    changed = open_backfill(sim)
    sim.set_backfill_status(changed, "FAILED")
    pairs_before = len(sim.truth().datasets)
    sim.add_connection()
    summary = run_sync(cfg, opts)
    assert summary.status == "succeeded"
    # incremental across the upgrade: every pair but the changed one was known unchanged
    assert summary.backfill_pairs["skip"] >= pairs_before - 1
    assert_matches_truth(opts, sim.truth())
    quoted = changed.replace("'", "''")
    changes = query(
        opts,
        f"SELECT from_status, to_status FROM {{t}}backfill_status_changes WHERE backfill_id = '{quoted}'",
    )
    assert sorted(changes, key=str) == sorted([(None, "IN_PROGRESS"), ("IN_PROGRESS", "FAILED")], key=str)
    settings = query(opts, "SELECT org_id, stuck_after_hours FROM {t}health_settings")
    assert settings == [(str(cfg.credentials.org_id), 168.0)]  # the single 0.2.0 row, now the org's
    versions = query(opts, "SELECT tool_version FROM {t}sync_runs ORDER BY started_at")
    assert versions == [(None,), (__version__,)]  # 0.2.0 did not record its version
    comments = (
        "SELECT COUNT(*) FROM duckdb_columns() WHERE schema_name = 'cja' AND comment IS NOT NULL"
        if opts.destination == "duckdb"
        else f"SELECT COUNT(*) FROM information_schema.columns AS c JOIN pg_catalog.pg_description AS d ON "
        f"d.objoid = ('\"{opts.dataset_name}\".\"' || c.table_name || '\"')::regclass "
        f"AND d.objsubid = c.ordinal_position WHERE c.table_schema = '{opts.dataset_name}'"
    )
    assert query(opts, comments)[0][0] > 200
    # health_alerts of the release (every condition of each run) became spells: one marker per org,
    # naming the upgrading sync, and no condition opened twice
    marker = query(opts, "SELECT opened_run_id FROM {t}health_alerts WHERE condition = '_recorded'")
    assert marker == [(summary.run_id,)]
    assert query(
        opts,
        "SELECT COUNT(*) FROM (SELECT condition, subject FROM {t}health_alerts WHERE closed_run_id IS NULL "
        "GROUP BY condition, subject HAVING COUNT(*) > 1) AS d",
    ) == [(0,)]
    assert run_sync(cfg, opts).backfill_pairs.get("fetch", 0) == 0  # and idle after that


def test_duckdb_file_of_the_release_syncs_exactly(old_cli, make_sim, duckdb_opts, duckdb14, tmp_path):
    sim = make_sim(connections=25)
    opts = duckdb_opts()
    _upgrade_and_check(old_cli, sim, opts)
    assert working_path(Path(opts.duckdb_path)).exists()
    health = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "cja-sync"),
            "health",
            "--duckdb-path",
            opts.duckdb_path,
            "--pipelines-dir",
            str(tmp_path / "readers"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert health.returncode == 0, health.stderr
    assert "connections" in health.stdout


@pytest.mark.postgres
def test_postgres_dataset_of_the_release_syncs_exactly(old_cli, make_sim, pg_opts):
    sim = make_sim(connections=25)
    opts = pg_opts()
    _upgrade_and_check(old_cli, sim, opts)
