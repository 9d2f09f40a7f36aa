"""`sync_runs`: one row per run (running, then succeeded or failed), written through a pipeline of
its own so that logging a failure never loads the failed run's data."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

import dlt
from dlt.common.destination import TLoaderFileFormat
from dlt.common.schema.typing import TTableSchemaColumns

from cja_source.snapshot import existing_tables
from cja_source.version import __version__

logger = logging.getLogger("cja_sync")

RUN_COLUMNS: TTableSchemaColumns = {
    "run_id": {"data_type": "text", "nullable": False},
    "started_at": {"data_type": "timestamp", "nullable": True},
    "finished_at": {"data_type": "timestamp", "nullable": True},
    "status": {"data_type": "text", "nullable": True},
    "full": {"data_type": "bool", "nullable": True},
    "error": {"data_type": "text", "nullable": True},
    "org_id": {"data_type": "text", "nullable": True},
    "duration_seconds": {"data_type": "double", "nullable": True},
}


def run_row(summary: dict[str, Any], started: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": summary["run_id"],
        "org_id": summary["org_id"],
        "started_at": started,
        "finished_at": datetime.fromisoformat(summary["finished_at"]) if summary.get("finished_at") else None,
        "status": summary["status"],
        "full": summary["full"],
        "error": summary.get("error"),
        "duration_seconds": summary.get("duration_seconds"),
        # which release wrote the run: an upgrade shows in the warehouse itself
        "tool_version": __version__,
    }
    for group in ("requests", "rows"):
        for key, value in (summary.get(group) or {}).items():
            row[f"{group}_{key}"] = value
    return row


def runs_pipeline(pipeline: dlt.Pipeline) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"{pipeline.pipeline_name}_runs",
        destination=pipeline.destination,
        dataset_name=pipeline.dataset_name,
        pipelines_dir=pipeline.pipelines_dir,
    )


INTERRUPTED = "interrupted: the process ended before it could record a result (killed or crashed)"


def close_abandoned_runs(pipeline: dlt.Pipeline, org_id: str) -> None:
    """A `running` row of this org seen while we hold its pipeline lock belongs to a run that died
    without recording its end (kill -9, power loss): record it as failed rather than running for
    ever. Other orgs' running rows may be live runs of a fleet."""
    runs = runs_pipeline(pipeline)
    if not runs.default_schema_name:
        return
    try:
        with runs.sql_client() as sql:
            if "sync_runs" not in existing_tables(sql):
                return
            sql.execute_sql(
                f"UPDATE {sql.make_qualified_table_name('sync_runs')} SET status = 'failed', error = %s "
                "WHERE status = 'running' AND org_id = %s",
                INTERRUPTED,
                org_id,
            )
    except Exception as exc:  # noqa: BLE001 - bookkeeping must not stop the sync itself
        logger.warning("could not close interrupted runs in sync_runs (%s)", type(exc).__name__)


def record_failure_directly(pipeline: dlt.Pipeline, summary: dict[str, Any]) -> None:
    """Record a failure with plain SQL when dlt cannot log it (its pipelines directory may be on a
    full disk): otherwise the next run would call it "interrupted" and the cause would be lost."""
    try:
        with runs_pipeline(pipeline).sql_client() as sql:
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


def log_run(pipeline: dlt.Pipeline, row: dict[str, Any], fmt: TLoaderFileFormat | None) -> None:
    """Record the run through a pipeline of its own: the data pipeline may hold a failed run's
    package, which must never be loaded as a side effect of logging the failure."""
    runs = runs_pipeline(pipeline)
    runs.run(
        [row],
        table_name="sync_runs",
        write_disposition="merge",
        primary_key="run_id",
        columns=RUN_COLUMNS,
        schema=dlt.Schema("cja_runs"),
        loader_file_format=cast(TLoaderFileFormat, fmt),  # None: the destination's default
    )
