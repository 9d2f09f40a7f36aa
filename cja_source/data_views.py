"""Data views and their components: what each connection feeds.

The listing (every expansion, deleted data views included) is read on every sync: a page per
`page_size` data views. A data view's dimensions and metrics cost one call each, so with
`data_view_components = true` they are asked only for data views that are new, or whose
`modifiedDate` moved since their components were last asked (or all with `full`). Deletions of
data views and of the components of a re-read data view are marked after the load
(`cja_sync` reconcile_data_views)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import settings
from .data_view_rows import (
    component_dataset_rows,
    component_item,
    component_row,
    data_view_item,
    data_view_row,
    needs_components,
    unchanged,
)
from .errors import PagingError
from .paging import PagingGuard
from .sync_context import SyncContext

logger = logging.getLogger("cja_source")

LIST_WHERE = f"GET {settings.ENDPOINTS['dataviews']}"
ORG_LIMIT = f"the {settings.MAX_DATA_VIEWS_PER_ORG} data views an org can list (deleted ones included)"
# Passes over the listing when data views moved while we paged (each pass adds only unseen ones).
MAX_LISTING_PASSES = 3

Row = dict[str, Any]

# Column types the tables must have from their first sync, whether or not a value came (views,
# merges and the next run's snapshot read them).
DATA_VIEW_TYPES = {
    "connection_id": "text",
    "name": "text",
    "description": "text",
    "is_deleted": "bool",
    "modified_date": "timestamp",
    "created_date": "timestamp",
    "recent_recorded_access": "date",
    # lists: one JSON value each, not a nested table
    "segment_list": "json",
    "session_definition": "json",
    "components_synced_at": "timestamp",
    "components_modified_date": "timestamp",
}
COMPONENT_TYPES = {
    "org_id": "text",
    "last_seen_at": "timestamp",
    "deleted_in_source_at": "timestamp",
    "name": "text",
    "description": "text",
    "source_field_id": "text",
    "type": "text",
    "hidden": "bool",
    "has_data": "bool",
}


@dataclass
class ComponentBatch:
    """The components of the data views of one listing page that needed them."""

    components: list[Row]
    datasets: list[Row]


def listing_params() -> dict[str, Any]:
    return {
        "expansion": ",".join(settings.DATA_VIEW_EXPANSIONS),
        "includeType": "deleted",
        # the API's default cached=true may serve a listing minutes old
        "cached": "false",
        "sortProperty": "id",
        "sortDirection": "ASC",
    }


def data_view_pages(ctx: SyncContext) -> Iterator[list[Row]]:
    """Every data view once, a page at a time. Page-number paging misses an item when one ahead of
    the reader goes away: if fewer than the latest totalElements came, the listing is read again
    for what is missing."""
    seen: set[str] = set()
    params = listing_params()
    expected = 0
    for _pass in range(MAX_LISTING_PASSES):
        guard = PagingGuard(LIST_WHERE, settings.MAX_DATA_VIEWS_PER_ORG, ORG_LIMIT)
        pages = ctx.client.paginate(
            "dataviews", settings.ENDPOINTS["dataviews"], params, int(ctx.cfg.page_size), guard=guard
        )
        for items, meta in pages:
            total = meta.get("totalElements")
            if isinstance(total, int) and not isinstance(total, bool):
                expected = total
            fresh = []
            for item in items:
                data_view_item(item, LIST_WHERE)
                if item["id"] not in seen:
                    seen.add(item["id"])
                    fresh.append(item)
            if fresh:
                yield fresh
        if len(seen) >= expected:
            return
        logger.warning(
            "the data view listing moved while paging (%d of %d seen); reading it again", len(seen), expected
        )
    raise PagingError(
        f"CJA API announced {expected} data views at {LIST_WHERE} but gave {len(seen)} in "
        f"{MAX_LISTING_PASSES} readings; stopping rather than store a partial listing"
    )


def to_fetch(ctx: SyncContext, page: list[Row]) -> list[Row]:
    """The data views of `page` whose components are asked in this run."""
    if not ctx.cfg.data_view_components:
        return []
    states = ctx.snapshot.data_views
    return [dv for dv in page if needs_components(dv, states.get(dv["id"]), ctx.full)]


def data_view_rows(ctx: SyncContext, page: list[Row]) -> list[Row]:
    fetched = {dv["id"] for dv in to_fetch(ctx, page)}
    states = ctx.snapshot.data_views
    return [
        data_view_row(dv, ctx.org_id, ctx.now, states.get(dv["id"]), dv["id"] in fetched)
        for dv in page
        if not unchanged(dv, states.get(dv["id"]), dv["id"] in fetched, ctx.full)
    ]


def unlisted_ids(ctx: SyncContext, listed: set[str]) -> list[str]:
    """Live stored data views of the org the (complete) listing did not return."""
    return sorted(
        i for i, s in ctx.snapshot.data_views.items() if s.deleted_in_source_at is None and i not in listed
    )


def component_batch(ctx: SyncContext, page: list[Row]) -> ComponentBatch:
    """Dimensions and metrics (hidden ones included) of the data views of `page` that need them,
    `max_concurrency` lists at once."""
    tasks = [(dv["id"], kind) for dv in to_fetch(ctx, page) for kind in settings.COMPONENT_KINDS]
    batch = ComponentBatch([], [])
    if not tasks:
        return batch
    workers = max(1, min(int(ctx.cfg.max_concurrency), len(tasks)))
    with ThreadPoolExecutor(workers, thread_name_prefix="cja-components") as pool:
        for (dvid, kind), items in zip(
            tasks, pool.map(lambda t: component_items(ctx, *t), tasks), strict=True
        ):
            for item in items:
                batch.components.append(component_row(item, dvid, kind, ctx.org_id, ctx.now))
                batch.datasets.extend(component_dataset_rows(item, dvid, ctx.org_id, ctx.now))
    return batch


def component_items(ctx: SyncContext, data_view_id: str, kind: str) -> list[Row]:
    """Every dimension or metric of one data view; the answer may be a page or a bare list."""
    endpoint = f"{kind}s"
    path = settings.endpoint_path(endpoint, data_view_id=data_view_id)
    where = f"GET {settings.ENDPOINTS[endpoint]} (data view {data_view_id!r})"
    bound = settings.MAX_COMPONENTS_PER_LIST
    guard = PagingGuard(where, bound, f"the {bound} {kind}s a data view is allowed here")
    params = {
        "includeType": "hidden",
        "expansion": ",".join(settings.COMPONENT_EXPANSIONS),
        "locale": ctx.cfg.locale,
    }
    items: list[Row] = []
    for page_items, _meta in ctx.client.paginate(
        endpoint, path, params, int(ctx.cfg.page_size), guard=guard, bare_list=True
    ):
        items.extend(component_item(c, where) for c in page_items)
    # a page per kind: the same id twice would be one row merged twice
    return list({c["id"]: c for c in items}.values())
