"""The paginator's rules: a new page size goes on from the same item, a timed-out page is asked
again at half the size down to a floor, paging stops on whichever signal says "last", and the
guard ends a listing that cannot end. Also the next page size of an inline listing and the retry
budget of one call."""

from __future__ import annotations

from typing import Any

import pytest

from cja_source import settings
from cja_source.errors import PagingError, ServiceUnavailableError
from cja_source.listing import _inline_limit, listed_first_page
from cja_source.paging import CJAPagePaginator, PagingGuard
from cja_source.retry_budget import RetryBudget, with_note


def _cursor(limit: int, page: int, skip: int = 0) -> CJAPagePaginator:
    cursor = CJAPagePaginator(limit=limit, page=page)
    cursor.skip = skip
    return cursor


@pytest.mark.parametrize(
    ("limit", "page", "skip", "new_limit", "expected"),
    [
        pytest.param(100, 2, 0, 100, (100, 2, 0), id="the same size moves nothing"),
        pytest.param(100, 2, 0, 50, (50, 4, 0), id="a smaller size that divides the offset lands on a page"),
        pytest.param(100, 1, 0, 30, (30, 3, 10), id="a size that does not divide it skips the repeats"),
        pytest.param(10, 5, 0, 40, (40, 1, 10), id="a larger size starts before the offset and skips"),
        pytest.param(30, 3, 10, 100, (100, 1, 0), id="a pending skip is part of the offset"),
        pytest.param(1000, 0, 0, 10, (10, 0, 0), id="at the start every size lands on page 0"),
    ],
)
def test_resize_goes_on_from_the_same_item(
    limit: int, page: int, skip: int, new_limit: int, expected: tuple[int, int, int]
) -> None:
    cursor = _cursor(limit, page, skip)
    cursor.resize(new_limit)
    assert (cursor.limit, cursor.page, cursor.skip) == expected


@pytest.mark.parametrize(
    ("limit", "page", "floor", "expected"),
    [
        pytest.param(100, 1, 10, (True, 50, 2, 0), id="halving doubles the page number"),
        pytest.param(15, 1, 10, (True, 10, 1, 5), id="halving stops at the floor and skips what was read"),
        pytest.param(11, 3, 10, (True, 10, 3, 3), id="just above the floor halves to the floor"),
        pytest.param(10, 4, 10, (False, 10, 4, 0), id="at the floor it refuses and moves nothing"),
        pytest.param(5, 4, 10, (False, 5, 4, 0), id="below the floor it refuses too"),
    ],
)
def test_halve(limit: int, page: int, floor: int, expected: tuple[bool, int, int, int]) -> None:
    cursor = _cursor(limit, page)
    halved = cursor.halve(floor)
    assert (halved, cursor.limit, cursor.page, cursor.skip) == expected


def test_take_drops_the_items_a_realignment_repeats() -> None:
    cursor = _cursor(limit=100, page=1)
    cursor.resize(30)  # offset 100 is item 10 of page 3
    items = cursor.take({"content": list(range(90, 120)), "totalPages": 10})
    assert (items[0], len(items), cursor.skip, cursor.page) == (100, 20, 0, 4)


FULL = [1, 2]  # a full page for limit=2
PAGE_RULES = [
    # body of page 0 (limit 2) -> whether another page is asked
    pytest.param({"content": FULL, "lastPage": True}, False, id="the guide's lastPage ends paging"),
    pytest.param({"content": FULL, "last": True}, False, id="the OpenAPI last ends paging"),
    pytest.param({"content": FULL, "lastPage": False, "last": True}, True, id="lastPage wins over last"),
    pytest.param({"content": FULL, "lastPage": False}, True, id="a full page not last goes on"),
    pytest.param({"content": [], "lastPage": False}, False, id="an empty page ends paging"),
    pytest.param({"content": None, "totalPages": 5}, False, id="a null content is an empty page"),
    pytest.param({"content": FULL, "totalPages": 1}, False, id="the last of totalPages ends paging"),
    pytest.param({"content": FULL, "totalPages": 3}, True, id="a page before totalPages goes on"),
    pytest.param({"content": [1]}, False, id="without any signal a short page is the last"),
    pytest.param({"content": FULL}, True, id="without any signal a full page goes on"),
]


@pytest.mark.parametrize(("body", "goes_on"), PAGE_RULES)
def test_when_paging_stops(body: dict[str, Any], goes_on: bool) -> None:
    cursor = CJAPagePaginator(limit=2)
    cursor.take(body)
    assert (cursor.has_next_page, cursor.page, cursor.pages_read) == (goes_on, 1, 1)


def test_the_page_asked_for_counts_not_the_number_the_body_names() -> None:
    cursor = CJAPagePaginator(limit=2, page=2)
    cursor.take({"content": FULL, "number": 0, "totalPages": 3})  # a service ignoring `page`
    assert (cursor.page, cursor.has_next_page) == (3, False)


def test_a_service_that_never_says_last_stops_past_the_largest_total() -> None:
    cursor = CJAPagePaginator(limit=2)
    cursor.take({"content": FULL, "totalPages": 2, "last": False})
    while cursor.has_next_page:  # later pages drop totalPages and never say last
        cursor.take({"content": FULL, "last": False})
    assert cursor.pages_read == 2 + 3  # the largest total seen plus EXTRA_PAGES_ALLOWED


WHERE = "GET /data/connections"


