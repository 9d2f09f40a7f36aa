"""Backfill rows of one listing page: the plan per pair, inline lists, the re-listing of busy
connections and the backfills endpoint, `max_concurrency` requests at once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from .backfill_plan import Plan, plan_pair
from .errors import ConfigurationError
from .listing import ListingPage, backfill_items, inline_datasets
from .records import backfill_rows, summary_key, with_prefix
from .sync_context import SyncContext

# rows go to dlt as one Arrow table per this many
BATCH_ROWS = 50_000
# a connection with at least this many changed pairs is listed again with its inline lists
RELIST_MIN_PAIRS = 2

Row = dict[str, Any]


def page_backfill_batches(ctx: SyncContext, page: ListingPage) -> Iterator[list[Row]]:
    """Batches of at most BATCH_ROWS backfill rows for the pairs of `page` that need them."""
    batch: list[Row] = []
    to_fetch: list[tuple[str, str]] = []
    totals: dict[tuple[str, str], int | None] = {}  # backfillSummary.total bounds each fetch
    snapshot = ctx.snapshot
    # pairs whose dataset changed since it was stored; None: compare every pair's summary
    changed = None if page.changes is None or ctx.full else page.changes.datasets
    skipped = 0
    for c in page.items:
        cid = with_prefix(c["id"])
        for d in c.get("dataSets") or ():
            dsid = d["dataSetId"]
            if changed is not None and (cid, dsid) not in changed and snapshot.pairs.summarised((cid, dsid)):
                # its digest, which covers backfillSummary, is the stored one: the summary did not
                # move, and its stored backfills add up to it (snapshot.py)
                skipped += 1
                d.pop("backfills", None)
                continue
            summary = summary_key(d.get("backfillSummary"))
            inline = d.get("backfills") if isinstance(d.get("backfills"), list) else None
            plan = plan_pair(ctx.cfg.backfills, ctx.full, snapshot.pairs.get((cid, dsid)), summary, inline)
            if plan is Plan.INLINE:
                batch.extend(pair_rows(ctx, cid, dsid, inline or []))
                ctx.count("pairs_inline")
            elif plan is Plan.FETCH:
                to_fetch.append((cid, dsid))
                totals[(cid, dsid)] = summary[0] if summary else None
            elif plan is Plan.MISSING:
                raise ConfigurationError(
                    f'backfills = "inline" but the listing carried no backfill list for dataset {dsid} '
                    f'of {cid}; use backfills = "auto"'
                )
            else:
                skipped += 1
            # the page stays alive until every table has read it: drop what only we needed
            d.pop("backfills", None)
    if skipped:
        ctx.count("pairs_skip", skipped)
    to_fetch, relisted = relist_busy_connections(ctx, to_fetch)
    batch.extend(relisted)
    ctx.count("pairs_fetch", len(to_fetch))
    for rows in fetched_rows(ctx, to_fetch, totals):
        batch.extend(rows)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    for start in range(0, len(batch), BATCH_ROWS):
        yield batch[start : start + BATCH_ROWS]


def fetched_rows(
    ctx: SyncContext, pairs: list[tuple[str, str]], totals: dict[tuple[str, str], int | None]
) -> Iterator[list[Row]]:
    """Rows of each pair from the backfills endpoint, in completion order; a bounded number of
    requests in flight, and the pool shut down however the caller stops."""
    if not pairs:
        return
    workers = int(ctx.cfg.max_concurrency)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cja-backfills")
    pending: set[Future[list[Row]]] = set()
    finished = False
    try:
        for cid, dsid in pairs:
            pending.add(pool.submit(fetch_pair, ctx, cid, dsid, totals.get((cid, dsid))))
            while len(pending) >= 4 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()
        finished = True
    finally:
        # Stopped by an error or a signal: the calls not started are cancelled, and the run does
        # not wait for the ones being sent (each ends with its request; a stopped client sends
        # no other), so the failure is recorded and reported at once.
        pool.shutdown(wait=finished, cancel_futures=True)


def fetch_pair(ctx: SyncContext, cid: str, dsid: str, summary_total: int | None) -> list[Row]:
    items = backfill_items(ctx.client, cid, dsid, int(ctx.cfg.page_size), summary_total)
    return pair_rows(ctx, cid, dsid, items)


def pair_rows(ctx: SyncContext, cid: str, dsid: str, items: list[Any]) -> list[Row]:
    """Rows of one pair's backfills, first-seen times carried over from the warehouse."""
    first_seen, _status = ctx.snapshot.pair_backfills(cid, dsid)
    return backfill_rows(cid, dsid, items, ctx.org_id, ctx.now, first_seen)


def relist_busy_connections(
    ctx: SyncContext, pairs: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[Row]]:
    """On a re-sync, a connection with several changed pairs (a new connection, a backfill
    requested for all its datasets) is listed again with its inline lists: one request for
    up to 40 connections instead of one per pair. Pairs without a complete list are fetched."""
    per_connection: dict[str, set[str]] = {}
    for cid, dsid in pairs:
        per_connection.setdefault(cid, set()).add(dsid)
    busy = [cid for cid, dsids in per_connection.items() if len(dsids) >= RELIST_MIN_PAIRS]
    if not ctx.relist_useful or not busy:
        return pairs, []
    rows: list[Row] = []
    covered: set[tuple[str, str]] = set()
    lists_seen = False
    for cid, d in inline_datasets(ctx.client, ctx.cfg, busy):
        dsid = d["dataSetId"]
        inline = d.get("backfills")
        lists_seen = lists_seen or isinstance(inline, list)
        summary = summary_key(d.get("backfillSummary"))
        complete = isinstance(inline, list) and (summary is None or len(inline) == summary[0])
        if complete and dsid in per_connection.get(cid, ()):
            rows.extend(pair_rows(ctx, cid, dsid, inline or []))
            covered.add((cid, dsid))
    if not lists_seen:  # this org does not return inline lists: stop asking for them
        ctx.relist_disabled = True
    ctx.count("pairs_inline", len(covered))
    return [p for p in pairs if p not in covered], rows
