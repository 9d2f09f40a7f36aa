"""The same view queries give the same rows on DuckDB and on a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cja_source.simulator import SimConfig, Simulator
from cja_sync.run.sync import RunOptions
from cja_sync.warehouse.views import VIEWS
from tests.health_helpers import duckdb_options, expected_pairs, sync, truth_at_reference, view_rows
from tests.helpers import PG_URL  # CJA_TEST_POSTGRES, as the README says


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """Fails instead of skipping in CI, where a missing server is a broken build, not a laptop."""
    url = PG_URL
    try:
        import psycopg2

        psycopg2.connect(url, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means no server
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL unreachable at {url} in CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {url}")
    old = os.environ.get("DESTINATION__POSTGRES__CREDENTIALS")
    os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = url
    yield url
    if old is None:
        os.environ.pop("DESTINATION__POSTGRES__CREDENTIALS", None)
    else:
        os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = old


@pytest.mark.postgres
def test_duckdb_and_postgres_give_the_same_rows(postgres_url: str, tmp_path: Path) -> None:
    import psycopg2

    schema = f"cja_t_{uuid.uuid4().hex[:8]}"
    pg_opts = RunOptions(destination="postgres", dataset_name=schema, pipelines_dir=str(tmp_path / "pg"))
    try:
        with Simulator(SimConfig(seed=5, connections=25, rate_limit=None)) as sim:
            duck = sync(sim, duckdb_options(tmp_path))
            pg = sync(sim, pg_opts)
            # two syncs finish at two instants; pin both to one so ages and statuses are comparable
            reference = max(
                view_rows(p, "SELECT MAX(finished_at) AS t FROM {sync_runs}")[0]["t"] for p in (duck, pg)
            ) + timedelta(seconds=1)
            for p in (duck, pg):
                with p.sql_client() as sql:
                    sql.execute_sql(
                        f"UPDATE {sql.make_qualified_table_name('sync_runs')} SET finished_at = %s "
                        "WHERE status = 'succeeded'",
                        reference,
                    )
            for view in VIEWS:
                duck_rows = view_rows(duck, f"SELECT * FROM {{{view}}}")
                pg_rows = view_rows(pg, f"SELECT * FROM {{{view}}}")
                assert duck_rows, view
                assert sorted(duck_rows, key=repr) == sorted(pg_rows, key=repr), view
            # and Postgres agrees with the ground truth too
            truth = truth_at_reference(sim, pg)
            want = {k: v["health_status"] for k, v in expected_pairs(truth, 168, 48).items()}
            rows = view_rows(pg, "SELECT connection_id, data_set_id, health_status FROM {backfill_health}")
            assert {(r["connection_id"], r["data_set_id"]): r["health_status"] for r in rows} == want
    finally:
        with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
