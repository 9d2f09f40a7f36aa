"""The health views against the simulator's ground truth, on DuckDB."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from cja_source.configuration import HealthConfiguration
from cja_source.simulator import SimConfig, Simulator
from cja_sync.warehouse.views import VIEWS, create_views, views_exist
from tests.health_helpers import (
    duckdb_options,
    expected_connections,
    expected_pairs,
    sync,
    truth_at_reference,
    view_rows,
)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Simulator, Any, Any]]:
    opts = duckdb_options(tmp_path_factory.mktemp("health"))
    with Simulator(SimConfig(seed=3, connections=40, rate_limit=None)) as sim:
        yield sim, opts, sync(sim, opts)


def check_against_truth(sim: Simulator, pipeline: Any, stuck_h: float = 168, stale_h: float = 48) -> None:
    truth = truth_at_reference(sim, pipeline)
    pairs = expected_pairs(truth, stuck_h, stale_h)

    stuck = view_rows(pipeline, "SELECT backfill_id FROM {stuck_backfills}")
    assert sorted(r["backfill_id"] for r in stuck) == truth.stuck_backfills(stuck_h)
    failed = view_rows(pipeline, "SELECT backfill_id FROM {failed_backfills}")
    assert sorted(r["backfill_id"] for r in failed) == truth.failed_backfills()
    stale = view_rows(pipeline, "SELECT connection_id, data_set_id FROM {stale_datasets}")
    assert sorted((r["connection_id"], r["data_set_id"]) for r in stale) == truth.stale_datasets(stale_h)

    cols = list(next(iter(pairs.values())))
    health = view_rows(
        pipeline, f"SELECT connection_id, data_set_id, {', '.join(cols)} FROM {{backfill_health}}"
    )
    got = {(r.pop("connection_id"), r.pop("data_set_id")): r for r in health}
    assert got == pairs

    conns = expected_connections(truth, pairs)
    cols = list(next(iter(conns.values())))
    rows = view_rows(pipeline, f"SELECT connection_id, {', '.join(cols)} FROM {{connection_health}}")
    assert {r.pop("connection_id"): r for r in rows} == conns

    [org] = view_rows(pipeline, "SELECT * FROM {org_health_summary}")
    statuses = Counter(p["health_status"] for p in pairs.values())
    by_status = Counter(b["status"] for b in truth.backfills.values())
    assert org["org_id"] == sim.cfg.org_id
    assert (org["stuck_after_hours"], org["stale_after_hours"]) == (stuck_h, stale_h)
    assert org["connections"] == len(truth.connections)
    assert org["datasets"] == len(truth.datasets)
    for status in ("STUCK", "FAILED", "IN_PROGRESS", "HEALTHY", "NO_BACKFILLS"):
        assert org[f"datasets_{status.lower()}"] == statuses[status], status
    assert org["datasets_stale"] == len(truth.stale_datasets(stale_h))
    assert org["backfills_total"] == len(truth.backfills)
    assert org["backfills_completed"] == by_status["COMPLETED"]
    assert org["backfills_failed"] == by_status["FAILED"]
    assert org["backfills_in_progress"] == by_status["IN_PROGRESS"]
    assert org["backfills_in_queue"] == by_status["IN_QUEUE"]
    assert org["backfills_stuck"] == len(truth.stuck_backfills(stuck_h))
    assert org["validation_errors"] == len(truth.validation_errors)
    assert org["connections_unhealthy"] == sum(
        c["worst_status"] in ("STUCK", "FAILED", "STALE", "VALIDATION_ERRORS") for c in conns.values()
    )


def test_views_match_ground_truth(synced: tuple) -> None:
    sim, _, pipeline = synced
    create_views(pipeline, HealthConfiguration())
    assert views_exist(pipeline)
    check_against_truth(sim, pipeline)
    # the org must exercise every status, or the comparison above proves little
    statuses = {
        r["health_status"] for r in view_rows(pipeline, "SELECT health_status FROM {backfill_health}")
    }
    assert statuses == {"STUCK", "FAILED", "IN_PROGRESS", "HEALTHY", "NO_BACKFILLS"}


def test_create_views_is_idempotent(synced: tuple) -> None:
    _, _, pipeline = synced
    assert create_views(pipeline, HealthConfiguration()) == list(VIEWS)
    assert create_views(pipeline, HealthConfiguration()) == list(VIEWS)
    assert view_rows(pipeline, "SELECT COUNT(*) AS n FROM {health_settings}") == [{"n": 1}]


def test_thresholds_change_the_answers(synced: tuple) -> None:
    sim, _, pipeline = synced
    create_views(pipeline, HealthConfiguration(stuck_after_hours=720, stale_after_hours=96))
    try:
        check_against_truth(sim, pipeline, stuck_h=720, stale_h=96)
        truth = sim.truth()
        assert len(truth.stuck_backfills(720)) < len(truth.stuck_backfills(168))
        assert len(truth.stale_datasets(96)) < len(truth.stale_datasets(48))
    finally:
        create_views(pipeline, HealthConfiguration())


def test_later_sync_clears_stuck_and_drops_deleted(synced: tuple) -> None:
    sim, opts, pipeline = synced
    stuck = view_rows(pipeline, "SELECT backfill_id, connection_id, data_set_id FROM {stuck_backfills}")
    target = stuck[0]
    # complete every stuck backfill of that pair, so the pair is no longer STUCK
    for row in stuck:
        if (row["connection_id"], row["data_set_id"]) == (target["connection_id"], target["data_set_id"]):
            sim.set_backfill_status(row["backfill_id"], "COMPLETED")
    gone = next(r["connection_id"] for r in stuck if r["connection_id"] != target["connection_id"])
    sim.delete_connection(gone)

    pipeline = sync(sim, opts)
    check_against_truth(sim, pipeline)
    ids = {r["backfill_id"] for r in view_rows(pipeline, "SELECT backfill_id FROM {stuck_backfills}")}
    assert target["backfill_id"] not in ids
    [pair] = view_rows(
        pipeline,
        "SELECT health_status, stuck_count FROM {backfill_health} "
        "WHERE connection_id = %s AND data_set_id = %s",
        target["connection_id"],
        target["data_set_id"],
    )
    assert pair["stuck_count"] == 0 and pair["health_status"] != "STUCK"
    # deleted in source: still in the tables, out of every view
    assert view_rows(pipeline, "SELECT deleted_in_source_at FROM {connections} WHERE id = %s", gone)[0][
        "deleted_in_source_at"
    ]
    assert (
        view_rows(pipeline, "SELECT COUNT(*) AS n FROM {backfills} WHERE connection_id = %s", gone)[0]["n"]
        > 0
    )
    views = ("backfill_health", "stuck_backfills", "failed_backfills", "stale_datasets", "connection_health")
    for view in views:
        assert not view_rows(pipeline, f"SELECT 1 AS x FROM {{{view}}} WHERE connection_id = %s", gone), view


def test_views_survive_missing_tables_and_columns(tmp_path: Any) -> None:
    """dlt creates a table or column only once a value shows up: the views must not wait for that."""
    opts = duckdb_options(tmp_path)
    with Simulator(SimConfig(seed=7, connections=5, rate_limit=None)) as sim:
        pipeline = sync(sim, opts)
    with pipeline.sql_client() as sql:
        sql.execute_sql(
            f"DROP TABLE IF EXISTS {sql.make_qualified_table_name('connection_validation_errors')}"
        )
        sql.execute_sql(f"ALTER TABLE {sql.make_qualified_table_name('datasets')} DROP COLUMN streaming")
    create_views(pipeline, HealthConfiguration())
    rows = view_rows(pipeline, "SELECT validation_errors, datasets_stale FROM {connection_health}")
    assert len(rows) == 5 and all(r == {"validation_errors": 0, "datasets_stale": 0} for r in rows)
    assert view_rows(pipeline, "SELECT COUNT(*) AS n FROM {backfill_health}")[0]["n"] > 0


# README "Health views": a connection's worst_status, worst first. A dataset ranks as STALE when it
# is stale and neither STUCK nor FAILED; VALIDATION_ERRORS belongs to connections only.
DOCUMENTED_ORDER = ("STUCK", "FAILED", "STALE", "VALIDATION_ERRORS", "IN_PROGRESS", "HEALTHY", "NO_BACKFILLS")


def test_severity_follows_the_documented_order(synced: tuple) -> None:
    _, _, pipeline = synced
    create_views(pipeline, HealthConfiguration())
    rank = {status: len(DOCUMENTED_ORDER) - 1 - i for i, status in enumerate(DOCUMENTED_ORDER)}
    datasets = view_rows(pipeline, "SELECT health_status, is_stale, severity_rank FROM {backfill_health}")
    for d in datasets:
        stale_shows = d["is_stale"] and d["health_status"] not in ("STUCK", "FAILED")
        assert d["severity_rank"] == rank["STALE" if stale_shows else d["health_status"]], d
    assert {d["severity_rank"] for d in datasets} == {0, 1, 2, 4, 5, 6}
    connections = view_rows(pipeline, "SELECT worst_status, severity FROM {connection_health}")
    for c in connections:
        assert c["severity"] == rank[c["worst_status"]], c
