"""dlt source for Adobe Customer Journey Analytics connection metadata.

A catalogue of resources: every connection of the org, its datasets, every dataset backfill, the
connections' validation errors and B2B containers, and the data source types. One paged listing of
connections feeds every per-connection table; backfill lists are asked only for pairs whose
`backfillSummary` moved since the last successful sync (the contract's rule, see backfill_plan).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.common.typing import TDataItems
from dlt.sources import DltResource

from . import history, settings
from .arrow_rows import backfills_table
from .backfill_plan import Plan, plan_pair
from .client import CJAClient, ClientConfig
from .config import CJASettings
from .errors import ConfigurationError, EmptyListingError, MalformedResponseError
from .listing import ListingPage, backfill_items, connection_pages, inline_datasets, listing_params
from .records import (
    WarehouseSnapshot,
    backfill_rows,
    connection_row,
    container_field_rows,
    container_rows,
    dataset_row,
    same_instant,
    summary_key,
    validation_error_rows,
    with_prefix,
)

__all__ = ["cja_source", "make_client", "CJASettings", "WarehouseSnapshot"]

logger = logging.getLogger("cja_source")


def _hints(**types: str) -> dict[str, dict[str, Any]]:
    """Column hints, a fresh dict per column (dlt writes into them). Hinted columns exist even
    while every value is null, which views and merges rely on."""
    return {name: {"data_type": t, "nullable": True} for name, t in types.items()}


SEEN = {"first_seen_at": "timestamp", "last_seen_at": "timestamp", "org_id": "text"}
DATA_SOURCE_TYPES_MAX_AGE = 24 * 3600.0
BATCH_ROWS = 50_000
RELIST_MIN_PAIRS = 2
DELETABLE = {**SEEN, "deleted_in_source_at": "timestamp"}


def make_client(cfg: CJASettings) -> CJAClient:
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
        )
    )


@dlt.source(name="cja", max_table_nesting=2)
def cja_source(
    cfg: CJASettings,
    client: CJAClient | None = None,
    snapshot: WarehouseSnapshot | None = None,
    full: bool = False,
    allow_empty: bool = False,
    run_started_at: datetime | None = None,
    stats: dict[str, int] | None = None,
) -> list[DltResource]:
    """All CJA connection metadata of one org. `snapshot` is what the warehouse already holds
    (None: a first sync); `full` refetches every backfill list."""
    client = client or make_client(cfg)
    snapshot = snapshot or WarehouseSnapshot()
    now = run_started_at or datetime.now(UTC)
    org_id = cfg.credentials.org_id
    page_size = int(cfg.page_size)
    pool = ThreadPoolExecutor(max_workers=int(cfg.max_concurrency), thread_name_prefix="cja")
    stats = stats if stats is not None else {}  # pairs by plan, read by the runner
    # Inline lists make a listing page many times larger, and pay off only when most pairs need
    # their lists: on a first sync or with --full. A re-sync asks the few changed pairs one by one.
    want_inline = cfg.backfills == "inline" or (cfg.backfills == "auto" and (full or snapshot.empty))

    @dlt.resource(name="connection_listing", selected=False)
    def connection_listing() -> Iterator[ListingPage]:
        """Pages of the full connections listing (every list expansion); feeds the tables below."""
        total = 0
        for page in connection_pages(client, listing_params(cfg, want_inline), page_size, want_inline):
            total += len(page.items)
            yield page
        if total == 0 and not allow_empty:
            raise EmptyListingError(
                "the CJA API listed 0 connections: this is what a credential without product-admin "
                "rights gets; add the credential's API user to a CJA product admin profile, or pass "
                "--allow-empty if the org really has no connection"
            )

    @dlt.transformer(
        data_from=connection_listing,
        name="connections",
        primary_key="id",
        write_disposition="merge",
        columns=_hints(**DELETABLE, modified_date="timestamp", created_date="timestamp", description="text"),
    )
    def connections(page: ListingPage) -> TDataItems:
        """One row per connection ever seen; `deleted_in_source_at` marks those no longer listed."""
        yield [
            connection_row(c, org_id, now, snapshot.connections_first_seen.get(with_prefix(c["id"])))
            for c in page.items
        ]

    @dlt.transformer(
        data_from=connection_listing,
        name="datasets",
        primary_key=("connection_id", "data_set_id"),
        write_disposition="merge",
        columns=_hints(
            **DELETABLE,
            last_ingested_time="timestamp",
            streaming_enabled_at="timestamp",
            lookup_parent_fields="json",
        ),
    )
    def datasets(page: ListingPage) -> TDataItems:
        """One row per (connection, dataset) pair ever seen, with its backfillSummary."""
        schema_infos = _schema_infos(page) if cfg.fetch_schema_info else {}
        rows = []
        for c in page.items:
            cid = with_prefix(c["id"])
            for d in c.get("dataSets") or ():
                key = (cid, d["dataSetId"])
                state = snapshot.pairs.get(key)
                info = schema_infos.get(key) or (state.schema_info if state else None)
                rows.append(dataset_row(cid, d, org_id, now, state, info))
        yield rows

    def _schema_infos(page: ListingPage) -> dict[tuple[str, str], Any]:
        """dataSets[].schemaInfo comes only from the by-id endpoint: one call per connection that is
        new or modified since the last sync (or every one with --full)."""
        wanted = [
            with_prefix(c["id"])
            for c in page.items
            if full
            or not same_instant(
                snapshot.connections_modified.get(with_prefix(c["id"])), c.get("modifiedDate")
            )
            or any(
                (with_prefix(c["id"]), d["dataSetId"]) not in snapshot.pairs for d in c.get("dataSets") or ()
            )
        ]
        params = {
            "expansion": ",".join(settings.SCHEMA_INFO_EXPANSIONS),
            "includeHiddenDataSets": "true",
            "locale": cfg.locale,
        }
        futures = {
            cid: pool.submit(client.get, "get", settings.endpoint_path("get", connection_id=cid), params)
            for cid in wanted
        }
        out = {}
        for cid, future in futures.items():
            body = future.result()
            for d in (body or {}).get("dataSets") or ():
                if isinstance(d, dict) and d.get("schemaInfo") is not None:
                    out[(cid, d.get("dataSetId"))] = d["schemaInfo"]
        return out

    @dlt.transformer(
        data_from=connection_listing,
        name="backfills",
        primary_key="id",
        write_disposition="merge",
        columns=_hints(
            **SEEN, created_date="timestamp", start_date="timestamp", end_date="timestamp", status="text"
        ),
    )
    def backfills(page: ListingPage) -> TDataItems:
        """Every backfill of every dataset; asked only for new or changed pairs (or all with --full),
        from the inline lists where complete, else from the backfills endpoint, `max_concurrency` at once."""
        batch: list[dict[str, Any]] = []  # rows go out as one Arrow table per BATCH_ROWS
        to_fetch: list[tuple[str, str]] = []
        totals: dict[tuple[str, str], int | None] = {}  # backfillSummary.total bounds each fetch
        for c in page.items:
            cid = with_prefix(c["id"])
            for d in c.get("dataSets") or ():
                dsid = d["dataSetId"]
                summary = summary_key(d.get("backfillSummary"))
                inline = d.get("backfills") if isinstance(d.get("backfills"), list) else None
                plan = plan_pair(cfg.backfills, full, snapshot.pairs.get((cid, dsid)), summary, inline)
                if plan is Plan.INLINE:
                    batch.extend(backfill_rows(cid, dsid, inline, org_id, now, snapshot.backfills_first_seen))
                    stats["pairs_inline"] = stats.get("pairs_inline", 0) + 1
                elif plan is Plan.FETCH:
                    to_fetch.append((cid, dsid))
                    totals[(cid, dsid)] = summary[0] if summary else None
                elif plan is Plan.MISSING:
                    raise ConfigurationError(
                        f'backfills = "inline" but the listing carried no backfill list for dataset {dsid} '
                        f'of {cid}; use backfills = "auto"'
                    )
                else:
                    stats["pairs_skip"] = stats.get("pairs_skip", 0) + 1
                # the page stays alive until every table has read it: drop what only we needed
                d.pop("backfills", None)
        to_fetch, relisted = _relist_busy_connections(to_fetch)
        batch.extend(relisted)
        pending: set[Future[list[dict[str, Any]]]] = set()
        for cid, dsid in to_fetch:
            pending.add(pool.submit(_fetch_backfills, cid, dsid, totals.get((cid, dsid))))
            while len(pending) >= 4 * int(cfg.max_concurrency):
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    batch.extend(f.result())
                if len(batch) >= BATCH_ROWS:
                    yield backfills_table(batch)
                    batch = []
        stats["pairs_fetch"] = stats.get("pairs_fetch", 0) + len(to_fetch)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                batch.extend(f.result())
        for start in range(0, len(batch), BATCH_ROWS):
            yield backfills_table(batch[start : start + BATCH_ROWS])

    relist = {"useful": cfg.backfills == "auto" and not want_inline}

    def _relist_busy_connections(
        pairs: list[tuple[str, str]],
    ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        """On a re-sync, a connection with several changed pairs (a new connection, a backfill
        requested for all its datasets) is listed again with its inline lists: one request for
        up to 40 connections instead of one per pair. Pairs without a complete list are fetched."""
        per_connection: dict[str, set[str]] = {}
        for cid, dsid in pairs:
            per_connection.setdefault(cid, set()).add(dsid)
        busy = [cid for cid, dsids in per_connection.items() if len(dsids) >= RELIST_MIN_PAIRS]
        if not relist["useful"] or not busy:
            return pairs, []
        rows: list[dict[str, Any]] = []
        covered: set[tuple[str, str]] = set()
        lists_seen = False
        for cid, d in inline_datasets(client, cfg, busy):
            dsid = d["dataSetId"]
            inline = d.get("backfills")
            lists_seen = lists_seen or isinstance(inline, list)
            summary = summary_key(d.get("backfillSummary"))
            complete = isinstance(inline, list) and (summary is None or len(inline) == summary[0])
            if complete and dsid in per_connection.get(cid, ()):
                rows.extend(backfill_rows(cid, dsid, inline, org_id, now, snapshot.backfills_first_seen))
                covered.add((cid, dsid))
        if not lists_seen:  # this org does not return inline lists: stop asking for them
            relist["useful"] = False
        stats["pairs_inline"] = stats.get("pairs_inline", 0) + len(covered)
        return [p for p in pairs if p not in covered], rows

    def _fetch_backfills(cid: str, dsid: str, total: int | None) -> list[dict[str, Any]]:
        items = backfill_items(client, cid, dsid, page_size, total)
        return backfill_rows(cid, dsid, items, org_id, now, snapshot.backfills_first_seen)

    @dlt.transformer(
        data_from=connection_listing,
        name="connection_validation_errors",
        primary_key=("connection_id", "error_key"),
        write_disposition="merge",
        columns=_hints(
            last_seen_at="timestamp",
            org_id="text",
            data_set_id="text",
            data_set_name="text",
            disallowed_field="text",
            missing_field="text",
        ),
    )
    def connection_validation_errors(page: ListingPage) -> TDataItems:
        """Current validation errors of every listed connection (resolved ones are removed after the load)."""
        yield [
            r
            for c in page.items
            for r in validation_error_rows(
                with_prefix(c["id"]), c.get("connectionValidationErrors"), org_id, now
            )
        ]

    @dlt.transformer(
        data_from=connection_listing,
        name="configured_containers",
        primary_key=("connection_id", "container"),
        write_disposition="merge",
        columns=_hints(last_seen_at="timestamp", org_id="text"),
    )
    def configured_containers(page: ListingPage) -> TDataItems:
        """Containers of account-based (B2B) connections."""
        yield [
            r
            for c in page.items
            for r in container_rows(with_prefix(c["id"]), c.get("configuredContainers"), org_id, now)
        ]

    @dlt.transformer(
        data_from=connection_listing,
        name="dataset_container_fields",
        primary_key=("connection_id", "data_set_id", "container"),
        write_disposition="merge",
        columns=_hints(last_seen_at="timestamp", org_id="text", system_field_value="text"),
    )
    def dataset_container_fields(page: ListingPage) -> TDataItems:
        """containerFields of the datasets of B2B connections."""
        yield [
            r
            for c in page.items
            for d in c.get("dataSets") or ()
            for r in container_field_rows(
                with_prefix(c["id"]), d["dataSetId"], d.get("containerFields"), org_id, now
            )
        ]

    @dlt.resource(
        name="data_source_types",
        primary_key="id",
        write_disposition="merge",
        columns=_hints(description="text", org_id="text", locale="text", last_seen_at="timestamp"),
    )
    def data_source_types() -> TDataItems:
        """The data source types datasets can be tagged with (configurationSettings). A fixed list
        in practice: asked on the first sync, with --full, for a new locale, or once a day."""
        seen = snapshot.data_source_types_seen.get(cfg.locale)
        if not full and seen is not None and (now - seen).total_seconds() < DATA_SOURCE_TYPES_MAX_AGE:
            return
        body = client.get(
            "configurationSettings", settings.ENDPOINTS["configurationSettings"], {"locale": cfg.locale}
        )
        types = body.get("dataSourceTypes") if isinstance(body, dict) else None
        if not isinstance(types, list):
            raise MalformedResponseError("configurationSettings answered without a dataSourceTypes list")
        yield [
            {**t, "locale": cfg.locale, "org_id": org_id, "last_seen_at": now}
            for t in types
            if isinstance(t, dict) and t.get("id")
        ]

    @dlt.transformer(data_from=connection_listing, **history.resource_hints(cfg))
    def connections_history(page: ListingPage) -> TDataItems:
        """One row per version of a connection's configuration (scd2; see cja_source/history.py)."""
        yield history.history_rows(page.items, org_id)

    return [
        connection_listing,
        connections,
        connections_history,
        datasets,
        backfills,
        connection_validation_errors,
        configured_containers,
        dataset_container_fields,
        data_source_types,
    ]
