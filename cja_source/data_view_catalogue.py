"""The data view resources of the source (the catalogue's second room): the listing of data views
and, with `data_view_components`, their dimensions and metrics and the datasets those read. The
logic lives in data_views.py and data_view_rows.py; here each table declares its keys and hints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.common.typing import TDataItems
from dlt.sources import DltResource

from . import data_views as dv
from . import unlisted
from .hints import DELETABLE, column_hints
from .sync_context import SyncContext


def data_view_resources(ctx: SyncContext) -> list[DltResource]:
    """The data view tables (cja_source/data_views.py), with `data_views` on."""
    if not ctx.cfg.data_views:
        return []
    listing = data_view_listing(ctx)
    batches = listing | data_view_component_batches(ctx)
    return [
        listing | data_views(ctx),
        batches | data_view_components(ctx),
        batches | data_view_component_datasets(ctx),
    ]


@dlt.resource(name="data_view_listing", selected=False)
def data_view_listing(ctx: SyncContext) -> Iterator[list[dict[str, Any]]]:
    """Pages of the data views listing (every expansion, deleted ones included). An org without
    any gives one empty page, so that the tables below are created all the same."""
    empty, listed = True, set[str]()
    for page in dv.data_view_pages(ctx):
        empty = False
        listed.update(item["id"] for item in page)
        yield page
    if empty:
        yield []
    # unchanged data views are not written, so last_seen_at cannot tell a deleted one: the state says
    unlisted.record_data_views(ctx.org_id, ctx.now, dv.unlisted_ids(ctx, listed))


@dlt.transformer(
    name="data_views",
    primary_key="id",
    write_disposition="merge",
    columns=column_hints("id", **DELETABLE, **dv.DATA_VIEW_TYPES),
)
def data_views(page: list[dict[str, Any]], ctx: SyncContext) -> TDataItems:
    """One row per data view ever seen: its connection (`parentDataGroupId`), every list expansion;
    `deleted_in_source_at` once it is listed isDeleted or no longer listed."""
    yield from ctx.materialize_once("data_views")
    if page:
        yield dv.data_view_rows(ctx, page)


@dlt.transformer(name="data_view_component_batches", selected=False)
def data_view_component_batches(page: list[dict[str, Any]], ctx: SyncContext) -> Iterator[dv.ComponentBatch]:
    """Dimensions and metrics of the page's new or modified data views (data_view_components on)."""
    yield dv.component_batch(ctx, page)  # even empty: the tables below are created from it


@dlt.transformer(
    name="data_view_components",
    primary_key=("data_view_id", "id"),
    write_disposition="merge",
    columns=column_hints("data_view_id", "id", "kind", **dv.COMPONENT_TYPES),
)
def data_view_components(batch: dv.ComponentBatch, ctx: SyncContext) -> TDataItems:
    """One row per dimension or metric of a data view, hidden ones included (with
    data_view_components on); `deleted_in_source_at` marks those gone from a re-read or deleted
    data view."""
    yield from ctx.materialize_once("data_view_components")
    if batch.components:
        yield batch.components


@dlt.transformer(
    name="data_view_component_datasets",
    primary_key=("data_view_id", "component_id", "data_set_id"),
    write_disposition="merge",
    columns=column_hints(
        "data_view_id", "component_id", "data_set_id", org_id="text", last_seen_at="timestamp"
    ),
)
def data_view_component_datasets(batch: dv.ComponentBatch, ctx: SyncContext) -> TDataItems:
    """One row per dataset a component reads (its dataSetIds)."""
    yield from ctx.materialize_once("data_view_component_datasets")
    if batch.datasets:
        yield batch.datasets
