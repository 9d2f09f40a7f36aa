"""Every table of the contract exists after the first successful sync, even with no row in it, so a
saved query or dashboard on `configured_containers` works for an org without B2B connections."""

from __future__ import annotations

import pytest

from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query

CONTRACT_TABLES = (
    "connections",
    "datasets",
    "backfills",
    "data_source_types",
    "connection_validation_errors",
    "configured_containers",
    "dataset_container_fields",
    "connections_history",
    "data_views",
    "data_view_components",
    "data_view_component_datasets",
    "sync_runs",
)


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_empty_tables_exist_after_first_sync(make_sim, duckdb_opts, pg_opts, warehouse):
    # seed 3 with 4 connections: no B2B connection, no validation error
    sim = make_sim(seed=3, connections=4)
    truth = sim.truth()
    assert not truth.configured_containers and not truth.container_fields and not truth.validation_errors
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    run_sync(fast_settings(sim), opts)
    for table in CONTRACT_TABLES:
        assert query(opts, f"SELECT count(*) FROM {{t}}{table}")[0][0] >= 0
    for table in ("configured_containers", "dataset_container_fields", "connection_validation_errors"):
        assert query(opts, f"SELECT count(*) FROM {{t}}{table}") == [(0,)]
        # typed columns, not a bare table: the keys a query joins on are there
        assert query(opts, f"SELECT connection_id, org_id, last_seen_at FROM {{t}}{table}") == []
