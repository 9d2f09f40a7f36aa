"""What counts as a change (cja_source/changes.py) and the stored backfills by pair."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from cja_source.changes import ChangeTracker, connection_digest, dataset_digest
from cja_source.records import WarehouseSnapshot
from cja_source.stored_backfills import StoredBackfills, rows_table, table_of
from cja_source.stored_pairs import PairState

T = datetime(2026, 1, 1, tzinfo=UTC)
DATASET = {"dataSetId": "d1", "name": "Web", "backfillSummary": {"total": 2, "failed": 0}}
CONNECTION = {"id": "dg_c1", "name": "C", "owner": {"type": "imsUser"}, "dataSets": [DATASET]}


def test_a_digest_ignores_key_order_and_inline_backfills_but_not_a_nested_value() -> None:
    reordered = dict(reversed(list(DATASET.items())))
    assert dataset_digest(reordered) == dataset_digest(DATASET)
    assert dataset_digest({**DATASET, "backfills": [{"id": "b"}]}) == dataset_digest(DATASET)
    moved = {**DATASET, "backfillSummary": {"total": 2, "failed": 1}}
    assert dataset_digest(moved) != dataset_digest(DATASET)
    renamed_owner = {**CONNECTION, "owner": {"type": "systemUser"}}
    assert connection_digest(renamed_owner) != connection_digest(CONNECTION)
    # a dataset's own fields are not the connection's; which datasets it has are
    assert connection_digest({**CONNECTION, "dataSets": [moved]}) == connection_digest(CONNECTION)
    assert connection_digest({**CONNECTION, "dataSets": []}) != connection_digest(CONNECTION)


def _snapshot(**pairs: PairState) -> WarehouseSnapshot:
    return WarehouseSnapshot(
        connections_first_seen={"dg_c1": T, "dg_gone": T},
        connections_hash={"dg_c1": connection_digest(CONNECTION), "dg_gone": "x"},
        pairs={("dg_c1", k): v for k, v in pairs.items()},
    )


def test_the_tracker_emits_what_changed_and_names_what_was_not_listed() -> None:
    snap = _snapshot(
        d1=PairState(T, content_hash=dataset_digest(DATASET)),
        d_removed=PairState(T, content_hash="y"),
        d_deleted_before=PairState(T, content_hash=None, live=False),
    )
    tracker = ChangeTracker(snap, everything=False)
    same = tracker.page([CONNECTION])
    assert not same.connections and not same.datasets and not same.history
    unlisted = tracker.unlisted()
    assert unlisted.connections == {"dg_gone"}
    assert unlisted.pairs == {("dg_c1", "d_removed")}

    changed = ChangeTracker(snap, everything=False).page(
        [{**CONNECTION, "dataSets": [{**DATASET, "lastIngestedTime": "2026-01-02T00:00:00Z"}]}]
    )
    assert set(changed.datasets) == {("dg_c1", "d1")} and not changed.connections
    assert changed.history == {"dg_c1"}
    assert set(ChangeTracker(snap, everything=True).page([CONNECTION]).connections) == {"dg_c1"}


def test_stored_backfills_by_pair() -> None:
    rows = [
        ("dg_a", "d1", "b1", T, "COMPLETED"),
        ("dg_a", "d1", "b2", T, "IN_PROGRESS"),
        ("dg_a", "d2", "b3", T, "FAILED"),
        ("dg_b", "d1", "b4", T, "COMPLETED"),
    ]
    stored = StoredBackfills(table_of([rows_table(rows[:3]), rows_table(rows[3:])]))
    assert {k: e - s for k, (s, e) in stored.spans.items()} == {
        ("dg_a", "d1"): 2,
        ("dg_a", "d2"): 1,
        ("dg_b", "d1"): 1,
    }
    first_seen, status = stored.of_pair("dg_a", "d1")
    assert set(first_seen) == {"b1", "b2"} and status == {"b2": "IN_PROGRESS"}
    assert stored.of_pair("dg_x", "d1") == ({}, {})
    empty = StoredBackfills(table_of([]))
    assert empty.spans == {} and isinstance(empty.rows, pa.Table)
