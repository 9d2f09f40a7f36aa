"""dlt source for Adobe Customer Journey Analytics connection metadata.

A catalogue of resources: every connection of the org, its datasets, every dataset backfill, the
connections' validation errors and B2B containers, and the data source types. One paged listing of
connections feeds every per-connection table; backfill lists are asked only for pairs whose
`backfillSummary` moved since the last successful sync (the contract's rule, see backfill_plan).
Last, the data views each connection feeds and their components (see data_views).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.typing import TDataItems
from dlt.sources import DltResource

from . import history, settings, unlisted
from .arrow_rows import backfills_table, datasets_table
from .backfill_fetch import page_backfill_batches
from .changes import ChangeTracker, PageChanges, dataset_digest
from .client import CJAClient, ClientConfig
from .configuration import CJASourceConfiguration, load_settings
from .data_view_catalogue import data_view_resources
from .errors import ConfigurationError, EmptyListingError, MalformedResponseError
from .hints import DELETABLE, SEEN
from .hints import column_hints as _hints
from .listing import ListingPage, connection_pages, listed_first_page, listing_params
from .observations import (
    CHANGES_HINTS,
    CHANGES_TABLE,
    VOLUME_HINTS,
    VOLUME_TABLE,
    status_changes,
    volume_rows,
)
from .read_ahead import read_ahead
from .records import (
    DATASET_LISTS,
    WarehouseSnapshot,
    connection_row,
    container_field_rows,
    container_rows,
    dataset_row,
    pair_first_seen,
    validation_error_rows,
    with_prefix,
)
from .schema_info import page_schema_infos
from .sync_context import SyncContext
from .version import __version__

__all__ = [
    "cja_source",
    "make_client",
    "load_settings",
    "CJASourceConfiguration",
    "WarehouseSnapshot",
    "__version__",
]

logger = logging.getLogger("cja_source")

DATA_SOURCE_TYPES_MAX_AGE = 24 * 3600.0


def make_client(cfg: CJASourceConfiguration) -> CJAClient:
    """The HTTP client for one credential (one throttle, one token)."""
    creds = cfg.credentials
    return CJAClient(
        ClientConfig(
            base_url=cfg.base_url,
            token_url=cfg.token_url,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            org_id=creds.org_id,
            scopes=creds.scopes,
            requests_per_window=int(cfg.requests_per_window),
            window_seconds=float(cfg.window_seconds),
            max_concurrency=int(cfg.max_concurrency),
            timeout=float(cfg.request_timeout),
            max_attempts=int(cfg.max_attempts),
            backoff_base=float(cfg.backoff_base),
            settings_path=cfg.__settings_path__,
        )
    )


@dlt.source(name="cja", section="cja", max_table_nesting=2, spec=CJASourceConfiguration)
def cja_source(
    config: CJASourceConfiguration = dlt.config.value,
    full: bool = False,
    allow_empty: bool = False,
    client: CJAClient | None = None,
    snapshot: WarehouseSnapshot | None = None,
    run_started_at: datetime | None = None,
    stats: dict[str, int] | None = None,
) -> list[DltResource]:
    """All CJA connection metadata of one org.

    `config` is resolved by dlt from `[sources.cja]` (toml files, environment) unless given; explicit
    values win. Incremental by itself: the first resource to run reads what the pipeline's warehouse
    holds (or `snapshot`, when the caller read it) and only changed pairs get their backfills asked.
    `full` refetches every backfill list. Deletions, `sync_runs` and the views are the work of
    `cja_sync.finish_sync(pipeline, ...)` after the load.
    """
    problems = config.problems()
    if problems:
        raise ConfigurationError(problems[0])
    ctx = SyncContext(
        cfg=config,
        client=client or make_client(config),
        now=run_started_at or datetime.now(UTC),
        full=full,
        allow_empty=allow_empty,
        given_snapshot=snapshot,
        stats=stats if stats is not None else {},
    )
    listing = connection_listing(ctx)
    # only connections present in the load may get a new version: unchanged ones are not in it
    # (changes.py), and a filtered listing says nothing about the connections outside it. The
    # versions of deleted connections are closed after the load (cja_sync's reconcile).
    history_versions = listing | connections_history(ctx)
    history_versions.apply_hints(merge_key="connection_id")
    backfill_batches = listing | backfills(ctx)
    return [
        listing,
        listing | connections(ctx),
        history_versions,
        listing | datasets(ctx),
        backfill_batches,
        backfill_batches | backfill_status_changes(ctx),
        listing | connection_volume_history(ctx),
        listing | connection_validation_errors(ctx),
        listing | configured_containers(ctx),
        listing | dataset_container_fields(ctx),
        data_source_types(ctx),
        *data_view_resources(ctx),
    ]


@dlt.resource(name="connection_listing", selected=False)
def connection_listing(ctx: SyncContext) -> Iterator[ListingPage]:
    """Pages of the full connections listing (every list expansion); feeds the tables below.
    Each page says which of its items changed since the warehouse stored them (changes.py)."""
    total = 0
    want_inline = ctx.want_inline
    params = listing_params(ctx.cfg, want_inline)
    page_size = int(ctx.cfg.page_size)
    first = listed_first_page(page_size, len(ctx.snapshot.connections_hash), len(ctx.snapshot.pairs))
    pages = connection_pages(ctx.client, params, page_size, want_inline, first)
    tracker = ChangeTracker(ctx.snapshot, everything=ctx.full)
    for page in read_ahead(pages, "cja-listing"):
        total += len(page.items)
        page.changes = tracker.page(page.items)
        yield page
    if total == 0 and not ctx.allow_empty:
        raise EmptyListingError(
            "the CJA API listed 0 connections: this is what a credential without product-admin "
            "rights gets; add the credential's API user to a CJA product admin profile, or pass "
            "--allow-empty if the org really has no connection"
        )
    unlisted.record(ctx.org_id, ctx.now, tracker.unlisted())


def _changes(page: ListingPage) -> PageChanges:
    if page.changes is None:  # a page not made by connection_listing: every item is new
        page.changes = ChangeTracker(WarehouseSnapshot(), everything=True).page(page.items)
    return page.changes


@dlt.transformer(
    name="connections",
    primary_key="id",
    write_disposition="merge",
    columns=_hints(
        **DELETABLE,
        modified_date="timestamp",
        created_date="timestamp",
        description="text",
        content_hash="text",
    ),
)
def connections(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """One row per connection ever seen; `deleted_in_source_at` marks those no longer listed.
    Only new and changed connections are written (`content_hash`, changes.py)."""
    first_seen = ctx.snapshot.connections_first_seen
    changed = _changes(page).connections
    yield [
        connection_row(c, ctx.org_id, ctx.now, first_seen.get(cid), changed[cid])
        for c in page.items
        if (cid := with_prefix(c["id"])) in changed
    ]


@dlt.transformer(name=history.TABLE, **history.RESOURCE_HINTS)
def connections_history(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """One row per version of a connection's configuration (scd2; see cja_source/history.py).
    Offered for connections whose item or datasets changed: the others cannot have a new version."""
    offered = _changes(page).history
    yield history.history_rows((c for c in page.items if with_prefix(c["id"]) in offered), ctx.org_id)


@dlt.transformer(
    name="datasets",
    primary_key=("connection_id", "data_set_id"),
    write_disposition="merge",
    columns=_hints(
        "connection_id",
        "data_set_id",
        **DELETABLE,
        last_ingested_time="timestamp",
        streaming_enabled_at="timestamp",
        lookup_parent_fields="json",
        content_hash="text",
    ),
)
def datasets(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """One row per (connection, dataset) pair ever seen, with its backfillSummary. Only new and
    changed pairs are written (`content_hash`, changes.py), and those with a schemaInfo asked now."""
    schema_infos = page_schema_infos(ctx, page) if ctx.cfg.fetch_schema_info else {}
    pairs = ctx.snapshot.pairs
    changed = _changes(page).datasets
    items, cids, states, infos, hashes = [], [], [], [], []
    for c in page.items:
        cid = with_prefix(c["id"])
        for d in c.get("dataSets") or ():
            key = (cid, d["dataSetId"])
            if key not in changed and key not in schema_infos:
                continue
            state = pairs.get(key)
            items.append(d)
            cids.append(cid)
            states.append(state)
            infos.append(schema_infos.get(key) or (state.schema_info if state else None))
            hashes.append(changed.get(key) or dataset_digest(d))
    if not items and not ctx.snapshot.empty:
        return  # a first sync still gets the typed table when its org has no dataset yet
    if not any(infos):  # schemaInfo (asked per connection, opt-in) takes the rows' way
        first_seen = [pair_first_seen(s, ctx.now) for s in states]
        table = datasets_table(items, cids, first_seen, ctx.org_id, ctx.now, DATASET_LISTS, hashes)
        if table is not None:
            yield table
            return
    yield [
        dataset_row(cid, d, ctx.org_id, ctx.now, state, info, h)
        for cid, d, state, info, h in zip(cids, items, states, infos, hashes, strict=True)
    ]


@dlt.transformer(
    name="backfills",
    primary_key="id",
    write_disposition="merge",
    columns=_hints(
        "id",
        **SEEN,
        # declared so that a first sync without any backfill still leaves the columns the next
        # run's warehouse snapshot reads (connection_id, data_set_id)
        connection_id="text",
        data_set_id="text",
        created_date="timestamp",
        start_date="timestamp",
        end_date="timestamp",
        status="text",
        all_data="bool",
    ),
)
def backfills(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """Every backfill of every dataset; asked only for new or changed pairs (or all with full),
    from the inline lists where complete, else from the backfills endpoint (see backfill_fetch)."""
    yield from ctx.materialize_once("backfills")
    for batch in page_backfill_batches(ctx, page):
        yield backfills_table(batch)


@dlt.transformer(name=CHANGES_TABLE, **CHANGES_HINTS)
def backfill_status_changes(batch: Any, ctx: SyncContext) -> TDataItems:
    """One row per observed status change of a backfill, bracketed by the sync that saw it and the
    previous successful sync (see cja_source/observations.py). Fed the backfill batches above."""
    yield from ctx.materialize_once(CHANGES_TABLE)
    if isinstance(batch, pa.Table | list) and len(batch):
        rows = status_changes(batch, ctx.snapshot, ctx.org_id, ctx.now)
        if len(rows):
            yield rows


@dlt.transformer(name=VOLUME_TABLE, **VOLUME_HINTS)
def connection_volume_history(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """Each listed connection's numDailyEvents at this sync: the series Adobe does not keep."""
    yield from ctx.materialize_once(VOLUME_TABLE)
    yield volume_rows(page.items, ctx.org_id, ctx.now)


