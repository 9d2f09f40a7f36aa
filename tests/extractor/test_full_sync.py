"""A full sync equals the simulator's ground truth in every table, on DuckDB and on Postgres."""

from __future__ import annotations

import math

import pytest

from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query
from ..truth_compare import actual, assert_matches_truth


@pytest.mark.parametrize("mode", ["auto", "endpoint", "inline"])
def test_full_sync_equals_truth_duckdb(make_sim, duckdb_opts, mode):
    sim = make_sim()
    opts = duckdb_opts()
    summary = run_sync(fast_settings(sim, backfills=mode), opts)
    counts = assert_matches_truth(opts, sim.truth())
    assert counts["backfills"] > 100 and counts["connection_validation_errors"] > 0
    assert counts["configured_containers"] > 0 and counts["dataset_container_fields"] > 0
    assert summary.rows["connections"] == 40
    truth = sim.truth()
    pairs_with_backfills = sum(1 for d in truth.datasets.values() if d["backfillSummary"]["total"] > 0)
    if mode == "endpoint":
        # one call per pair with backfills, plus the extra pages of pairs holding more than page_size
        assert sim.count("backfills") >= pairs_with_backfills
        assert summary.requests["backfills"] == sim.count("backfills")
    else:
        assert sim.count("backfills") == 0
    assert sim.count("list") == math.ceil(40 / 25)
    assert query(opts, 'SELECT status, "full" FROM {t}sync_runs') == [("succeeded", False)]
    org = query(opts, "SELECT DISTINCT org_id FROM {t}backfills")
    assert org == [("DEMO0000000000000000000@AdobeOrg",)]


def test_duckdb_and_postgres_hold_the_same_rows(make_sim, duckdb_opts, pg_opts):
    sim = make_sim(seed=11, connections=30)
    cfg = fast_settings(sim, backfills="endpoint")
    duck, pg = duckdb_opts(), pg_opts()
    run_sync(cfg, duck)
    run_sync(cfg, pg)
    assert_matches_truth(pg, sim.truth())
    assert actual(duck) == actual(pg)


def test_spring_page_shape_and_small_pages(make_sim, duckdb_opts):
    sim = make_sim(page_shape="spring", inline_backfills=False)
    opts = duckdb_opts()
    run_sync(fast_settings(sim, page_size=3), opts)
    assert_matches_truth(opts, sim.truth())
    assert sim.count("list") == math.ceil(40 / 3)


def test_unknown_new_fields_become_columns(make_sim, duckdb_opts):
    sim = make_sim()
    opts = duckdb_opts()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    sim.faults.extra_fields = {"brandNewFlag": True, "brandNewInfo": {"level": 3}}
    run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
    cols = {
        r[0]
        for r in query(
            opts,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'cja' AND table_name = 'connections'",
        )
    }
    assert {"brand_new_flag", "brand_new_info__level"} <= cols
    assert query(opts, "SELECT count(*) FROM {t}connections WHERE brand_new_flag") == [(40,)]


