"""Data views, their components and the impact views against the simulator, on DuckDB and
Postgres: a first sync, an idle re-sync, changes (a move, a new and a removed dimension, deletions, a
new data view), and components answered as a bare list beside spring-shaped pages."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from cja_source.errors import CJAError
from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query
from .compare import assert_data_views_exact, assert_impact_exact, impact_truth

# one listing page for the ~30 data views of the orgs below
PAGE = 100
CONNECTIONS = 20


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_an_org_never_seen_is_exact(make_sim, request, warehouse):
    sim = make_sim(seed=5, connections=CONNECTIONS)
    opts = request.getfixturevalue("duckdb_opts" if warehouse == "duckdb" else "pg_opts")()
    summary = run_sync(fast_settings(sim, page_size=PAGE, data_view_components=True), opts)
    truth = sim.data_view_truth()
    live = [i for i, v in truth["data_views"].items() if not v["isDeleted"]]
    assert any(v["isDeleted"] for v in truth["data_views"].values())
    assert sim.count("dataviews") == 1
    # two lists per live data view, none for the deleted ones
    assert sim.count("dimensions") == sim.count("metrics") == len(live)
    assert summary.requests["dimensions"] == len(live)
    assert summary.rows["data_views"] == len(truth["data_views"])
    assert_data_views_exact(opts, sim)
    # the org has orphans of both kinds and failures that hit data views
    impact = impact_truth(sim)
    assert impact["orphan_connections"] and impact["orphan_data_views"]
    assert assert_impact_exact(opts, sim) > 0
    # dataset_impact: every live link of a component to a dataset its connection holds is there
    rows = query(opts, "SELECT data_view_id, data_set_id, components, in_connection FROM {t}dataset_impact")
    pairs = {(dv, ds) for dv, _c, ds in truth["component_datasets"] if dv in live}
    assert {(r[0], r[1]) for r in rows} == pairs
    assert sum(r[2] for r in rows) == sum(1 for dv, _c, _ds in truth["component_datasets"] if dv in live)
    orphan_dvs = impact["orphan_data_views"]
    assert all(r[3] is False for r in rows if r[0] in orphan_dvs)


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_idle_resync_and_four_changes(make_sim, request, warehouse):
    sim = make_sim(seed=6, connections=CONNECTIONS)
    opts = request.getfixturevalue("duckdb_opts" if warehouse == "duckdb" else "pg_opts")()
    cfg = fast_settings(sim, page_size=PAGE, data_view_components=True)
    run_sync(cfg, opts)

    seen = query(opts, "SELECT id, last_seen_at FROM {t}data_views ORDER BY id")
    sim.reset_counters()
    idle = run_sync(cfg, opts)
    assert sim.count("dimensions") == sim.count("metrics") == 0
    assert sim.count("dataviews") <= 2
    # an unchanged data view is not written again, and no listed one is taken for deleted
    assert idle.rows.get("data_views", 0) == 0
    assert query(opts, "SELECT id, last_seen_at FROM {t}data_views ORDER BY id") == seen
    assert idle.reconciled.get("data_views_deleted", 0) == 0

    truth = sim.data_view_truth()["data_views"]
    conns = sim.connection_ids()
    live = [i for i in sim.data_view_ids() if truth[i]["parentDataGroupId"] in conns]
    moved, grown, soft, hard = live[:4]
    target = next(c for c in conns if c != truth[moved]["parentDataGroupId"])
    sim.move_data_view(moved, target)
    dropped = next(c for c in sim.data_view_truth()["components"] if c[0] == grown)[1]
    new_dimension = sim.add_component(grown, "dimension")
    sim.remove_component(grown, dropped)
    kept = query(opts, f"SELECT count(*) FROM {{t}}data_view_components WHERE data_view_id = '{soft}'")[0][0]
    sim.delete_data_view(soft)
    sim.delete_data_view(hard, hard=True)
    added = sim.add_data_view(conns[0])
    # a connection deleted under a data view that stays: the data view becomes an orphan
    busy = {truth[i]["parentDataGroupId"] for i in (moved, grown, soft, hard)} | {target, conns[0]}
    stranded = next(i for i in live[4:] if truth[i]["parentDataGroupId"] not in busy)
    sim.delete_connection(truth[stranded]["parentDataGroupId"])

    sim.reset_counters()
    summary = run_sync(cfg, opts)
    # the moved, the grown and the new data view: two lists each
    assert sim.count("dimensions") + sim.count("metrics") == 6 <= 8
    assert sim.count("dataviews") <= 2
    assert_data_views_exact(opts, sim)
    assert_impact_exact(opts, sim)
    views = dict(query(opts, "SELECT id, connection_id FROM {t}data_views"))
    assert views[moved] == target and views[added] == conns[0]
    deleted = dict(query(opts, "SELECT id, deleted_in_source_at IS NOT NULL FROM {t}data_views"))
    assert deleted[soft] and deleted[hard] and not deleted[moved]
    # the deleted data view's components are marked, not lost
    marked = query(
        opts,
        "SELECT count(*), count(deleted_in_source_at) FROM {t}data_view_components "
        f"WHERE data_view_id = '{soft}'",
    )
    assert marked == [(kept, kept)] and kept > 0
    # the removed dimension is marked, its dataset links are gone; the new one is live
    gone = query(
        opts,
        "SELECT deleted_in_source_at IS NOT NULL FROM {t}data_view_components "
        f"WHERE data_view_id = '{grown}' AND id = '{dropped}'",
    )
    assert gone == [(True,)]
    links = query(
        opts,
        "SELECT count(*) FROM {t}data_view_component_datasets "
        f"WHERE data_view_id = '{grown}' AND component_id = '{dropped}'",
    )
    assert links == [(0,)]
    assert (grown, new_dimension) in {
        (r[0], r[1]) for r in query(opts, "SELECT data_view_id, id FROM {t}data_view_components")
    }
    assert summary.reconciled["data_views_deleted"] == 1  # the hard deletion; the soft one came listed
    assert (stranded, "DELETED") in set(query(opts, "SELECT data_view_id, reason FROM {t}orphan_data_views"))


def test_bare_list_components_and_spring_pages(make_sim, duckdb_opts):
    sim = make_sim(seed=7, connections=CONNECTIONS, page_shape="spring", component_shape="list")
    opts = duckdb_opts()
    run_sync(fast_settings(sim, page_size=7, data_view_components=True), opts)
    total = len(sim.data_view_truth()["data_views"])
    assert sim.count("dataviews") == math.ceil(total / 7)
    assert_data_views_exact(opts, sim)
    assert_impact_exact(opts, sim)


def test_components_off_by_default_and_views_still_answer(make_sim, duckdb_opts):
    sim = make_sim(seed=5, connections=CONNECTIONS)
    opts = duckdb_opts()
    run_sync(fast_settings(sim, page_size=PAGE), opts)
    assert sim.count("dimensions") == sim.count("metrics") == 0
    assert_data_views_exact(opts, sim, components=False)
    assert_impact_exact(opts, sim)
    # the component tables exist, typed and empty; dataset_impact answers with no row
    assert query(opts, "SELECT data_view_id, id, kind FROM {t}data_view_components") == []
    assert query(opts, "SELECT data_view_id, component_id FROM {t}data_view_component_datasets") == []
    assert query(opts, "SELECT count(*) FROM {t}dataset_impact") == [(0,)]


def test_a_component_without_id_ends_the_run_in_one_line(make_sim, duckdb_opts):
    sim = make_sim(seed=5, connections=6)
    opts = duckdb_opts()
    cfg = fast_settings(sim, page_size=PAGE, data_view_components=True)
    run_sync(cfg, opts)
    before = query(opts, "SELECT data_view_id, id, deleted_in_source_at FROM {t}data_view_components")
    store = sim.org.dataviews
    dvid = sim.data_view_ids()[0]
    dv = store.views[dvid]
    broken = (replace(dv.components[0], id=""), *dv.components[1:])
    store.views[dvid] = replace(
        dv, components=broken, f={**dv.f, "modifiedDate": dv.f["modifiedDate"] + 1000}
    )
    with pytest.raises(CJAError) as err:
        run_sync(cfg, opts)
    message = err.value.message
    assert "/data/dataviews/{data_view_id}/" in message and dvid in message and "\n" not in message
    # nothing of the failed run reached the tables
    assert query(opts, "SELECT data_view_id, id, deleted_in_source_at FROM {t}data_view_components") == before


def test_data_views_off_asks_nothing_and_reports_no_orphan(make_sim, duckdb_opts):
    sim = make_sim(seed=5, connections=6)
    opts = duckdb_opts()
    run_sync(fast_settings(sim, data_views=False), opts)
    assert sim.count("dataviews") == sim.count("dimensions") == 0
    # no listing says any connection is unread: the views answer, empty
    for view in ("orphan_connections", "orphan_data_views", "connection_impact", "dataset_impact"):
        assert query(opts, f"SELECT count(*) FROM {{t}}{view}") == [(0,)]
