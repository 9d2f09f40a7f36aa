"""Ids a URL path must percent-encode, and text a warehouse cannot store."""

from __future__ import annotations

import pytest

from cja_source.simulator.generate import ODD_ID_SUFFIXES
from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query
from ..truth_compare import assert_matches_truth


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "endpoint"])
def test_odd_ids_sync_exactly(make_sim, duckdb_opts, inline):
    sim = make_sim(connections=12, max_datasets_per_connection=6, odd_ids=True, inline_backfills=inline)
    truth = sim.truth()
    ids = [k[1] for k in truth.datasets] + list(truth.connections)
    for suffix in ODD_ID_SUFFIXES:  # every kind of odd id is in the org
        assert any(i.endswith(suffix) for i in ids), suffix
    opts = duckdb_opts()
    cfg = fast_settings(sim, fetch_schema_info=True)
    run_sync(cfg, opts)
    counts = assert_matches_truth(opts, sim.truth())
    assert counts["backfills"] > 0
    if not inline:  # every pair went through the backfills endpoint, none was refused
        assert sim.count("backfills", 404) == 0 and sim.count("get", 404) == 0, sim.counters()
        assert sim.count("backfills", 200) > 0
        return
    # a re-sync lists a connection with several changed pairs again by id (connectionIds=…)
    cid = next(c for c in sim.connection_ids() if len(sim.dataset_ids(c)) >= 2 and not c.isascii())
    for dsid in sim.dataset_ids(cid)[:2]:
        sim.add_backfill(cid, dsid)
    sim.reset_counters()
    run_sync(cfg, opts)
    assert sim.count("list") >= 2 and sim.count(status=404) == 0, sim.counters()
    assert_matches_truth(opts, sim.truth())


def _nul_org(make_sim):
    sim = make_sim(connections=5, max_datasets_per_connection=2)
    cid = sim.connection_ids()[0]
    sim.modify_connection(cid, name="Web\x00Data", description="\x00", fieldsId="half \ud800 pair")
    dsid = sim.add_dataset(cid, name="orders\x00eu")
    return sim, cid, dsid


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_nul_is_stored_as_replacement_character(make_sim, duckdb_opts, pg_opts, warehouse):
    sim, cid, dsid = _nul_org(make_sim)
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    run_sync(fast_settings(sim), opts)
    assert query(opts, f"SELECT name, description, fields_id FROM {{t}}connections WHERE id = '{cid}'") == [
        ("Web\ufffdData", "\ufffd", "half \ufffd pair")
    ]
    names = query(opts, f"SELECT name FROM {{t}}datasets WHERE data_set_id = '{dsid}'")
    assert names == [("orders\ufffdeu",)]
