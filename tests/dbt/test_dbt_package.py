"""The dbt package (dbt_cja_sync/) run by cja_sync.run.dbt.run_dbt, what `cja-sync dbt` calls:
after a clean sync every test passes, on DuckDB and on Postgres; a duplicated connection id fails
naming the unique test on connections, and a last successful sync five days old fails naming
freshness; a sync after dbt still succeeds and keeps the models (Postgres: run, dbt, run, dbt); a
BI reader holding the published DuckDB file never stops dbt.

dbt takes ~3 s to start, twice per run_dbt (run, then test): each warehouse gets one test that walks
through its steps on one sync; those two (marked `dbt`, ~45 s each) run in CI on top of the test
command (scripts/ci_extra.sh). sources.yml is checked against a fresh render of the dictionary."""

from __future__ import annotations

import glob
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from cja_source.errors import ConfigurationError
from cja_sync.errors import NoSuccessfulSync
from cja_sync.run.dbt import DbtOutcome, package_path, run_dbt
from cja_sync.run.sync import run_sync
from cja_sync.warehouse.dbt_sources import RENDER_COMMAND, SOURCES_PATH, render_sources
from cja_sync.warehouse.duckdb_file import working_path

from ..helpers import PG_URL, fast_settings, query

REPO = Path(__file__).resolve().parents[2]
MODELS = {
    "stg_cja__connections",
    "stg_cja__datasets",
    "stg_cja__backfills",
    "stg_cja__data_source_types",
    "stg_cja__sync_runs",
    "stg_cja__backfill_status_changes",
    "stg_cja__connection_volume_history",
    "cja_dataset_backfills",
}
# a duplicate of one connection (its own _dlt_id: Postgres keeps that one unique), and every run of
# the org five days older
DUPLICATE = (
    "CREATE TEMP TABLE dup AS SELECT * FROM {t}connections WHERE id = (SELECT MIN(id) FROM {t}connections)",
    "UPDATE dup SET _dlt_id = _dlt_id || '-dup'",
    "INSERT INTO {t}connections SELECT * FROM dup",
)
AGED = (
    "UPDATE {t}sync_runs SET started_at = started_at - INTERVAL '5 days', "
    "finished_at = finished_at - INTERVAL '5 days'"
)
# holds a read-only connection on the published file (a BI tool), prints the dbt views it sees,
# then what it still sees after a line on stdin
HOLD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
views = "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'cja_dbt'"
print(con.execute(views).fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute(views).fetchone()[0], flush=True)
"""


def test_sources_yml_is_rendered_from_the_dictionary():
    committed = (REPO / SOURCES_PATH).read_text(encoding="utf-8")
    assert committed == render_sources(), f"{SOURCES_PATH} is stale: run {RENDER_COMMAND}"


def test_the_wheel_ships_every_file_of_the_package():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "cja_sync.dbt_cja_sync" in config["packages"]
    root = REPO / config["package-dir"]["cja_sync.dbt_cja_sync"]
    # the package and its data-only folders, each listed with its own package data
    shipped = set()
    for package, patterns in config["package-data"].items():
        if package == "cja_sync.dbt_cja_sync" or package.startswith("cja_sync.dbt_cja_sync."):
            assert package in config["packages"], package
            folder = Path(*package.removeprefix("cja_sync.dbt_cja_sync").strip(".").split("."))
            for pattern in patterns:
                shipped |= {str(folder / n) for n in glob.glob(pattern, root_dir=root / folder)}
    files = {
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix in (".yml", ".sql")
    }
    assert files - shipped == set()
    assert {"dbt_project.yml", "models/sources.yml", "profiles/profiles.yml"} <= shipped
    assert package_path() == root  # the editable install maps the package where the wheel puts it


def test_without_dbt_it_names_the_extra(duckdb_opts, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.startswith("dbt") else real(name, *a)
    )
    with pytest.raises(
        ConfigurationError, match=r"needs dbt-core, which is not installed: pip install 'cja-sync\[dbt\]'"
    ):
        run_dbt(duckdb_opts())


def test_before_the_first_sync_it_says_so_and_creates_nothing(duckdb_opts):
    opts = duckdb_opts()
    with pytest.raises(NoSuccessfulSync, match="run cja-sync run first"):
        run_dbt(opts)
    assert not Path(opts.duckdb_path).exists()
    assert not working_path(Path(opts.duckdb_path)).exists()


def _failures_of(outcome: DbtOutcome) -> str:
    return "\n".join(outcome.failures)


def _assert_fails_on_duplicate_and_freshness(outcome: DbtOutcome) -> None:
    assert not outcome.passed
    lines = _failures_of(outcome)
    assert any(f.startswith("unique on connections.id: 1 failing row (") for f in outcome.failures), lines
    assert any(f.startswith("sync_freshness on sync_runs: 1 failing row (") for f in outcome.failures), lines
    # the duplicate repeats rows of the views over connections too; nothing failed to run
    assert all(" could not run: " not in f for f in outcome.failures), lines


@pytest.mark.dbt
def test_duckdb_dbt_passes_survives_a_sync_and_fails_on_a_bad_warehouse(make_sim, duckdb_opts, monkeypatch):
    # a writer that had to wait for the reader would give up after 3 s
    monkeypatch.setenv("CJA_SYNC__DUCKDB_WRITER_WAIT_SECONDS", "3")
    sim = make_sim(connections=15)
    cfg = fast_settings(sim)
    opts = duckdb_opts()
    run_sync(cfg, opts)

    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD, opts.duckdb_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "0"
        outcome = run_dbt(opts)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "0"  # its file stays what it opened
    finally:
        reader.communicate(timeout=30)
    assert reader.returncode == 0
    assert outcome.passed, _failures_of(outcome)
    assert outcome.models == len(MODELS) and outcome.tests > 80
    assert outcome.models_schema == "cja_dbt" and outcome.published["bytes"] > 0
    # published: a new reader sees the models, which read the synced tables
    views = query(opts, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'cja_dbt'")
    assert {v for (v,) in views} == MODELS
    live = query(opts, "SELECT count(*) FROM {t}datasets WHERE deleted_in_source_at IS NULL")
    assert query(opts, "SELECT count(*) FROM cja_dbt.cja_dataset_backfills") == live
    # dbt wrote nothing into the package (it may sit in a read-only site-packages)
    assert not {"target", "logs", "dbt_packages"} & {p.name for p in package_path().iterdir()}

    summary = run_sync(cfg, opts)  # the next sync continues from the file dbt published
    assert summary.status == "succeeded"
    assert query(opts, "SELECT count(*) FROM cja_dbt.stg_cja__sync_runs WHERE status = 'succeeded'") == [(2,)]

    with duckdb.connect(str(working_path(Path(opts.duckdb_path)))) as work:  # what the next run reads
        for statement in DUPLICATE:
            work.execute(statement.format(t="cja."))
        work.execute(AGED.format(t="cja."))
    _assert_fails_on_duplicate_and_freshness(run_dbt(opts))


@pytest.fixture
def pg_dbt_opts(pg_opts: Callable[..., Any]) -> Iterator[Any]:
    """pg_opts' fresh schema, and the `<schema>_dbt` of the models dropped with it."""
    opts = pg_opts()
    yield opts
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{opts.dataset_name}_dbt" CASCADE')
    conn.close()


