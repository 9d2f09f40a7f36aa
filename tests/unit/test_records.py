"""API objects into warehouse rows: ids, summaries, numbers outside int64, backfill and
validation-error rows, the Arrow fast path and when it steps aside, the observations, and the
checks where items enter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from cja_source.arrow_rows import backfills_table, datasets_table
from cja_source.errors import InvalidItemError
from cja_source.observations import status_changes, volume_rows
from cja_source.records import (
    PairState,
    WarehouseSnapshot,
    backfill_rows,
    connection_row,
    container_rows,
    dataset_row,
    fit_wide_numbers,
    same_instant,
    summary_key,
    validation_error_rows,
    with_prefix,
)
from cja_source.validate import connection_item, describe, needs_storable, storable

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)
WIDE = 2**63  # one past int64


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        pytest.param("dg_abc", "dg_abc", id="a prefixed id is kept"),
        pytest.param("abc", "dg_abc", id="a bare id gets dg_"),
        pytest.param("dgabc", "dg_dgabc", id="dg without the underscore is no prefix"),
    ],
)
def test_with_prefix(given: str, stored: str) -> None:
    assert with_prefix(given) == stored


@pytest.mark.parametrize(
    ("summary", "key"),
    [
        pytest.param({"total": 5, "failed": 1, "inProgress": 2, "completed": 1}, (5, 1, 2, 1), id="all four"),
        pytest.param({"total": 3}, (3, 0, 0, 0), id="missing counts are 0"),
        pytest.param({"total": None, "failed": "2"}, (0, 2, 0, 0), id="null is 0 and digits are counted"),
        pytest.param({"total": "many"}, None, id="a count that is no number is no summary"),
        pytest.param(None, None, id="no summary"),
        pytest.param([5], None, id="a list is no summary"),
    ],
)
def test_summary_key(summary: Any, key: tuple[int, ...] | None) -> None:
    assert summary_key(summary) == key


@pytest.mark.parametrize(
    ("stored", "listed", "same"),
    [
        pytest.param(
            datetime(2026, 1, 1, 10, tzinfo=UTC), "2026-01-01T10:00:00Z", True, id="the same instant"
        ),
        pytest.param(
            datetime(2026, 1, 1, 10, tzinfo=UTC),
            "2026-01-01T11:00:00+01:00",
            True,
            id="another zone, same instant",
        ),
        pytest.param(
            datetime(2026, 1, 1, 10, tzinfo=UTC),
            "2026-01-01T10:00:00.002Z",
            False,
            id="2 ms apart is a change",
        ),
        pytest.param(datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01", True, id="a date alone is midnight UTC"),
        pytest.param(datetime(2026, 1, 1, tzinfo=UTC), "yesterday", False, id="text is no instant"),
        pytest.param(None, "2026-01-01T10:00:00Z", False, id="nothing stored is no match"),
    ],
)
def test_same_instant(stored: Any, listed: Any, same: bool) -> None:
    assert same_instant(stored, listed) is same


@pytest.mark.parametrize(
    ("row", "fitted"),
    [
        pytest.param({"n": 2**63 - 1}, {"n": 2**63 - 1}, id="int64's largest stays an integer"),
        pytest.param({"n": WIDE}, {"n": {"v_double": float(WIDE)}}, id="one past int64 becomes a double"),
        pytest.param(
            {"n": -(2**63) - 1}, {"n": {"v_double": float(-(2**63) - 1)}}, id="below int64 becomes a double"
        ),
        pytest.param({"o": {"n": 1e30}}, {"o": {"n": {"v_double": 1e30}}}, id="in a nested object too"),
        pytest.param(
            {"l": [1, WIDE]},
            {"l": [1, {"value": {"v_double": float(WIDE)}}]},
            id="in a list, as its value column",
        ),
        pytest.param(
            {"b": True, "f": 1.5, "s": "9" * 30}, {"b": True, "f": 1.5, "s": "9" * 30}, id="others stay"
        ),
    ],
)
def test_fit_wide_numbers(row: dict[str, Any], fitted: dict[str, Any]) -> None:
    assert fit_wide_numbers(row, "connection dg_1") == fitted


def test_a_row_without_wide_numbers_is_not_copied() -> None:
    row = {"a": 1, "o": {"b": [1, 2]}}
    assert fit_wide_numbers(row, "connection dg_1") is row


@pytest.mark.parametrize(
    ("first_seen", "expected"),
    [
        pytest.param(None, NOW, id="a new connection is first seen now"),
        pytest.param(EARLIER, EARLIER, id="a known connection keeps when it was first seen"),
    ],
)
def test_connection_row(first_seen: datetime | None, expected: datetime) -> None:
    item = {"id": "abc", "name": "Web", "dataSets": [{"dataSetId": "d"}], "configuredContainers": []}
    assert connection_row(item, "o@AdobeOrg", NOW, first_seen, "digest") == {
        "id": "dg_abc",
        "name": "Web",
        "org_id": "o@AdobeOrg",
        "first_seen_at": expected,
        "last_seen_at": NOW,
        "deleted_in_source_at": None,
        "content_hash": "digest",
    }


def test_dataset_row_drops_its_lists_and_keeps_first_seen() -> None:
    item = {"dataSetId": "d1", "name": "Events", "backfills": [{}], "containerFields": [{}]}
    row = dataset_row("dg_1", item, "o", NOW, PairState(first_seen_at=EARLIER), {"fields": 3})
    assert row == {
        "dataSetId": "d1",
        "name": "Events",
        "connection_id": "dg_1",
        "org_id": "o",
        "schemaInfo": {"fields": 3},
        "first_seen_at": EARLIER,
        "last_seen_at": NOW,
        "deleted_in_source_at": None,
        "content_hash": None,
    }


@pytest.mark.parametrize(
    ("items", "ids", "data_set_ids", "first_seen"),
    [
        pytest.param(
            [{"id": "b1"}, {"id": "b2"}], ["b1", "b2"], ["d", "d"], [NOW, NOW], id="each backfill a row"
        ),
        pytest.param(
            [{"id": "b1"}, {"id": "b1"}], ["b1"], ["d"], [NOW], id="a repeated backfill counts once"
        ),
        pytest.param(
            [{"id": ""}, {}, {"id": "b2"}], ["b2"], ["d"], [NOW], id="a backfill without an id is dropped"
        ),
        pytest.param([{"id": "old"}], ["old"], ["d"], [EARLIER], id="a known backfill keeps its first seen"),
        pytest.param(
            [{"id": "b1", "dataSetId": "other"}],
            ["b1"],
            ["other"],
            [NOW],
            id="the backfill's own dataset wins",
        ),
    ],
)
def test_backfill_rows(
    items: list[dict[str, Any]], ids: list[str], data_set_ids: list[str], first_seen: list[datetime]
) -> None:
    rows = backfill_rows("dg_1", "d", items, "o", NOW, {"old": EARLIER})
    assert [(r["id"], r["data_set_id"], r["first_seen_at"], "dataSetId" in r) for r in rows] == [
        (i, d, f, False) for i, d, f in zip(ids, data_set_ids, first_seen, strict=True)
    ]


@pytest.mark.parametrize(
    ("errors", "count"),
    [
        pytest.param(None, 0, id="no errors"),
        pytest.param([{"errorCode": "E1"}, {"errorCode": "E2"}], 2, id="each error a row"),
        pytest.param([{"errorCode": "E1", "x": 1}, {"errorCode": "E1", "x": 2}], 1, id="the same error once"),
        pytest.param([{"errorCode": "E1", "dataSetId": "a"}, {"errorCode": "E1"}], 2, id="per dataset"),
        pytest.param(["junk", {"errorCode": "E1"}], 1, id="what is not an object is dropped"),
    ],
)
def test_validation_error_rows(errors: Any, count: int) -> None:
    rows = validation_error_rows("dg_1", errors, "o", NOW)
    assert len({r["error_key"] for r in rows}) == len(rows) == count


def test_validation_error_key_is_stable_and_the_last_copy_wins() -> None:
    rows = validation_error_rows("dg_1", [{"errorCode": "E1", "x": 1}, {"errorCode": "E1", "x": 2}], "o", NOW)
    # the key is stored: changing how it is computed would orphan every stored error row. It is
    # sha1("E1\x1f\x1f\x1f") (errorCode, dataSetId, disallowedField, missingField), 16 hex digits
    assert [(r["error_key"], r["x"]) for r in rows] == [("f1ebe51dbe46f323", 2)]


def test_container_rows_drop_unnamed_and_repeated_containers() -> None:
    containers = [{"container": "person"}, {"container": "person"}, {"container": ""}, {}, "x"]
    assert container_rows("dg_1", containers, "o", NOW) == [
        {"connection_id": "dg_1", "container": "person", "org_id": "o", "last_seen_at": NOW}
    ]


def _backfill(**extra: Any) -> dict[str, Any]:
    row = {
        "id": "b1",
        "connection_id": "dg_1",
        "data_set_id": "d",
        "status": "COMPLETED",
        "createdDate": "2026-01-01T00:00:00Z",
        "allData": False,
        "org_id": "o",
        "first_seen_at": NOW,
        "last_seen_at": NOW,
    }
    row.update(extra)
    return row


@pytest.mark.parametrize(
    ("row", "arrow"),
    [
        pytest.param(_backfill(), True, id="the documented shape goes as Arrow"),
        pytest.param(_backfill(newField="x"), True, id="a new field is an inferred column"),
        pytest.param(
            _backfill(createdDate="2026-01-01T00:00:00"), False, id="a time without zone goes as rows"
        ),
        pytest.param(_backfill(allData=1), False, id="a number for a boolean goes as rows"),
        pytest.param(_backfill(status=3), False, id="a number for text goes as rows"),
        pytest.param(_backfill(newField=WIDE), False, id="a number outside int64 goes as rows"),
    ],
)
def test_backfills_table_or_rows(row: dict[str, Any], arrow: bool) -> None:
    batch = backfills_table([row])
    assert isinstance(batch, pa.Table) is arrow


def test_backfills_table_names_columns_as_dlt_would() -> None:
    table = backfills_table([_backfill(newField="x")])
    assert isinstance(table, pa.Table)
    assert table.column_names == [
        "id",
        "connection_id",
        "data_set_id",
        "status",
        "start_date",
        "end_date",
        "created_date",
        "all_data",
        "org_id",
        "first_seen_at",
        "last_seen_at",
        "newField",
    ]


def test_backfill_rows_fall_back_with_wide_numbers_fitted() -> None:
    assert backfills_table([{"id": "b1", "n": WIDE}]) == [{"id": "b1", "n": {"v_double": float(WIDE)}}]


@pytest.mark.parametrize(
    ("item", "arrow"),
    [
        pytest.param(
            {"dataSetId": "d", "backfillSummary": {"total": 1}}, True, id="documented fields go as Arrow"
        ),
        pytest.param(
            {"dataSetId": "d", "backfills": []}, True, id="a list with a table of its own is skipped"
        ),
        pytest.param({"dataSetId": "d", "newField": 1}, False, id="an undocumented field steps aside"),
        pytest.param(
            {"dataSetId": "d", "backfillSummary": {"x": 1}}, False, id="an unknown nested field too"
        ),
        pytest.param({"dataSetId": "d", "backfillSummary": 3}, False, id="a nested object that is no object"),
        pytest.param(
            {"dataSetId": "d", "backfillSummary": {"total": 1.5}}, False, id="a count that is no integer"
        ),
        pytest.param({"dataSetId": "d", "streaming": "yes"}, False, id="text for a boolean"),
    ],
)
def test_datasets_table_or_none(item: dict[str, Any], arrow: bool) -> None:
    table = datasets_table([item], ["dg_1"], [EARLIER], "o", NOW, ("backfills", "containerFields"))
    assert (table is not None) is arrow


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        pytest.param(120, 120, id="a count is stored"),
        pytest.param(12.0, 12, id="a whole double is an integer"),
        pytest.param(None, None, id="a missing count is NULL, not 0"),
        pytest.param("120", None, id="text is NULL"),
        pytest.param(True, None, id="a boolean is NULL"),
        pytest.param(WIDE, {"v_double": float(WIDE)}, id="a count outside int64 is its double"),
    ],
)
def test_volume_rows(value: Any, stored: Any) -> None:
    assert volume_rows([{"id": "abc", "numDailyEvents": value}], "o", NOW) == [
        {"org_id": "o", "connection_id": "dg_abc", "observed_at": NOW, "num_daily_events": stored}
    ]


KNOWN = WarehouseSnapshot(
    connections_first_seen={"dg_1": EARLIER},
    backfills_first_seen={"open": EARLIER, "done": EARLIER},
    backfills_status={"open": "IN_PROGRESS"},  # "done" is absent: COMPLETED
    last_success_at={"o": EARLIER},
)
EMPTY = WarehouseSnapshot()


@pytest.mark.parametrize(
    ("snapshot", "bid", "status", "change"),
    [
        pytest.param(KNOWN, "open", "IN_PROGRESS", None, id="an unchanged status is no change"),
        pytest.param(KNOWN, "open", "FAILED", ("IN_PROGRESS", "FAILED"), id="a stored status that moved"),
        pytest.param(KNOWN, "done", "COMPLETED", None, id="a backfill stored without status is COMPLETED"),
        pytest.param(
            KNOWN, "done", "FAILED", ("COMPLETED", "FAILED"), id="so a move away from it is a change"
        ),
        pytest.param(KNOWN, "new", "COMPLETED", (None, "COMPLETED"), id="a new backfill on a re-sync"),
        pytest.param(EMPTY, "new", "COMPLETED", None, id="the first sync skips finished history"),
        pytest.param(EMPTY, "new", "FAILED", None, id="failed is finished too"),
        pytest.param(
            EMPTY, "new", "IN_QUEUE", (None, "IN_QUEUE"), id="the first sync follows open backfills"
        ),
    ],
)
def test_status_changes(
    snapshot: WarehouseSnapshot, bid: str, status: str, change: tuple[str | None, str] | None
) -> None:
    rows = [{"id": bid, "connection_id": "dg_1", "data_set_id": "d", "status": status}]
    for batch in (rows, pa.Table.from_pylist(rows)):  # rows and Arrow batches follow one rule
        out = status_changes(batch, snapshot, "o", NOW)
        found = out.to_pylist() if isinstance(out, pa.Table) else out
        assert [(r["from_status"], r["to_status"]) for r in found] == ([change] if change else [])
        assert all(r["previous_observed_at"] == snapshot.last_success_at.get("o") for r in found)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        pytest.param({"id": "dg_1"}, None, id="a connection without datasets is fine"),
        pytest.param(
            [1], "CJA API sent a malformed item at W: a connection is a list, not an object", id="a list"
        ),
        pytest.param({}, "CJA API sent a malformed item at W: a connection's id is missing", id="no id"),
        pytest.param(
            {"id": 7},
            "CJA API sent a malformed item at W: a connection's id is the number 7, not a string",
            id="an integer id is refused, not coerced",
        ),
        pytest.param(
            {"id": "c", "dataSets": {}},
            "CJA API sent a malformed item at W, connection 'c': dataSets is an object, not a list",
            id="datasets that are no list",
        ),
        pytest.param(
            {"id": "c", "dataSets": [{"dataSetId": ""}]},
            "CJA API sent a malformed item at W, connection 'c': "
            "a dataset's dataSetId is empty, not a string",
            id="an empty dataset id",
        ),
        pytest.param(
            {"id": "c", "dataSets": [{"dataSetId": "d", "backfills": [{"id": False}]}]},
            "CJA API sent a malformed item at W, connection 'c', dataset 'd': a backfill's id is the "
            "boolean false, not a string",
            id="a backfill id that is a boolean, named with its dataset",
        ),
    ],
)
def test_connection_item(item: Any, message: str | None) -> None:
    if message is None:
        assert connection_item(item, "W") is item
    else:
        with pytest.raises(InvalidItemError) as caught:
            connection_item(item, "W")
        assert str(caught.value) == message


def test_describe_never_shows_a_long_value() -> None:
    assert describe("x" * 100) == f"the string {'x' * 40!r}"


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        pytest.param("a\x00b", "a\ufffdb", id="NUL becomes U+FFFD"),
        pytest.param("\ud800", "\ufffd", id="a lone surrogate becomes U+FFFD"),
        pytest.param({"k\x00": ["\x00"]}, {"k\ufffd": ["\ufffd"]}, id="in keys and lists too"),
        pytest.param(2**63, float(2**63), id="an integer outside int64 becomes a float"),
        pytest.param(2**63 - 1, 2**63 - 1, id="int64's largest stays"),
        pytest.param(True, True, id="a boolean stays"),
    ],
)
def test_storable(value: Any, stored: Any) -> None:
    assert storable(value) == stored


@pytest.mark.parametrize(
    ("content", "needs"),
    [
        pytest.param(b'{"a": "x\\u0000"}', True, id="an escaped NUL"),
        pytest.param(b'{"n": 1234567890123456789}', True, id="19 digits may be outside int64"),
        pytest.param(b'{"n": -1234567890123456789}', True, id="negative too"),
        pytest.param(b'{"n": [123456789012345678]}', False, id="18 digits always fit"),
        pytest.param(b'{"s": "1234567890123456789"}', False, id="digits in a string are text"),
        pytest.param(b'{"f": 1.5}', False, id="an ordinary body"),
    ],
)
def test_needs_storable(content: bytes, needs: bool) -> None:
    assert needs_storable(content) is needs
