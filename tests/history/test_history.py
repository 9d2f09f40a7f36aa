"""connections_history (dlt scd2) and the connection_changes view, on DuckDB and the real Postgres."""

from __future__ import annotations

from typing import Any

import pytest

from cja_source.history import (
    dataset_settings_text,
    history_row,
    parse_dataset_settings,
)
from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query

CHANGES = "SELECT connection_id, data_set_id, field, change, old_value, new_value FROM {t}connection_changes"


@pytest.fixture(params=["duckdb", "postgres"])
def opts(request: pytest.FixtureRequest) -> Any:
    if request.param == "duckdb":
        return request.getfixturevalue("duckdb_opts")()
    return request.getfixturevalue("pg_opts")()


def _versions(opts: Any, cid: str) -> list[tuple[Any, ...]]:
    return query(
        opts,
        "SELECT valid_from, valid_to, data_retention_months, data_set_count FROM {t}connections_history "
        f"WHERE connection_id = '{cid}' ORDER BY valid_from",
    )


def test_mutation_makes_one_version_and_its_changes(make_sim, opts) -> None:
    sim = make_sim(connections=12)
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    assert query(opts, "SELECT count(*), count(DISTINCT connection_id) FROM {t}connections_history") == [
        (12, 12)
    ]
    assert query(opts, "SELECT count(*) FROM {t}connections_history WHERE valid_to IS NULL") == [(12,)]

    # an unchanged sync: no version, no change
    run_sync(cfg, opts)
    assert query(opts, "SELECT count(*) FROM {t}connections_history") == [(12,)]
    assert query(opts, CHANGES) == []

    # state moves, configuration does not: backfills change summaries, time passes
    truth = sim.truth()
    cid, dsid = next(k for k, d in truth.datasets.items() if d["backfillSummary"]["total"])
    sim.add_backfill(cid, dsid, status="IN_QUEUE")
    sim.advance(hours=30)
    run_sync(cfg, opts)
    assert query(opts, "SELECT count(*) FROM {t}connections_history") == [(12,)]
    assert query(opts, CHANGES) == []

    # a dataset removed and the retention changed: exactly one new version
    target = next(c for c in sim.connection_ids() if len(sim.dataset_ids(c)) >= 2)
    removed = sim.dataset_ids(target)[0]
    removed_name = sim.truth().datasets[(target, removed)]["name"]
    old_retention = sim.truth().connections[target]["dataRetentionMonths"]
    new_retention = 37 if old_retention != 37 else 25
    sim.remove_dataset(target, removed)
    sim.modify_connection(target, dataRetentionMonths=new_retention)
    summary = run_sync(cfg, opts)
    assert query(opts, "SELECT count(*) FROM {t}connections_history") == [(13,)]
    versions = _versions(opts, target)
    assert len(versions) == 2
    (from1, to1, ret1, count1), (from2, to2, ret2, count2) = versions
    assert to1 == from2 and to2 is None
    assert (ret1, ret2) == (old_retention, new_retention)
    assert count2 == count1 - 1
    assert sorted(query(opts, CHANGES), key=str) == sorted(
        [
            (target, None, "data_retention_months", "changed", str(old_retention), str(new_retention)),
            (target, removed, "data_sets", "removed", removed_name, None),
        ],
        key=str,
    )
    changed_at = query(opts, "SELECT DISTINCT changed_at FROM {t}connection_changes")
    assert changed_at == [(from2,)]
    started = summary.started_at
    assert from2.isoformat() >= started[:19]


def test_dataset_settings_added_and_deleted_connection(make_sim, duckdb_opts) -> None:
    sim = make_sim(connections=10)
    cfg, opts = fast_settings(sim), duckdb_opts()
    run_sync(cfg, opts)
    ids = sim.connection_ids()
    added = sim.add_dataset(ids[1], name="brand new events", streaming=True)
    untouched = ids[2]
    sim.modify_connection(ids[3], name="A new name", description="line one\nline two")
    sim.delete_connection(ids[0])
    new_conn = sim.add_connection(name="Fresh connection")
    run_sync(cfg, opts)
    rows = {(r[0], r[1], r[2]): r[3:] for r in query(opts, CHANGES)}
    assert rows[(ids[1], added, "data_sets")] == ("added", None, "brand new events")
    assert rows[(ids[0], None, "connection")][0:2] == ("removed", sim_name(opts, ids[0]))
    assert rows[(ids[3], None, "name")][0] == "changed"
    assert rows[(ids[3], None, "name")][2] == "A new name"
    assert rows[(ids[3], None, "description")][2] == "line one\nline two"
    assert rows[(new_conn, None, "connection")] == ("added", None, "Fresh connection")
    assert not any(k[0] == untouched for k in rows)
    # the deleted connection's last version is closed; its rows are kept
    closed = "SELECT count(*), count(valid_to) FROM {t}connections_history WHERE connection_id = "
    assert query(opts, closed + f"'{ids[0]}'") == [(1, 1)]


