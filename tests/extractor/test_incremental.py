"""Re-syncs ask only for what changed, and still leave the warehouse equal to the ground truth."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query
from ..truth_compare import assert_matches_truth


def _open_backfill(sim):
    for bid, b in sim.truth().backfills.items():
        if b["status"] == "IN_PROGRESS":
            return bid, b
    raise LookupError("no IN_PROGRESS backfill")


def test_unchanged_resync_asks_only_for_the_listing(make_sim, duckdb_opts):
    sim = make_sim(inline_backfills=False)
    cfg, opts = fast_settings(sim), duckdb_opts()
    first = run_sync(cfg, opts)
    assert first.requests["backfills"] > 0
    sim.reset_counters()
    second = run_sync(cfg, opts)
    assert sim.count("token") == 1
    assert sim.count("list") == math.ceil(40 / 25)
    assert sim.count("backfills") == 0
    # no configurationSettings either (asked once a day); the data view listing is read every time
    assert sim.count("dimensions") + sim.count("metrics") == 0
    assert sim.count() == 1 + math.ceil(40 / 25) + sim.count("dataviews")
    assert second.rows["backfills"] == 0
    # nothing changed, so nothing derived from the listing is written again (cja_source/changes.py)
    for table in (
        "connections",
        "datasets",
        "connections_history",
        "connection_validation_errors",
        "configured_containers",
        "dataset_container_fields",
    ):
        assert second.rows[table] == 0, table
    assert_matches_truth(opts, sim.truth())
    # last_seen_at is when a row was last written: the first sync, for every row
    assert query(opts, "SELECT count(*) FROM {t}connections WHERE first_seen_at < last_seen_at") == [(0,)]
    assert query(opts, "SELECT count(*) FROM {t}connections WHERE content_hash IS NULL") == [(0,)]
    assert query(opts, "SELECT count(*) FROM {t}datasets WHERE content_hash IS NULL") == [(0,)]


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_changes_are_all_seen_and_only_affected_pairs_asked(make_sim, request, warehouse):
    sim = make_sim(inline_backfills=False)
    opts = request.getfixturevalue("duckdb_opts" if warehouse == "duckdb" else "pg_opts")()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    truth = sim.truth()

    changed_bid, changed = _open_backfill(sim)
    sim.set_backfill_status(changed_bid, "FAILED")
    # a new backfill on a pair of another connection
    other_cid, other_dsid = next(
        k
        for k in truth.datasets
        if k[0] != changed["connectionId"] and truth.datasets[k]["backfillSummary"]["total"]
    )
    new_bid = sim.add_backfill(other_cid, other_dsid, status="IN_QUEUE")
    # a new dataset with one backfill, on a third connection
    third = next(c for c in truth.connections if c not in (changed["connectionId"], other_cid))
    new_dsid = sim.add_dataset(third)
    sim.add_backfill(third, new_dsid, status="COMPLETED")
    # a deleted connection
    gone = next(c for c in truth.connections if c not in (changed["connectionId"], other_cid, third))
    sim.delete_connection(gone)

    sim.reset_counters()
    summary = run_sync(cfg, opts)
    assert sim.count("backfills") == 3, sim.counters()
    assert summary.backfill_pairs["fetch"] == 3
    assert_matches_truth(opts, sim.truth())
    assert query(opts, f"SELECT status FROM {{t}}backfills WHERE id = '{changed_bid}'") == [("FAILED",)]
    assert query(opts, f"SELECT status FROM {{t}}backfills WHERE id = '{new_bid}'") == [("IN_QUEUE",)]
    assert query(opts, f"SELECT count(*) FROM {{t}}datasets WHERE data_set_id = '{new_dsid}'") == [(1,)]
    deleted = query(
        opts, f"SELECT deleted_in_source_at IS NOT NULL FROM {{t}}connections WHERE id = '{gone}'"
    )
    assert deleted == [(True,)]
    # its datasets and backfills are kept, marked through the connection
    kept = query(opts, f"SELECT count(*) FROM {{t}}backfills WHERE connection_id = '{gone}'")[0][0]
    assert kept == sum(1 for b in truth.backfills.values() if b["connectionId"] == gone)
    marked = query(
        opts,
        f"SELECT count(*) FROM {{t}}datasets WHERE connection_id = '{gone}' AND deleted_in_source_at IS NULL",
    )
    assert marked == [(0,)]
    assert summary.reconciled["connections_deleted"] == 1


def test_removed_dataset_is_marked_and_full_refetches_everything(make_sim, duckdb_opts):
    sim = make_sim(inline_backfills=False)
    cfg, opts = fast_settings(sim), duckdb_opts()
    run_sync(cfg, opts)
    cid, dsid = sim.pick(min_backfills=1)
    sim.remove_dataset(cid, dsid)
    run_sync(cfg, opts)
    marked = query(
        opts,
        "SELECT deleted_in_source_at IS NOT NULL FROM {t}datasets "
        f"WHERE connection_id = '{cid}' AND data_set_id = '{dsid}'",
    )
    assert marked == [(True,)]
    assert_matches_truth(opts, sim.truth())

    pairs = sum(1 for d in sim.truth().datasets.values() if d["backfillSummary"]["total"])
    sim.reset_counters()
    summary = run_sync(cfg, opts.__class__(**{**opts.__dict__, "full": True}))
    assert summary.backfill_pairs["fetch"] == pairs
    assert sim.count("configurationSettings") == 1
    assert_matches_truth(opts, sim.truth())


def test_deleted_warehouse_means_a_full_reload(make_sim, duckdb_opts):
    sim = make_sim(inline_backfills=False)
    cfg, opts = fast_settings(sim), duckdb_opts()
    first = run_sync(cfg, opts)
    Path(opts.duckdb_path).unlink()
    sim.reset_counters()
    second = run_sync(cfg, opts)
    assert second.requests["backfills"] == first.requests["backfills"]
    assert_matches_truth(opts, sim.truth())


def test_filtered_listing_only_marks_inside_its_filter(make_sim, duckdb_opts):
    sim = make_sim()
    opts = duckdb_opts()
    run_sync(fast_settings(sim), opts)
    ids = sorted(sim.truth().connections)[:3]
    # ids without the dg_ prefix are accepted and stored with it
    narrowed = fast_settings(sim, connection_ids=[ids[0].removeprefix("dg_"), ids[1]])
    sim.delete_connection(ids[1])
    sim.delete_connection(ids[2])  # outside the filter: not seen, not marked
    run_sync(narrowed, opts)
    rows = dict(query(opts, "SELECT id, deleted_in_source_at IS NOT NULL FROM {t}connections"))
    assert rows[ids[0]] is False and rows[ids[1]] is True and rows[ids[2]] is False
    assert len(rows) == 40


def test_schema_info_comes_from_the_by_id_endpoint_once(make_sim, duckdb_opts):
    sim = make_sim(connections=12)
    cfg, opts = fast_settings(sim, fetch_schema_info=True), duckdb_opts()
    run_sync(cfg, opts)
    assert sim.count("get") == 12
    with_info = query(opts, "SELECT count(*) FROM {t}datasets WHERE schema_info__schema_id IS NOT NULL")[0][0]
    assert with_info == len(sim.truth().datasets)
    sim.reset_counters()
    run_sync(cfg, opts)
    assert sim.count("get") == 0
    again = query(opts, "SELECT count(*) FROM {t}datasets WHERE schema_info__schema_id IS NOT NULL")[0][0]
    assert again == with_info


@pytest.mark.parametrize("inline", [True, False])
def test_busy_connection_is_listed_again_instead_of_pair_by_pair(make_sim, duckdb_opts, inline):
    """A backfill requested for every dataset of a connection: one filtered listing with inline lists
    replaces a backfills call per dataset; without inline lists the pairs are fetched one by one."""
    sim = make_sim(inline_backfills=inline)
    cfg, opts = fast_settings(sim), duckdb_opts()
    run_sync(cfg, opts)
    truth = sim.truth()
    cid = max(truth.connections, key=lambda c: sum(1 for k in truth.datasets if k[0] == c))
    dsids = [k[1] for k in truth.datasets if k[0] == cid]
    assert len(dsids) >= 3
    for dsid in dsids:
        sim.add_backfill(cid, dsid, status="IN_QUEUE")
    sim.reset_counters()
    summary = run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
    listing_pages = math.ceil(40 / 25)
    if inline:
        assert sim.count("backfills") == 0
        assert sim.count("list") == listing_pages + 1
        assert summary.backfill_pairs["inline"] == len(dsids)
    else:
        assert summary.backfill_pairs["fetch"] == len(dsids)
        assert sim.count("backfills") >= len(dsids)  # lists longer than page_size take two pages
        assert sim.count("list") == listing_pages + 1  # one look, then no more re-listing this run


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_a_warehouse_without_any_backfill_is_read_on_the_next_run(
    make_sim, duckdb_opts, pg_opts, warehouse, caplog
):
    """An org whose first sync found no dataset and no backfill still leaves both tables, typed;
    the next run reads them instead of failing on a missing column and re-syncing in full."""
    sim = make_sim(connections=3, seed=4)
    for cid in sim.connection_ids():
        for dsid in sim.dataset_ids(cid):
            sim.remove_dataset(cid, dsid)
    cfg = fast_settings(sim)
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    assert run_sync(cfg, opts).first_sync is True
    with caplog.at_level("WARNING", logger="cja_source"):
        summary = run_sync(cfg, opts)
    assert summary.first_sync is False
    assert "could not read the warehouse" not in caplog.text
    sim.add_dataset(sim.connection_ids()[0])
    run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
