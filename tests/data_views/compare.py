"""Data view tables and impact views against the simulator's truth (Simulator.data_view_truth)."""

from __future__ import annotations

from typing import Any

from ..health_helpers import expected_connections, expected_pairs
from ..helpers import query
from ..truth_compare import ts


def expected_views(sim: Any) -> dict[str, tuple[Any, ...]]:
    """id -> (connection_id, name, modified_date, deleted) of every data view the listing returns."""
    dvs = sim.data_view_truth()["data_views"]
    return {
        i: (v["parentDataGroupId"], v["name"], ts(v["modifiedDate"]), v["isDeleted"]) for i, v in dvs.items()
    }


def stored_views(opts: Any) -> dict[str, tuple[Any, ...]]:
    rows = query(
        opts,
        "SELECT id, connection_id, name, modified_date, deleted_in_source_at IS NOT NULL FROM {t}data_views",
    )
    return {r[0]: (r[1], r[2], ts(r[3]), r[4]) for r in rows}


def expected_components(sim: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    comps = sim.data_view_truth()["components"]
    return {
        k: (c["kind"], c["name"], c["hidden"], c["hasData"], c["type"], c["sourceFieldId"])
        for k, c in comps.items()
    }


def live_components(opts: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = query(
        opts,
        "SELECT data_view_id, id, kind, name, hidden, has_data, type, source_field_id "
        "FROM {t}data_view_components WHERE deleted_in_source_at IS NULL",
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def live_links(opts: Any) -> set[tuple[str, str, str]]:
    """Dataset links of live components of live data views."""
    rows = query(
        opts,
        "SELECT l.data_view_id, l.component_id, l.data_set_id FROM {t}data_view_component_datasets l "
        "JOIN {t}data_view_components k ON k.data_view_id = l.data_view_id AND k.id = l.component_id "
        "JOIN {t}data_views v ON v.id = l.data_view_id "
        "WHERE k.deleted_in_source_at IS NULL AND v.deleted_in_source_at IS NULL",
    )
    return {tuple(r) for r in rows}  # type: ignore[misc]


def assert_data_views_exact(opts: Any, sim: Any, components: bool = True) -> None:
    want, got = expected_views(sim), stored_views(opts)
    live_truth = {i: v for i, v in want.items() if not v[3]}
    live_got = {i: v for i, v in got.items() if not v[3]}
    assert live_got == live_truth
    # every data view the listing returns isDeleted is marked; none is lost
    assert {i for i, v in want.items() if v[3]} <= {i for i, v in got.items() if v[3]}
    if components:
        assert live_components(opts) == expected_components(sim)
        assert live_links(opts) == sim.data_view_truth()["component_datasets"]


def impact_truth(sim: Any) -> dict[str, Any]:
    """Orphans by the simulator alone: connections no live data view reads, live data views whose
    connection does not exist."""
    conns = set(sim.truth().connections)
    live = {i: v for i, v in sim.data_view_truth()["data_views"].items() if not v["isDeleted"]}
    read = {v["parentDataGroupId"] for v in live.values()}
    return {
        "orphan_connections": conns - read,
        "orphan_data_views": {i for i, v in live.items() if v["parentDataGroupId"] not in conns},
        "feeds": {(v["parentDataGroupId"], i) for i, v in live.items() if v["parentDataGroupId"] in conns},
    }


def failing_connections(opts: Any, sim: Any) -> set[str]:
    """Connections whose worst status is FAILED or STUCK by the simulator's truth, its clock set to
    the time the views measure ages to (tests/health_helpers.py)."""
    sim.set_now(query(opts, "SELECT max(as_of) FROM {t}health_reference")[0][0])
    truth = sim.truth()
    conns = expected_connections(truth, expected_pairs(truth, 168, 48))
    return {c for c, row in conns.items() if row["worst_status"] in ("FAILED", "STUCK")}


def assert_impact_exact(opts: Any, sim: Any) -> int:
    """The impact views equal the truth; returns how many (connection, data view) rows a failed or
    stuck connection hits."""
    truth = impact_truth(sim)
    assert {r[0] for r in query(opts, "SELECT connection_id FROM {t}orphan_connections")} == truth[
        "orphan_connections"
    ]
    orphans = query(opts, "SELECT data_view_id, reason FROM {t}orphan_data_views")
    assert {r[0] for r in orphans} == truth["orphan_data_views"]
    assert {r[1] for r in orphans} <= {"MISSING", "DELETED"}
    impact = query(opts, "SELECT connection_id, data_view_id, worst_status FROM {t}connection_impact")
    assert {(r[0], r[1]) for r in impact} == truth["feeds"]
    failing = failing_connections(opts, sim)
    hit = {(r[0], r[1]) for r in impact if r[2] in ("FAILED", "STUCK")}
    assert hit == {(c, dv) for c, dv in truth["feeds"] if c in failing}
    return len(hit)
