"""`cja-sync run`: one sync of a CJA org into the warehouse, recorded in `sync_runs`."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.common.destination.reference import Destination
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from cja_source import cja_source, make_client
from cja_source.client import CJAClient
from cja_source.config import CJASettings
from cja_source.errors import ConfigurationError

from .errors import as_cja_error
from .identity import pipeline_name_for, target_of
from .locks import install_duckdb_open_wait, warehouse_lock
from .upkeep import after_success, repair_history
from .views import create_views
from .warehouse import existing_tables, pipeline_lock, read_snapshot, reconcile

logger = logging.getLogger("cja_sync")

RUN_COLUMNS = {
    "run_id": {"data_type": "text", "nullable": False},
    "started_at": {"data_type": "timestamp", "nullable": True},
    "finished_at": {"data_type": "timestamp", "nullable": True},
    "status": {"data_type": "text", "nullable": True},
    "full": {"data_type": "bool", "nullable": True},
    "error": {"data_type": "text", "nullable": True},
    "org_id": {"data_type": "text", "nullable": True},
    "duration_seconds": {"data_type": "double", "nullable": True},
}
DATA_TABLES = (
    "connections",
    "datasets",
    "backfills",
    "data_source_types",
    "connection_validation_errors",
    "configured_containers",
    "dataset_container_fields",
    "connections_history",
)


@dataclass
class RunOptions:
    destination: str = "duckdb"
    # not ./cja.duckdb: DuckDB names the catalog after the file, and a catalog named like the
    # dataset (cja) makes every `cja.table` reference ambiguous, for dlt and for BI tools alike
    duckdb_path: str = "cja_sync.duckdb"
    dataset_name: str = "cja"
    # None: derived from the warehouse target and the org (see identity.py); readers pass their own
    pipeline_name: str | None = None
    pipelines_dir: str | None = None
    full: bool = False
    allow_empty: bool = False
    progress: bool = False


def make_pipeline(
    opts: RunOptions, duckdb_memory_limit: str | None = None, read_only: bool = False
) -> dlt.Pipeline:
    """The pipeline of `opts`; `duckdb_memory_limit` caps DuckDB (a sync's merges), None = DuckDB's own.
    `read_only` opens a DuckDB file so that other readers, and a waiting sync, can share it."""
    install_duckdb_open_wait()
    # dlt gzips its intermediate files by default: a sixth of a large sync's time, for files that
    # live seconds (bench P4 profile). Users can still turn it back on through dlt's config.
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
    # Backfills go to dlt as Arrow tables, except a batch with a value that does not fit its type,
    # which goes as plain rows; dlt gives plain rows _dlt_id and _dlt_load_id (NOT NULL), so Arrow
    # tables must carry them too, or the two kinds cannot share a table.
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    if opts.destination == "duckdb":
        path = Path(opts.duckdb_path)
        if path.stem.lower() == opts.dataset_name.lower():
            raise ConfigurationError(
                f"the DuckDB file {path.name!r} is named like the dataset {opts.dataset_name!r}; DuckDB "
                "cannot tell a catalog from a schema of the same name: choose another --duckdb-path or "
                "--dataset-name"
            )
        limit = {"memory_limit": duckdb_memory_limit} if duckdb_memory_limit else None
        credentials = DuckDbCredentials(str(path.resolve()), global_config=limit, read_only=read_only)
        destination: Any = dlt.destinations.duckdb(credentials)
    else:
        try:
            destination = Destination.from_reference(opts.destination)
        except Exception:  # noqa: BLE001 - dlt raises several types for an unknown name
            raise ConfigurationError(
                f"unknown destination {opts.destination!r}: "
                "use duckdb, postgres or another dlt destination name"
            ) from None
    return dlt.pipeline(
        pipeline_name=opts.pipeline_name or "cja",
        destination=destination,
        dataset_name=opts.dataset_name,
        pipelines_dir=opts.pipelines_dir,
    )


def loader_format(pipeline: dlt.Pipeline) -> str | None:
    # parquet is ~5x faster and far leaner than insert_values on DuckDB (measured, see README)
    return "parquet" if pipeline.destination.destination_name == "duckdb" else None


def run_sync(cfg: CJASettings, opts: RunOptions, client: CJAClient | None = None) -> dict[str, Any]:
    """Sync once; returns the run summary or raises CJAError (its message is the one-line reason)."""
    target = target_of(opts)
    if not opts.pipeline_name:
        opts = replace(opts, pipeline_name=pipeline_name_for(target, cfg.credentials.org_id))
    # DuckDB's default memory limit is 80 % of RAM, and merging ~500k backfills into a fresh file
    # takes what it is given: 256 MB keeps a maximal org's load under 1 GB of RSS, spilling to disk
    # beside the file if a merge needs more. Reading commands (health, report) keep DuckDB's default.
    pipeline = make_pipeline(opts, os.environ.get("CJA_DUCKDB_MEMORY_LIMIT", "256MB"))
    with (
        warehouse_lock(target, pipeline),
        pipeline_lock(opts.pipelines_dir or get_dlt_pipelines_dir(), pipeline.pipeline_name),
    ):
        return _run_locked(cfg, opts, pipeline, client or make_client(cfg))


def _run_locked(
    cfg: CJASettings, opts: RunOptions, pipeline: dlt.Pipeline, client: CJAClient
) -> dict[str, Any]:
    started = datetime.now(UTC)
    t0 = time.monotonic()
    run_id = str(uuid.uuid4())
    summary: dict[str, Any] = {
        "run_id": run_id,
        "status": "running",
        "org_id": cfg.credentials.org_id,
        "started_at": started.isoformat(),
        "full": opts.full,
        "destination": pipeline.destination.destination_name,
        "dataset": opts.dataset_name,
        "pipeline": pipeline.pipeline_name,
    }
    fmt = loader_format(pipeline)
    stats: dict[str, int] = {}
    progress = _Progress(client, stats) if opts.progress else None
    try:
        full = _finish_pending(pipeline) or opts.full
        summary["full"] = full
        _close_abandoned_runs(pipeline)
        snapshot = read_snapshot(pipeline)
        summary["first_sync"] = snapshot.empty
        _log_run(pipeline, _run_row(summary, started), fmt)
        if progress:
            progress.start()
        source = cja_source(
            cfg,
            full=full,
            allow_empty=opts.allow_empty,
            client=client,
            snapshot=snapshot,
            run_started_at=started,
            stats=stats,
        )
        pipeline.extract(source, loader_file_format=fmt)
        if progress:
            progress.stop()
        pipeline.normalize()
        rows = dict(pipeline.last_trace.last_normalize_info.row_counts) if pipeline.last_trace else {}
        pipeline.load(raise_on_failed_jobs=True)
        summary["reconciled"] = reconcile(pipeline, cfg, started)
        summary["repaired"] = repair_history(pipeline)
        summary["rows"] = {t: int(rows.get(t, 0)) for t in DATA_TABLES}
        summary["status"] = "succeeded"
    except BaseException as exc:
        if progress:
            progress.stop()
        error = as_cja_error(exc, where=pipeline.working_dir)
        summary["status"] = "failed"
        summary["error"] = error.message
        _finalize(summary, client, stats, t0)
        try:
            _log_run(pipeline, _run_row(summary, started), fmt)
        except Exception:  # noqa: BLE001 - the warehouse itself may be what failed
            _record_failure_directly(pipeline, summary)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise error from (exc if error.__traceback__ is None else None)  # --debug: the original cause
    _finalize(summary, client, stats, t0)
    _log_run(pipeline, _run_row(summary, started), fmt)
    # views measure ages against the latest successful sync, so they follow its sync_runs row
    try:
        summary["views"] = create_views(pipeline, cfg.health)
        after_success(pipeline, _runs_pipeline(pipeline))
    except Exception as exc:  # noqa: BLE001 - the data is in; still one line, not a traceback
        raise as_cja_error(exc, where=pipeline.working_dir) from None
    return summary


def _finalize(summary: dict[str, Any], client: CJAClient, stats: dict[str, int], t0: float) -> None:
    summary["finished_at"] = datetime.now(UTC).isoformat()
    summary["duration_seconds"] = round(time.monotonic() - t0, 3)
    summary["requests"] = client.requests_by_endpoint()
    summary["http_statuses"] = client.requests_by_status()
    summary["backfill_pairs"] = {k.removeprefix("pairs_"): v for k, v in sorted(stats.items())}


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
        pipeline.load(raise_on_failed_jobs=True)
        return False
    except Exception as exc:  # noqa: BLE001 - whatever stops it, the package is not loadable
        logger.warning(
            "could not load the data an interrupted run left behind (%s); dropping it and resyncing in full",
            as_cja_error(exc).message,
        )
        pipeline.abort_packages()
        return True


def _run_row(summary: dict[str, Any], started: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": summary["run_id"],
        "org_id": summary["org_id"],
        "started_at": started,
        "finished_at": datetime.fromisoformat(summary["finished_at"]) if summary.get("finished_at") else None,
        "status": summary["status"],
        "full": summary["full"],
        "error": summary.get("error"),
        "duration_seconds": summary.get("duration_seconds"),
    }
    for group in ("requests", "rows"):
        for key, value in (summary.get(group) or {}).items():
            row[f"{group}_{key}"] = value
    return row


def _runs_pipeline(pipeline: dlt.Pipeline) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"{pipeline.pipeline_name}_runs",
        destination=pipeline.destination,
        dataset_name=pipeline.dataset_name,
        pipelines_dir=pipeline.pipelines_dir,
    )


INTERRUPTED = "interrupted: the process ended before it could record a result (killed or crashed)"


def _close_abandoned_runs(pipeline: dlt.Pipeline) -> None:
    """A `running` row seen while we hold the pipeline lock belongs to a run that died without
    recording its end (kill -9, power loss): record it as failed rather than running forever."""
    runs = _runs_pipeline(pipeline)
    if not runs.default_schema_name:
        return
    try:
        with runs.sql_client() as sql:
            if "sync_runs" not in existing_tables(sql):
                return
            sql.execute_sql(
                f"UPDATE {sql.make_qualified_table_name('sync_runs')} SET status = 'failed', error = %s "
                "WHERE status = 'running'",
                INTERRUPTED,
            )
    except Exception as exc:  # noqa: BLE001 - bookkeeping must not stop the sync itself
        logger.warning("could not close interrupted runs in sync_runs (%s)", type(exc).__name__)


def _record_failure_directly(pipeline: dlt.Pipeline, summary: dict[str, Any]) -> None:
    """Record a failure with plain SQL when dlt cannot log it (its pipelines directory may be on a
    full disk): otherwise the next run would call it "interrupted" and the cause would be lost."""
    try:
        with _runs_pipeline(pipeline).sql_client() as sql:
            sql.execute_sql(
                f"UPDATE {sql.make_qualified_table_name('sync_runs')} SET status = 'failed', error = %s, "
                "finished_at = %s, duration_seconds = %s WHERE run_id = %s",
                summary["error"],
                datetime.fromisoformat(summary["finished_at"]),
                summary["duration_seconds"],
                summary["run_id"],
            )
    except Exception:  # noqa: BLE001 - the warehouse itself may be what failed
        logger.warning("could not record the failed run in sync_runs")


def _log_run(pipeline: dlt.Pipeline, row: dict[str, Any], fmt: str | None) -> None:
    """Record the run through a pipeline of its own: the data pipeline may hold a failed run's
    package, which must never be loaded as a side effect of logging the failure."""
    runs = _runs_pipeline(pipeline)
    runs.run(
        [row],
        table_name="sync_runs",
        write_disposition="merge",
        primary_key="run_id",
        columns=RUN_COLUMNS,
        loader_file_format=fmt,
        schema=dlt.Schema("cja_runs"),
    )


class _Progress:
    """A one-line progress display on stderr while a long extraction runs."""

    def __init__(self, client: CJAClient, stats: dict[str, int]) -> None:
        self.client = client
        self.stats = stats
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._t0 = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\n")

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            req = self.client.requests_by_endpoint()
            line = (
                f"\r[{time.monotonic() - self._t0:6.0f}s] list pages {req.get('list', 0)}, "
                f"backfill requests {req.get('backfills', 0)}, "
                f"pairs fetched {self.stats.get('pairs_fetch', 0)}, "
                f"inline {self.stats.get('pairs_inline', 0)}, "
                f"unchanged {self.stats.get('pairs_skip', 0)}"
            )
            sys.stderr.write(line)
            sys.stderr.flush()
