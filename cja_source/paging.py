"""CJA's 0-based page-number paging: both page shapes, page halving, and a hard stop."""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

# However the service answers, never ask for more pages than this many past the last known total.
EXTRA_PAGES_ALLOWED = 3


class CJAPagePaginator(BasePaginator):
    """Page-number paginator for both shapes the API is documented with.

    The guide's shape says `firstPage`/`lastPage`, the OpenAPI (Spring) shape `first`/`last`; both
    carry `number` and `totalPages`. Paging stops on whichever says "last", on `number + 1 >=
    totalPages`, on an empty page, or past the largest total seen plus a small allowance, so a
    service that never says "last" cannot keep us looping. Usable with dlt's RESTClient too.
    """

    def __init__(self, limit: int, page: int = 0) -> None:
        super().__init__()
        self.limit = limit
        self.page = page
        self.skip = 0  # items to drop from the next page after a halving realigned the offset
        self.max_total_pages = 0
        self.pages_read = 0

    def init_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "limit": self.limit, "page": self.page}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.advance(response.json())

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "limit": self.limit, "page": self.page}

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

    def advance(self, body: dict[str, Any], count: int | None = None) -> None:
        self.pages_read += 1
        if count is None:
            count = len(body.get("content") or [])
        total_pages = body.get("totalPages")
        if isinstance(total_pages, int):
            self.max_total_pages = max(self.max_total_pages, total_pages)
        number = body.get("number")
        number = number if isinstance(number, int) else self.page
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
            self._has_next_page = False
        self.page = number + 1