@pytest.mark.dbt
@pytest.mark.postgres
def test_postgres_run_dbt_run_dbt_then_a_bad_warehouse_fails(make_sim, pg_dbt_opts):
    sim = make_sim(connections=15)
    cfg = fast_settings(sim)
    opts = pg_dbt_opts
    for sync in (1, 2):  # the second sync replaces its views under dbt's, which stay standing
        assert run_sync(cfg, opts).status == "succeeded"
        outcome = run_dbt(opts)
        assert outcome.passed, f"after sync {sync}: {_failures_of(outcome)}"
        assert outcome.models == len(MODELS) and outcome.published == {}
    schema = f"{opts.dataset_name}_dbt"
    views = query(opts, f"SELECT table_name FROM information_schema.views WHERE table_schema = '{schema}'")
    assert {v for (v,) in views} == MODELS
    done = query(opts, f"SELECT count(*) FROM \"{schema}\".stg_cja__sync_runs WHERE status = 'succeeded'")
    assert done == [(2,)]

    conn = psycopg2.connect(PG_URL)
    try:
        with conn, conn.cursor() as cur:
            for statement in DUPLICATE:
                cur.execute(statement.format(t=f'"{opts.dataset_name}".'))
            cur.execute(AGED.format(t=f'"{opts.dataset_name}".'))
    finally:
        conn.close()
    _assert_fails_on_duplicate_and_freshness(run_dbt(opts))