@dlt.transformer(
    name="connection_validation_errors",
    primary_key=("connection_id", "error_key"),
    write_disposition="merge",
    columns=_hints(
        "connection_id",
        "error_key",
        last_seen_at="timestamp",
        org_id="text",
        error_code="text",
        data_set_id="text",
        data_set_name="text",
        disallowed_field="text",
        missing_field="text",
    ),
)
def connection_validation_errors(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """Current validation errors of every listed connection (resolved ones are removed after the
    load). Written with their connection's row: only when it changed."""
    yield from ctx.materialize_once("connection_validation_errors")
    changed = _changes(page).connections
    yield [
        r
        for c in page.items
        if with_prefix(c["id"]) in changed
        for r in validation_error_rows(
            with_prefix(c["id"]), c.get("connectionValidationErrors"), ctx.org_id, ctx.now
        )
    ]


@dlt.transformer(
    name="configured_containers",
    primary_key=("connection_id", "container"),
    write_disposition="merge",
    columns=_hints("connection_id", "container", last_seen_at="timestamp", org_id="text"),
)
def configured_containers(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """Containers of account-based (B2B) connections; written with their connection's row."""
    yield from ctx.materialize_once("configured_containers")
    changed = _changes(page).connections
    yield [
        r
        for c in page.items
        if with_prefix(c["id"]) in changed
        for r in container_rows(with_prefix(c["id"]), c.get("configuredContainers"), ctx.org_id, ctx.now)
    ]


@dlt.transformer(
    name="dataset_container_fields",
    primary_key=("connection_id", "data_set_id", "container"),
    write_disposition="merge",
    columns=_hints(
        "connection_id",
        "data_set_id",
        "container",
        last_seen_at="timestamp",
        org_id="text",
        system_field_value="text",
    ),
)
def dataset_container_fields(page: ListingPage, ctx: SyncContext) -> TDataItems:
    """containerFields of the datasets of B2B connections; written with their dataset's row."""
    yield from ctx.materialize_once("dataset_container_fields")
    changed = _changes(page).datasets
    yield [
        r
        for c in page.items
        for d in c.get("dataSets") or ()
        if (with_prefix(c["id"]), d["dataSetId"]) in changed
        for r in container_field_rows(
            with_prefix(c["id"]), d["dataSetId"], d.get("containerFields"), ctx.org_id, ctx.now
        )
    ]


@dlt.resource(
    name="data_source_types",
    primary_key="id",
    write_disposition="merge",
    columns=_hints(description="text", org_id="text", locale="text", last_seen_at="timestamp"),
)
def data_source_types(ctx: SyncContext) -> TDataItems:
    """The data source types datasets can be tagged with (configurationSettings). A fixed list
    in practice: asked on the first sync, with full, for a new locale, or once a day."""
    locale = ctx.cfg.locale
    seen = ctx.snapshot.data_source_types_seen.get(locale)
    if not ctx.full and seen is not None and (ctx.now - seen).total_seconds() < DATA_SOURCE_TYPES_MAX_AGE:
        return
    body = ctx.client.get(
        "configurationSettings", settings.ENDPOINTS["configurationSettings"], {"locale": locale}
    )
    types = body.get("dataSourceTypes") if isinstance(body, dict) else None
    if not isinstance(types, list):
        raise MalformedResponseError("configurationSettings answered without a dataSourceTypes list")
    yield [
        {**t, "locale": locale, "org_id": ctx.org_id, "last_seen_at": ctx.now}
        for t in types
        if isinstance(t, dict) and t.get("id")
    ]
