"""The pure checks where data enters: paging bounds, item validation, encoded paths, NUL."""

from __future__ import annotations

import pytest

from cja_source.errors import CJAError, InvalidItemError, PagingError
from cja_source.paging import PagingGuard
from cja_source.settings import endpoint_path
from cja_source.validate import backfill_item, connection_item, storable


def test_guard_lets_a_drifted_page_through_and_stops_a_repeated_one():
    guard = PagingGuard("GET /x", 100, "the 100 things")
    guard.check_items([{"id": "a"}, {"id": "b"}], 0)
    guard.check_items([{"id": "b"}, {"id": "c"}], 1)  # one repeat pushed over by an insert
    with pytest.raises(PagingError, match="page 2 at GET /x with only items it had already sent"):
        guard.check_items([{"id": "b"}, {"id": "c"}], 2)


def test_guard_counts_new_items_and_claims_against_the_bound():
    guard = PagingGuard("GET /x", 5, "the 5 things")
    guard.check_claim({"totalElements": 5, "totalPages": 3}, 2, 0)
    with pytest.raises(PagingError, match="announced 6 items at GET /x, more than the 5 things"):
        guard.check_claim({"totalElements": 6}, 2, 0)
    with pytest.raises(PagingError, match="announced 7 pages of 2"):
        guard.check_claim({"totalPages": 7}, 2, 0)  # 5 items fill 3 pages, plus 3 allowed
    guard.check_items([{"id": i} for i in "abc"], 0)
    guard.check_items(["no id", {"id": "d"}], 1)
    with pytest.raises(PagingError, match="kept sending new items at GET /x: 6"):
        guard.check_items([{"id": "e"}], 2)
    assert issubclass(PagingError, CJAError)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("dg_1", "at L: a connection is the string 'dg_1', not an object"),
        ({"id": 7}, "at L: a connection's id is the number 7, not a string"),
        ({"name": "x"}, "at L: a connection's id is missing"),
        ({"id": ""}, "at L: a connection's id is empty, not a string"),
        ({"id": "c", "dataSets": {}}, "at L, connection 'c': dataSets is an object, not a list"),
        ({"id": "c", "dataSets": [3]}, "at L, connection 'c': a dataset is the number 3, not an object"),
        ({"id": "c", "dataSets": [{"name": "d"}]}, "at L, connection 'c': a dataset's dataSetId is missing"),
        (
            {"id": "c", "dataSets": [{"dataSetId": "d", "backfills": [{"status": "FAILED"}]}]},
            "at L, connection 'c', dataset 'd': a backfill's id is missing",
        ),
        (
            {"id": "c\n", "dataSets": [{"dataSetId": "d", "backfills": {}}]},
            "at L, connection 'c\\n', dataset 'd': backfills is an object, not a list",
        ),
    ],
)
def test_connection_item_names_what_is_wrong(item, message):
    with pytest.raises(InvalidItemError) as info:
        connection_item(item, "L")
    assert str(info.value) == f"CJA API sent a malformed item {message}"
    assert "\n" not in str(info.value)


def test_valid_items_pass_unchanged():
    item = {"id": "c", "dataSets": [{"dataSetId": "d", "backfills": [{"id": "b"}]}]}
    assert connection_item(item, "L") is item
    assert connection_item({"id": "c"}, "L") == {"id": "c"}  # dataSets not expanded
    with pytest.raises(InvalidItemError, match="a backfill is a list"):
        backfill_item([], "B")


def test_endpoint_path_encodes_each_id_as_one_segment():
    path = endpoint_path("backfills", connection_id="dg_a/b", data_set_id="x#y?z%2F é中\"'")
    assert path == "/data/connections/dg_a%2Fb/datasets/x%23y%3Fz%252F%20%C3%A9%E4%B8%AD%22%27/backfills"


def test_storable_replaces_nul_and_lone_surrogates_everywhere():
    body = {"content": [{"na\x00me": "a\x00b", "n": 1, "l": ["\x00", None, "\udc00x"]}]}
    assert storable(body) == {
        "content": [{"na\ufffdme": "a\ufffdb", "n": 1, "l": ["\ufffd", None, "\ufffdx"]}]
    }