def sim_name(opts: Any, cid: str) -> str:
    return query(opts, f"SELECT name FROM {{t}}connections WHERE id = '{cid}'")[0][0]


def test_filtered_listing_closes_nothing_outside_it(make_sim, duckdb_opts) -> None:
    """With connection_ids set, scd2 merges on connection_id: unlisted connections keep their version."""
    sim = make_sim(connections=8)
    opts = duckdb_opts()
    run_sync(fast_settings(sim), opts)
    ids = sim.connection_ids()
    sim.modify_connection(ids[1], dataRetentionMonths=2)
    sim.modify_connection(ids[2], dataRetentionMonths=2)
    run_sync(fast_settings(sim, connection_ids=[ids[1]]), opts)
    assert query(opts, "SELECT count(*), count(valid_to) FROM {t}connections_history") == [(9, 1)]
    assert [r[0] for r in query(opts, CHANGES)] == [ids[1]]
    # back to the complete listing: the other change is picked up, nothing else moves
    run_sync(fast_settings(sim), opts)
    assert query(opts, "SELECT count(*), count(valid_to) FROM {t}connections_history") == [(10, 2)]
    assert sorted(r[0] for r in query(opts, CHANGES)) == sorted([ids[1], ids[2]])


# ----- the row shape, without a warehouse -----

BASE: dict[str, Any] = {
    "id": "dg_abc",
    "name": "Web",
    "description": "d",
    "owner": {"imsUserId": "U@AdobeID", "type": "imsUser"},
    "sandboxName": "prod",
    "sandboxId": "sb1",
    "dataRetentionMonths": 13,
    "isDisabled": False,
    "modifiedDate": "2024-01-01T00:00:00Z",
    "numDailyEvents": 10,
    "backfillSummary": {"total": 3},
    "dataSets": [
        {
            "dataSetId": "ds1",
            "name": "events\twith tab",
            "type": "event",
            "streaming": True,
            "dataSourceType": {"id": "webData", "description": "Web"},
            "lastIngestedTime": "2024-01-01T00:00:00Z",
            "backfillSummary": {"total": 3},
            "lookupParentFields": ["a", "b"],
        },
        {"dataSetId": "ds2", "name": "lookup", "type": "lookup", "streaming": False},
    ],
}


def _with(**changes: Any) -> dict[str, Any]:
    item = {**BASE, **changes}
    return item


def test_volatile_fields_are_not_versioned() -> None:
    row = history_row(BASE, "ORG")
    moved = _with(
        modifiedDate="2025-01-01T00:00:00Z",
        numDailyEvents=99,
        backfillSummary={"total": 4},
        dataSets=[
            {**BASE["dataSets"][1]},
            {
                **BASE["dataSets"][0],
                "lastIngestedTime": "2025-01-01T00:00:00Z",
                "backfillSummary": {"total": 9},
            },
        ],
        dataRetentionMonths="13",
    )
    again = history_row(moved, "ORG")
    assert again["version_hash"] == row["version_hash"]
    assert again["source_modified_at"] != row["source_modified_at"]
    assert history_row(_with(dataRetentionMonths=14), "ORG")["version_hash"] != row["version_hash"]
    other = history_row({**BASE, "id": "other"}, "ORG")
    assert other["version_hash"] != row["version_hash"]


def test_dataset_settings_text_round_trips() -> None:
    text = dataset_settings_text(BASE["dataSets"])
    parsed = parse_dataset_settings(text)
    assert parsed["ds1"][""] == "events\\twith tab"
    assert parsed["ds1"]["streaming"] == "true"
    assert parsed["ds1"]["data_source_type"] == "webData"
    assert parsed["ds1"]["lookup_parent_fields"] == '["a","b"]'
    assert "backfill_summary" not in parsed["ds1"] and "last_ingested_time" not in parsed["ds1"]
    assert parsed["ds2"] == {"": "lookup", "type": "lookup", "streaming": "false"}
    assert all(line.count("\t") == 2 for line in text.split("\n"))


def test_connection_changes_stays_small_in_memory(make_sim, duckdb_opts) -> None:
    """The reference org's history, diffed under a 128 MB DuckDB cap (a lateral UNNEST once needed
    over 1 GB here)."""
    import duckdb

    sim = make_sim(connections=573, seed=42)
    opts = duckdb_opts()
    cfg = fast_settings(sim, page_size=1000)
    run_sync(cfg, opts)
    cid = sorted(sim.truth().connections)[0]
    sim.modify_connection(cid, dataRetentionMonths=7)
    run_sync(cfg, opts)
    with duckdb.connect(opts.duckdb_path, read_only=True) as db:
        db.execute("SET memory_limit = '128MB'")
        rows = db.sql("SELECT connection_id, field FROM cja.connection_changes").fetchall()
    assert rows == [(cid, "data_retention_months")]
