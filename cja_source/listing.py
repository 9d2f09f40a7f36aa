"""The connections listing: request parameters from the settings, and a pager that survives drift."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import settings
from .changes import PageChanges
from .client import CJAClient
from .configuration import CJASourceConfiguration
from .errors import PagingError
from .paging import PagingGuard
from .validate import backfill_item, connection_item

logger = logging.getLogger("cja_source")

# Passes over the listing when items moved while we paged (each pass only adds unseen items).
MAX_LISTING_PASSES = 3
# With inline backfill lists a page of 1,000 connections of 100 datasets is ~165 MB of JSON and
# over 1 GB parsed: a small first page measures how many nested items a connection carries, and
# the next pages hold about INLINE_ITEMS_PER_PAGE of them (~45 MB parsed). Bench P4, extract phase:
# ~1 GB peak RSS with 150k items and 300 first, ~430 MB with 50k and 50, in less time.
INLINE_FIRST_PAGE = 50
INLINE_ITEMS_PER_PAGE = 50_000
# Without inline lists a dataset still parses to ~3 kB (its containerFields, summary, settings): a
# re-sync of 1,000 connections x 100 datasets as one page added ~310 MB to an idle run (bench P8;
# pages of ~12k items: +60 MB, ~6k: +30 MB, 17 requests). Pages hold about this many connections +
# datasets; the first page is sized from the datasets per connection the warehouse holds, so an
# org of a few datasets per connection (the reference org: 573 x ~6.5) still takes one request.
LISTED_ITEMS_PER_PAGE = 6_000
# A new size is taken only when it is this far off: with page-number paging every change of size
# re-reads part of a page.
RESIZE_TOLERANCE = 0.25
# Connections per re-listing with inline lists: keeps the URL (connectionIds) under ~2 kB.
RELIST_IDS = 40
LIST_WHERE = f"GET {settings.ENDPOINTS['list']}"
ORG_LIMIT = f"the {settings.MAX_CONNECTIONS_PER_ORG} connections an org can have"


def listing_guard() -> PagingGuard:
    return PagingGuard(LIST_WHERE, settings.MAX_CONNECTIONS_PER_ORG, ORG_LIMIT)


def _inline_limit(
    items: list[dict[str, Any]], limit: int, most: int, per_page: int = INLINE_ITEMS_PER_PAGE
) -> int:
    """The next page's limit: about `per_page` nested items, at most `most`."""
    nested = sum(  # runs before the items are validated: skips what is not an object
        1 + len(d.get("backfills") or ())
        for c in items
        if isinstance(c, dict)
        for d in c.get("dataSets") or ()
        if isinstance(d, dict)
    )
    per_connection = max(1.0, nested / max(1, len(items)))
    wanted = min(most, max(settings.MIN_PAGE_SIZE, int(per_page / per_connection)))
    if abs(wanted - limit) <= RESIZE_TOLERANCE * limit:
        return limit
    return wanted


@dataclass
class ListingPage:
    """One page of connections; `items` are the API's dicts, deduplicated across pages."""

    items: list[dict[str, Any]]
    number: int
    total_elements: int | None
    # what of the page goes to dlt (set by the connection_listing resource); None: everything
    changes: PageChanges | None = None


def listing_params(cfg: CJASourceConfiguration, inline_backfills: bool) -> list[dict[str, Any]]:
    """One parameter set per listing call: the API filters by one sandbox name at a time."""
    expansions = list(settings.LIST_EXPANSIONS)
    if inline_backfills:
        expansions.append(settings.INLINE_BACKFILLS_EXPANSION)
    include_type = [
        name
        for name, on in (("disabled", cfg.include_disabled), ("systemUserOwned", cfg.include_system_owned))
        if on
    ]
    base: dict[str, Any] = {
        "expansion": ",".join(expansions),
        "includeHiddenDataSets": "true" if cfg.include_hidden_datasets else "false",
        # the API's default cached=true may serve a listing minutes old
        "cached": "false",
        "locale": cfg.locale,
        "sortProperty": "id",
        "sortDirection": "ASC",
    }
    if include_type:
        base["includeType"] = ",".join(include_type)
    if cfg.connection_ids:
        base["connectionIds"] = ",".join(cfg.connection_ids)
    if cfg.sandbox_names:
        return [{**base, "sandboxName": name} for name in cfg.sandbox_names]
    return [base]