@pytest.mark.parametrize(
    ("body", "limit", "message"),
    [
        pytest.param({"totalElements": 10}, 5, None, id="a total within the limit is accepted"),
        pytest.param(
            {"totalElements": 11},
            5,
            "CJA API announced 11 items at GET /data/connections, more than the 10 allowed; "
            "stopping instead of paging on",
            id="a total beyond the limit is refused",
        ),
        pytest.param({"totalElements": True}, 5, None, id="a boolean total is no number"),
        pytest.param({"totalPages": 8}, 2, None, id="the pages the limit fills plus 3 are accepted"),
        pytest.param(
            {"totalPages": 9},
            2,
            "CJA API announced 9 pages of 2 at GET /data/connections, more than the 10 allowed "
            "can fill; stopping instead of paging on",
            id="more pages than the limit can fill are refused",
        ),
    ],
)
def test_guard_checks_what_the_service_announces(
    body: dict[str, Any], limit: int, message: str | None
) -> None:
    guard = PagingGuard(WHERE, 10, "the 10 allowed")
    if message is None:
        guard.check_claim(body, limit, 0)
    else:
        with pytest.raises(PagingError) as caught:
            guard.check_claim(body, limit, 0)
        assert str(caught.value) == message


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        pytest.param([[{"id": "a"}], [{"id": "b"}]], None, id="new ids on every page are accepted"),
        pytest.param(
            [[{"id": "a"}, {"id": "b"}], [{"id": "b"}, {"id": "c"}]], None, id="a partial repeat is fine"
        ),
        pytest.param(
            [[{"id": "a"}], [{"id": "a"}]],
            "CJA API answered page 1 at GET /data/connections with only items it had already sent "
            "(it repeats a page or ignores `page`); stopping instead of paging on",
            id="a page of only repeats is refused",
        ),
        pytest.param([[{"id": True}], [{"id": True}]], None, id="items without a usable id only count"),
        pytest.param(
            [[{"id": 1}, {"id": 2}], [{"id": 3}, {}]],
            "CJA API kept sending new items at GET /data/connections: 4, more than the 3 allowed; "
            "stopping instead of paging on",
            id="more items than the limit are refused",
        ),
        pytest.param([[], []], None, id="empty pages are no repeats"),
    ],
)
def test_guard_checks_what_the_service_sends(pages: list[list[Any]], message: str | None) -> None:
    guard = PagingGuard(WHERE, 3, "the 3 allowed")
    if message is None:
        for number, items in enumerate(pages):
            guard.check_items(items, number)
    else:
        with pytest.raises(PagingError) as caught:
            for number, items in enumerate(pages):
                guard.check_items(items, number)
        assert str(caught.value) == message


def _connections(n: int, backfills_each: int) -> list[Any]:
    return [{"dataSets": [{"backfills": [{}] * backfills_each}]} for _ in range(n)]


@pytest.mark.parametrize(
    ("items", "limit", "most", "expected"),
    [
        pytest.param(_connections(50, 0), 50, 1000, 1000, id="light connections fill the largest page"),
        pytest.param(_connections(50, 0), 50, 200, 200, id="never more than the configured page size"),
        pytest.param(_connections(50, 999), 50, 1000, 50, id="1000 items each keep 50 per page"),
        pytest.param(_connections(50, 799), 50, 1000, 50, id="a size within 25 percent is kept"),
        pytest.param(_connections(50, 599), 50, 1000, 83, id="a size further off is taken"),
        pytest.param(_connections(5, 99_999), 50, 1000, settings.MIN_PAGE_SIZE, id="never below the floor"),
        pytest.param(["x", *_connections(1, 1)], 50, 1000, 1000, id="what is not an object is no item"),
        pytest.param([], 50, 1000, 1000, id="an empty page reads as light connections"),
    ],
)
def test_inline_listing_page_size(items: list[Any], limit: int, most: int, expected: int) -> None:
    assert _inline_limit(items, limit, most) == expected


@pytest.mark.parametrize(
    ("page_size", "connections", "pairs", "expected"),
    [
        pytest.param(1000, 0, 0, 1000, id="a first sync keeps the configured size"),
        pytest.param(1000, 573, 4654, 657, id="the reference org: its 573 connections in one page"),
        pytest.param(1000, 1000, 100_000, 59, id="the maximal org: ~6,000 items a page"),
        pytest.param(20, 573, 4654, 20, id="never more than the configured page size"),
        pytest.param(1000, 1, 1_000_000, settings.MIN_PAGE_SIZE, id="never below the floor"),
    ],
)
def test_resync_first_page_size(page_size: int, connections: int, pairs: int, expected: int) -> None:
    assert listed_first_page(page_size, connections, pairs) == expected


@pytest.mark.parametrize(
    ("attempts", "timeout", "max_backoff", "seconds"),
    [
        pytest.param(
            8, 60.0, 60.0, 8 * 70.0 + 7 * 60.0, id="each try a connect and a read timeout plus pauses"
        ),
        pytest.param(1, 60.0, 60.0, 70.0, id="one try has no pause"),
        pytest.param(3, 5.0, 1.0, 3 * 15.0 + 2 * 1.0, id="short timeouts give a short budget"),
    ],
)
def test_retry_budget_of(attempts: int, timeout: float, max_backoff: float, seconds: float) -> None:
    assert RetryBudget.of(attempts, timeout, max_backoff) == RetryBudget(attempts, seconds)


def test_with_note_keeps_type_status_and_code() -> None:
    error = with_note(ServiceUnavailableError("HTTP 503 at /x", status=503, code="E1"), "gave up")
    assert (type(error), error.message, error.status, error.code) == (
        ServiceUnavailableError,
        "HTTP 503 at /x; gave up",
        503,
        "E1",
    )


def test_a_bare_list_is_the_whole_answer() -> None:
    """A data view's components may come as a plain list (the spec's schema): no page follows it."""
    cursor = CJAPagePaginator(limit=2)
    items = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    assert cursor.take_list(items) == items
    assert cursor.has_next_page is False and cursor.pages_read == 1
