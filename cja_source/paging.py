"""CJA's 0-based page-number paging: both page shapes, page halving, and a hard stop."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from .errors import PagingError

# However the service answers, never ask for more pages than this many past the last known total.
EXTRA_PAGES_ALLOWED = 3


class CJAPagePaginator:
    """Page-number paginator for both shapes the API is documented with.

    The guide's shape says `firstPage`/`lastPage`, the OpenAPI (Spring) shape `first`/`last`; both
    carry `number` and `totalPages`. Paging stops on whichever says "last", on `number + 1 >=
    totalPages`, on an empty page, or past the largest total seen plus a small allowance, so a
    service that never says "last" cannot keep us looping. The client drives it: `params` for
    the next request, `take` for each answer, `has_next_page` to go on.
    """

    def __init__(self, limit: int, page: int = 0) -> None:
        self.limit = limit
        self.page = page
        self.skip = 0  # items to drop from the next page after a halving realigned the offset
        self.max_total_pages = 0
        self.pages_read = 0
        self.has_next_page = True

    @property
    def params(self) -> dict[str, int]:
        return {"limit": self.limit, "page": self.page}

    def halve(self, min_limit: int) -> bool:
        """Ask the current offset again with half the page size; False when already at the floor."""
        if self.limit <= min_limit:
            return False
        self.resize(max(min_limit, self.limit // 2))
        return True

    def resize(self, limit: int) -> None:
        """Go on from the same item with another page size. Pages are numbered in units of the
        limit, so the next page may start before the offset: `skip` drops the repeated items."""
        if limit == self.limit:
            return
        offset = self.page * self.limit + self.skip
        self.limit = limit
        self.page, self.skip = divmod(offset, self.limit)

    def take(self, body: Any) -> list[Any]:
        """Items of this page (after any realignment skip) and move the cursor on."""
        content = body.get("content") if isinstance(body, dict) else None
        if content is None:
            content = []
        items = content[self.skip :] if self.skip else content
        self.skip = 0
        self.advance(body, len(content))
        return items

    def take_list(self, body: list[Any]) -> list[Any]:
        """A bare list (no envelope) is the whole answer: there is no page to ask for after it. The
        spec documents a data view's dimensions and metrics this way, the guide as a page."""
        self.pages_read += 1
        self.has_next_page = False
        return body[self.skip :] if self.skip else body

    def advance(self, body: dict[str, Any], count: int | None = None) -> None:
        self.pages_read += 1
        if count is None:
            count = len(body.get("content") or [])
        total_pages = body.get("totalPages")
        if isinstance(total_pages, int):
            self.max_total_pages = max(self.max_total_pages, total_pages)
        # the page we asked for, not the one the body names: a service that ignores `page` and
        # answers "number": 0 every time would otherwise send us back to page 1 forever
        number = self.page
        last = body.get("lastPage")
        if last is None:
            last = body.get("last")
        if (
            last is True
            or count == 0
            or (isinstance(total_pages, int) and number + 1 >= total_pages)
            or (self.max_total_pages and number + 1 >= self.max_total_pages + EXTRA_PAGES_ALLOWED)
            or (total_pages is None and last is None and count < self.limit)
        ):
            self.has_next_page = False
        self.page = number + 1


class PagingGuard:
    """Stops a listing that cannot end: a page that adds no new item (the service repeats a page or
    ignores `page`), more items than the API's own limits allow (`max_items`), or a page count or
    total announced beyond them. Only ids are kept, so memory is bounded by `max_items` too."""

    def __init__(self, where: str, max_items: int, why: str) -> None:
        self.where = where  # "GET /data/connections", with the connection and dataset if any
        self.max_items = max_items
        self.why = why  # "the 1000 connections an org can have": max_items and its source
        self.seen: set[Any] = set()
        self.count = 0

    def check_claim(self, body: dict[str, Any], limit: int, page: int) -> None:
        total = body.get("totalElements")
        if _is_int(total) and total > self.max_items:
            raise PagingError(
                f"CJA API announced {total} items at {self.where}, more than {self.why}; "
                "stopping instead of paging on"
            )
        pages = body.get("totalPages")
        allowed = math.ceil(self.max_items / max(1, limit)) + EXTRA_PAGES_ALLOWED
        if _is_int(pages) and pages > allowed:
            raise PagingError(
                f"CJA API announced {pages} pages of {limit} at {self.where}, more than {self.why} "
                "can fill; stopping instead of paging on"
            )

    def check_items(self, items: list[Any], page: int) -> None:
        new = 0
        for item in items:
            key = item.get("id") if isinstance(item, dict) else None
            if not isinstance(key, str | int) or isinstance(key, bool):
                new += 1  # no usable id: validation names the item, paging only counts it
            elif key not in self.seen:
                self.seen.add(key)
                new += 1
        if items and not new:
            raise PagingError(
                f"CJA API answered page {page} at {self.where} with only items it had already sent "
                "(it repeats a page or ignores `page`); stopping instead of paging on"
            )
        self.count += new
        if self.count > self.max_items:
            raise PagingError(
                f"CJA API kept sending new items at {self.where}: {self.count}, more than "
                f"{self.why}; stopping instead of paging on"
            )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
