"""Only what changed is handed to dlt (cja_source/changes.py), and the warehouse still equals the
ground truth: a field changed deep inside an item whose connection did not move arrives, deletions
are marked, what hangs off a rewritten row is replaced, and idle runs leave the views alone."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query
from ..truth_compare import assert_matches_truth

LISTED_TABLES = (
    "connections",
    "datasets",
    "connections_history",
    "connection_validation_errors",
    "configured_containers",
    "dataset_container_fields",
)


def _change_dataset(sim: Any, cid: str, dsid: str, **attrs: Any) -> None:
    """A dataset changed the way the API may show it: its connection's modifiedDate stays."""
    org = sim.org
    with org.lock:
        c = org._need(cid)
        d = copy.copy(org._need_ds(cid, dsid))
        for name, value in attrs.items():
            setattr(d, name, value)
        org._replace_ds(c, d)


def _view_oids(opts: Any) -> dict[str, int]:
    return dict(query(opts, "SELECT view_name, view_oid FROM duckdb_views() WHERE schema_name = 'cja'"))


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_nested_changes_arrive_and_nothing_else_is_written(make_sim, request, warehouse):
    sim = make_sim(inline_backfills=False)
    opts = request.getfixturevalue("duckdb_opts" if warehouse == "duckdb" else "pg_opts")()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    idle = run_sync(cfg, opts)
    assert {t: idle.rows[t] for t in LISTED_TABLES} == dict.fromkeys(LISTED_TABLES, 0)
    if warehouse == "duckdb":
        oids = _view_oids(opts)
        assert len(oids) >= 11

    truth = sim.truth()
    b2b = next(f for f in truth.container_fields)
    b2b_cid, b2b_dsid = b2b["connectionId"], b2b["dataSetId"]
    others = [c for c in truth.connections if c != b2b_cid]
    renamed_cid, volume_cid, gone_cid, shrunk_cid = others[:4]
    renamed_dsid = sim.dataset_ids(renamed_cid)[0]
    shrunk_dsid = sim.dataset_ids(shrunk_cid)[0]
    seen = (
        "SELECT first_seen_at, last_seen_at FROM {t}datasets "
        f"WHERE connection_id = '{renamed_cid}' AND data_set_id = '{renamed_dsid}'"
    )
    [(first_seen, _)] = query(opts, seen)
    # nested changes under connections whose own fields (modifiedDate too) stay as they were
    _change_dataset(sim, b2b_cid, b2b_dsid, container="opportunity")
    _change_dataset(sim, renamed_cid, renamed_dsid, name="renamed dataset")
    sim.set_daily_events(volume_cid, 123_456)
    gone = f"SELECT count(*) FROM {{t}}datasets WHERE connection_id = '{gone_cid}'"
    gone_datasets = query(opts, gone)[0][0]
    sim.delete_connection(gone_cid)
    sim.remove_dataset(shrunk_cid, shrunk_dsid)

    second = run_sync(cfg, opts)
    assert_matches_truth(opts, sim.truth())
    # the volume and the removed dataset rewrite their connections; the renamed dataset and the
    # container change only their datasets (and the container field's rows)
    assert second.rows["connections"] == 2
    assert second.rows["datasets"] == 2
    assert second.reconciled["connections_deleted"] == 1
    # the deleted connection's datasets and the removed one
    assert second.reconciled["datasets_deleted"] == gone_datasets + 1
    fields = query(
        opts,
        "SELECT container FROM {t}dataset_container_fields "
        f"WHERE connection_id = '{b2b_cid}' AND data_set_id = '{b2b_dsid}'",
    )
    assert fields == [("opportunity",)]
    # a rewritten row keeps when its pair was first seen (stored_pairs.py reads it back lazily)
    [(first_again, last_seen)] = query(opts, seen)
    assert first_again == first_seen and last_seen > first_seen
    # the deleted connection's configuration version is closed, the renamed dataset made a new one
    versions = "SELECT count(*), count(valid_to) FROM {t}connections_history WHERE connection_id = "
    assert query(opts, versions + f"'{gone_cid}'") == [(1, 1)]
    assert query(opts, versions + f"'{renamed_cid}'") == [(2, 1)]

    third = run_sync(cfg, opts)
    assert {t: third.rows[t] for t in LISTED_TABLES} == dict.fromkeys(LISTED_TABLES, 0)
    assert third.reconciled.get("connections_deleted") == 0
    assert_matches_truth(opts, sim.truth())
    if warehouse == "duckdb":
        assert _view_oids(opts) == oids  # never replaced: nothing they depend on changed


def test_a_connection_that_comes_back_is_written_again(make_sim, duckdb_opts):
    sim = make_sim(connections=6, inline_backfills=False)
    cfg, opts = fast_settings(sim), duckdb_opts()
    run_sync(cfg, opts)
    cid = sim.connection_ids()[0]
    kept = sim.org.get(cid)
    sim.delete_connection(cid)
    assert run_sync(cfg, opts).reconciled["connections_deleted"] == 1
    sim.org.insert_raw(kept)  # the same item, unchanged, listed again
    back = run_sync(cfg, opts)
    assert back.rows["connections"] == 1
    assert back.rows["datasets"] == len(sim.dataset_ids(cid))
    assert_matches_truth(opts, sim.truth())
    live = "SELECT count(*) FROM {t}datasets WHERE deleted_in_source_at IS NULL AND connection_id = "
    assert query(opts, live + f"'{cid}'") == [(len(sim.dataset_ids(cid)),)]
