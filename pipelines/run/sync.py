"""`cja-sync run`: one sync of a CJA org into the warehouse, recorded in `sync_runs`.

The order of a run: locks (the org's, the warehouse's, then the pipeline's), the data an
interrupted run left, the warehouse snapshot, the `running` row, extract/normalize/load of
`cja_source()`, then the same `settle` and `publish` steps that `finish_sync` gives users of the
plain dlt source."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.common.pipeline import get_dlt_pipelines_dir

from cja_source import cja_source, make_client
from cja_source.client import CJAClient
from cja_source.configuration import CJASourceConfiguration
from cja_source.records import WarehouseSnapshot
from cja_source.snapshot import read_snapshot
from cja_source.stored_backfills import StoredBackfills

from ..errors import as_cja_error
from ..options import RunOptions
from ..settings import runner_settings
from ..warehouse.duckdb_file import prepare_for_sync, publish_quietly, publish_synced
from ..warehouse.finish import publish, settle
from ..warehouse.pipeline import (
    give_back_freed_memory,
    load_workers,
    loader_format,
    make_pipeline,
)
from ..warehouse.run_log import close_abandoned_runs, log_run, run_row
from .csv_timestamps import write_timestamps_as_text
from .failed_run import record_failed_run
from .identity import pipeline_name_for, target_of
from .locks import WarehouseTurns, pipeline_lock, run_locks
from .record import FAILED, RUNNING, SUCCEEDED, RunListener, RunSummary
from .signals import Interrupted, interruption, signal_of

__all__ = ["RunOptions", "RunSummary", "make_pipeline", "run_sync"]

logger = logging.getLogger("cja_sync")

DATA_TABLES = (
    "connections",
    "datasets",
    "backfills",
    "data_source_types",
    "connection_validation_errors",
    "configured_containers",
    "dataset_container_fields",
    "connection_volume_history",
    "backfill_status_changes",
    "connections_history",
    "data_views",
    "data_view_components",
    "data_view_component_datasets",
)


def run_sync(
    cfg: CJASourceConfiguration,
    opts: RunOptions,
    client: CJAClient | None = None,
    turn: AbstractContextManager[Any] | None = None,
    turn_wait: float | None = None,
    listener: RunListener | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RunSummary:
    """Sync once; returns the run's record or raises CJAError (its message is the one-line reason).
    `listener` is told when the extract starts and stops (the CLI's progress line).
    `clock` gives the run's start time (default: the wall clock); `cja-sync demo` passes the
    simulator's, so that a replay of a week of syncs in seconds is recorded a day apart.

    `turn` is given by a fleet run (fleet.py), which holds the warehouse lock and the org's run
    lock itself: every step that touches the warehouse then waits for its turn, and only the
    API-bound extract runs alongside other orgs. `turn_wait` (seconds) does the same across
    processes (orchestrator workers): the warehouse lock is taken for each warehouse step, waiting
    up to that long. Any other run holds the org's run lock for its whole length (locks.run_locks),
    waiting up to `opts.wait` for another run of the org."""
    target = target_of(opts)
    if not opts.pipeline_name:
        opts = replace(opts, pipeline_name=pipeline_name_for(target, cfg.credentials.org_id))
    # a cap on DuckDB's memory for the merges ([cja_sync] duckdb_memory_limit says why)
    pipeline = make_pipeline(opts, runner_settings().duckdb_memory_limit)
    held: AbstractContextManager[Any] = nullcontext()  # a fleet's turn: the fleet holds the locks
    if turn is None:
        org_id = str(cfg.credentials.org_id)
        held = run_locks(target, pipeline, org_id, opts.wait, whole_run=turn_wait is None)
        turn = nullcontext() if turn_wait is None else WarehouseTurns(target, pipeline, turn_wait)
    with (
        held,
        pipeline_lock(opts.pipelines_dir or get_dlt_pipelines_dir(), pipeline.pipeline_name, opts.wait),
    ):
        return _run_locked(cfg, opts, pipeline, client or make_client(cfg), turn, listener, clock)


def _run_locked(
    cfg: CJASourceConfiguration,
    opts: RunOptions,
    pipeline: dlt.Pipeline,
    client: CJAClient,
    turn: AbstractContextManager[Any],
    listener: RunListener | None,
    clock: Callable[[], datetime] | None,
) -> RunSummary:
    started = clock() if clock else datetime.now(UTC)
    t0 = time.monotonic()
    summary = RunSummary(
        run_id=str(uuid.uuid4()),
        org_id=str(cfg.credentials.org_id),
        status=RUNNING,
        started_at=started.isoformat(),
        full=opts.full,
        destination=pipeline.destination.destination_name,
        dataset=opts.dataset_name,
        pipeline=pipeline.pipeline_name,
    )
    fmt = loader_format(pipeline)
    stats: dict[str, int] = {}
    extracting = False
    # from the first load on, the working file may hold part of a package until the next run
    # completes it: a failed run then publishes nothing
    loading = False
    try:
        with turn:
            prepare_for_sync(opts)
            if not pipeline.default_schema_name:
                # a new pipelines dir (another machine, a fresh worker container) knows nothing of
                # the warehouse: without dlt's schema the snapshot reads as empty, and the run would
                # record every open backfill and connection as first seen all over again
                pipeline.sync_destination()
            loading = pipeline.has_pending_data
            full = _finish_pending(pipeline) or opts.full
            summary.full = full
            close_abandoned_runs(pipeline, summary.org_id)
            snapshot = read_snapshot(pipeline, summary.org_id)
            _read_backfills_in_turn(snapshot, turn)
            summary.first_sync = snapshot.empty
            log_run(pipeline, run_row(summary.as_dict(), started), fmt)
        if listener:
            listener.extract_started(client, stats)
            extracting = True
        source = cja_source(
            cfg,
            full=full,
            allow_empty=opts.allow_empty,
            client=client,
            snapshot=snapshot,
            run_started_at=started,
            stats=stats,
        )
        write_timestamps_as_text(source, pipeline)
        pipeline.extract(source, loader_file_format=fmt)
        # the snapshot (a dict entry per stored backfill) is of no use after the extract, and a
        # full re-sync of the maximal org would carry its ~100 MB through normalize and load (dlt
        # keeps the source, and through it the snapshot, alive: emptied, not just dropped)
        snapshot.release()
        del source, snapshot
        if listener:
            extracting = False
            listener.extract_stopped()
        pipeline.normalize()
        normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
        rows = dict(normalized.row_counts) if normalized else {}
        with turn:
            give_back_freed_memory()
            loading = True
            pipeline.load(raise_on_failed_jobs=True, workers=load_workers(pipeline, sum(rows.values())))
            settled = settle(pipeline, cfg, started)
            summary.reconciled, summary.repaired = settled["reconciled"], settled["repaired"]
        summary.rows = {t: int(rows.get(t, 0)) for t in DATA_TABLES}
        summary.status = SUCCEEDED
    except BaseException as exc:
        if listener and extracting:
            listener.extract_stopped()
        # a signal (SIGTERM, SIGINT) says so in one line, whatever it broke on its way (signals.py)
        stopped = interruption(exc, pipeline, summary, started)
        error = stopped or as_cja_error(exc, where=pipeline.working_dir)
        summary.status = FAILED
        summary.error = error.message
        _finalize(summary, client, stats, t0, started if clock else None)
        with turn:
            record_failed_run(pipeline, run_row(summary.as_dict(), started), summary, fmt)
            if opts.publish_file and not loading:  # readers see why the run failed, and nothing half-loaded
                publish_quietly(pipeline, opts)
        # a KeyboardInterrupt not from our CLI's handler (an orchestrator's) goes on as itself
        passes_on = isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Interrupted)
        if isinstance(exc, SystemExit) or passes_on:
            raise
        raise error from (exc if error.__traceback__ is None else None)  # --debug: the original cause
    _finalize(summary, client, stats, t0, started if clock else None)
    try:
        with turn:
            summary.views = publish(pipeline, cfg, run_row(summary.as_dict(), started))
            if opts.publish_file:
                summary.published, summary.notice = publish_synced(pipeline, opts)
    except Exception as exc:  # noqa: BLE001 - the data is in; still one line, not a traceback
        raise as_cja_error(exc, where=pipeline.working_dir) from None
    return summary


def _read_backfills_in_turn(snapshot: WarehouseSnapshot, turn: AbstractContextManager[Any]) -> None:
    """The stored backfills are read when the extract first needs them (an idle re-sync never
    does): like every warehouse step, in the run's turn at the warehouse (a fleet's, a worker's)."""
    reader = snapshot.backfills_reader
    if reader is None:
        return

    def in_turn() -> StoredBackfills:
        with turn:
            return reader()

    snapshot.backfills_reader = in_turn


def _finalize(
    summary: RunSummary, client: CJAClient, stats: dict[str, int], t0: float, clocked: datetime | None
) -> None:
    """`clocked`: the start a given clock set; the finish is then as long after it as the run took."""
    elapsed = time.monotonic() - t0
    finished = clocked + timedelta(seconds=elapsed) if clocked else datetime.now(UTC)
    summary.finished_at = finished.isoformat()
    summary.duration_seconds = round(elapsed, 3)
    summary.requests = client.requests_by_endpoint()
    summary.http_statuses = client.requests_by_status()
    summary.backfill_pairs = {k.removeprefix("pairs_"): v for k, v in sorted(stats.items())}


def _finish_pending(pipeline: dlt.Pipeline) -> bool:
    """Load what an interrupted run left normalized or extracted, before reading the warehouse.

    A package that cannot be loaded any more (its warehouse file was replaced, or it failed for
    good) would block every later run: it is dropped, and True tells the caller to refetch every
    backfill list, since part of that package may have reached the warehouse without the rest."""
    if not pipeline.has_pending_data:
        return False
    logger.warning("loading the data an interrupted run left behind")
    try:
        pipeline.normalize()
        pipeline.load(raise_on_failed_jobs=True, workers=load_workers(pipeline))
        return False
    except Exception as exc:  # noqa: BLE001 - whatever stops it, the package is not loadable
        if signal_of(exc):  # a signal stopped it, not the package: the run ends, the package stays
            raise
        logger.warning(
            "could not load the data an interrupted run left behind (%s); dropping it and resyncing in full",
            as_cja_error(exc).message,
        )
        pipeline.abort_packages()
        return True