def listed_first_page(page_size: int, connections: int, pairs: int) -> int:
    """The first page's limit of a listing without inline lists, from what the warehouse holds
    (`connections`, `pairs`: none on a first sync, which keeps `page_size`)."""
    if not connections:
        return page_size
    per_connection = 1 + pairs / connections
    return min(page_size, max(settings.MIN_PAGE_SIZE, int(LISTED_ITEMS_PER_PAGE / per_connection)))


def connection_pages(
    client: CJAClient,
    param_sets: list[dict[str, Any]],
    page_size: int,
    inline_backfills: bool = False,
    first_page: int | None = None,
) -> Iterator[ListingPage]:
    """Every connection once. Paging is by page number, so an item inserted ahead of the reader
    pushes the next one onto a page already read (a repeat, dropped here), and an item removed
    behind it pulls one back (a miss). When the count seen falls short of the service's latest
    totalElements, the listing is read again for what is missing."""
    seen: set[str] = set()
    path = settings.ENDPOINTS["list"]
    for params in param_sets:
        in_this_set: set[str] = set()
        for _pass in range(MAX_LISTING_PASSES):
            expected = 0
            if inline_backfills:
                first = min(page_size, INLINE_FIRST_PAGE)
                resize = partial(_inline_limit, most=page_size)
            else:
                first = min(page_size, first_page or page_size)
                resize = partial(_inline_limit, most=page_size, per_page=LISTED_ITEMS_PER_PAGE)
            pages = client.paginate("list", path, params, first, next_limit=resize, guard=listing_guard())
            for items, meta in pages:
                total = meta.get("totalElements")
                if isinstance(total, int):
                    expected = total
                fresh = []
                for item in items:
                    connection_item(item, LIST_WHERE)
                    in_this_set.add(item["id"])
                    if item["id"] not in seen:
                        seen.add(item["id"])
                        fresh.append(item)
                if fresh:
                    yield ListingPage(
                        fresh, int(meta.get("number") or 0), total if isinstance(total, int) else None
                    )
            if len(in_this_set) >= expected:
                break
            logger.warning(
                "the listing moved while paging (%d of %d seen); reading it again", len(in_this_set), expected
            )
        else:
            raise PagingError(
                f"CJA API announced {expected} connections at {LIST_WHERE} but gave {len(in_this_set)} "
                f"in {MAX_LISTING_PASSES} readings; stopping rather than store a partial listing"
            )


def inline_datasets(
    client: CJAClient, cfg: CJASourceConfiguration, connection_ids: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(connection id, dataset) for the given connections, listed again with their inline backfill
    lists: one list request per RELIST_IDS connections instead of one backfills call per pair."""
    base = {
        k: v for k, v in listing_params(cfg, True)[0].items() if k not in ("sandboxName", "connectionIds")
    }
    for start in range(0, len(connection_ids), RELIST_IDS):
        chunk = connection_ids[start : start + RELIST_IDS]
        params = {**base, "connectionIds": ",".join(chunk)}
        pages = client.paginate("list", settings.ENDPOINTS["list"], params, len(chunk), guard=listing_guard())
        for items, _meta in pages:
            for c in items:
                connection_item(c, LIST_WHERE)
                cid = c["id"] if c["id"].startswith("dg_") else f"dg_{c['id']}"
                for d in c.get("dataSets") or ():
                    yield cid, d


def backfill_items(
    client: CJAClient, cid: str, dsid: str, page_size: int, summary_total: int | None
) -> list[dict[str, Any]]:
    """Every backfill of one pair from the backfills endpoint. The listing's backfillSummary.total
    bounds the list (plus what may be added meanwhile), so a list that never ends stops early."""
    path = settings.endpoint_path("backfills", connection_id=cid, data_set_id=dsid)
    where = f"GET {settings.ENDPOINTS['backfills']} (connection {cid!r}, dataset {dsid!r})"
    if summary_total is None:
        bound = settings.MAX_BACKFILLS_WITHOUT_SUMMARY
        why = f"the {bound} a dataset without a backfillSummary may have"
    else:
        bound = summary_total + settings.BACKFILLS_GROWTH_ALLOWED
        why = f"the {bound} its backfillSummary.total of {summary_total} allows"
    params = {"sortProperty": "createdDate", "sortDirection": "ASC"}
    items: list[dict[str, Any]] = []
    for page_items, _meta in client.paginate(
        "backfills", path, params, page_size, guard=PagingGuard(where, bound, why)
    ):
        items.extend(backfill_item(b, where) for b in page_items)
    return items