def test_backfill_fields_that_change_type_or_appear(make_sim, duckdb_opts):
    """Backfills normally reach dlt as Arrow tables; a value that does not fit its type sends that
    batch as plain rows instead. Both kinds must load into the same table, and new fields become
    columns."""
    sim = make_sim(inline_backfills=False)
    cfg, opts = fast_settings(sim), duckdb_opts()
    run_sync(cfg, opts)
    bid = next(b for b, v in sim.truth().backfills.items() if v["status"] == "IN_PROGRESS")
    sim.set_backfill_status(bid, "COMPLETED")
    sim.faults.type_changes = {"createdDate": "last Tuesday"}
    sim.faults.extra_fields = {"requestedBy": "someone@example.com"}
    run_sync(cfg, opts)
    assert query(
        opts, f"SELECT created_date__v_text, requested_by FROM {{t}}backfills WHERE id = '{bid}'"
    ) == [("last Tuesday", "someone@example.com")]
    sim.faults.reset()
    run_sync(cfg, opts.__class__(**{**opts.__dict__, "full": True}))
    assert_matches_truth(opts, sim.truth())


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_dataset_fields_that_change_type_or_appear(make_sim, duckdb_opts, pg_opts, warehouse):
    """Datasets reach dlt as Arrow tables while they have DataSetMetadata's documented shape. One
    dataset with a new field, or with a value of another type, sends its page as plain rows; pages
    of both kinds load into one table, in one run and across runs, with dlt's column names."""
    sim = make_sim(connections=12)
    cid = sim.connection_ids()[5]
    odd = sim.add_dataset(cid, dataSourceType={"id": "other", "type": "Other", "region": "emea"})
    cfg = fast_settings(sim, page_size=4)
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
    columns = "connection_id, data_set_id, data_source_type__region, data_source_type__id"
    stored = query(opts, f"SELECT {columns} FROM {{t}}datasets WHERE data_source_type__region IS NOT NULL")
    assert stored == [(cid, odd, "emea", "other")]
    assert query(opts, "SELECT count(*) FROM {t}datasets WHERE lookup_parent_fields IS NOT NULL") == query(
        opts, "SELECT count(*) FROM {t}datasets WHERE type = 'lookup'"
    )

    sim.faults.type_changes = {"lastIngestedTime": "yesterday", "streaming": "sometimes"}
    run_sync(cfg, opts)
    listed = sim.truth().datasets.values()
    ingested = sum(1 for d in listed if d.get("lastIngestedTime"))
    assert 0 < ingested < len(listed)
    assert query(
        opts,
        "SELECT count(last_ingested_time__v_text), count(streaming__v_text), count(last_ingested_time) "
        "FROM {t}datasets WHERE last_ingested_time__v_text = 'yesterday' OR streaming__v_text = 'sometimes'",
    ) == [(ingested, len(listed), 0)]
    sim.faults.reset()
    run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())


def test_integers_beyond_int64_are_stored_as_doubles(make_sim, duckdb_opts):
    """JSON numbers have no size limit and BIGINT has: 2**63 (which orjson still reads as an int)
    failed every run in dlt's normalizer. It is stored as a double in `<column>__v_double`, in rows
    and in Arrow tables (-2**63 - 1 is read as the double -2**63, which fits int64 and stays in its
    column); tests/extractor/test_wide_numbers.py has the rest."""
    sim = make_sim(connections=8)
    sim.faults.type_changes = {
        "backfillSummary": {"total": 2**63, "failed": 0, "inProgress": 0, "completed": 0}
    }
    sim.faults.extra_fields = {"counter": -(2**63) - 1}
    cfg, opts = fast_settings(sim), duckdb_opts()
    run_sync(cfg, opts)
    for table in ("connections", "datasets", "backfills"):
        assert query(opts, f"SELECT DISTINCT counter FROM {{t}}{table}") == [(-(2.0**63),)]
    assert query(opts, "SELECT DISTINCT backfill_summary__total__v_double FROM {t}datasets") == [(2.0**63,)]
    sim.faults.reset()
    run_sync(cfg, opts.__class__(**{**opts.__dict__, "full": True}))
    assert_matches_truth(opts, sim.truth())


def test_inline_first_sync_probes_then_reads_the_rest_in_one_page(make_sim, duckdb_opts):
    """With inline lists a first page of 50 connections measures how big a connection is; an org of
    small connections is then read in one more page of up to page_size, not in pages of 50."""
    sim = make_sim(connections=120, seed=5)
    opts = duckdb_opts()
    summary = run_sync(fast_settings(sim, page_size=1000, backfills="auto"), opts)
    assert_matches_truth(opts, sim.truth())
    assert summary.rows["connections"] == 120
    assert sim.count("list") == 2
    assert sim.count("backfills") == 0
