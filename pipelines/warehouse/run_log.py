"""`sync_runs`: one row per run (running, then succeeded or failed), written through a pipeline of
its own so that logging a failure never loads the failed run's data."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any, cast

import dlt
from dlt.common.destination import TLoaderFileFormat
from dlt.common.normalizers.naming.snake_case import NamingConvention as SnakeCase
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.common.utils import uniq_id

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


def log_run(pipeline: dlt.Pipeline, row: dict[str, Any], fmt: TLoaderFileFormat | None) -> None:
    """Record the run through a pipeline of its own: the data pipeline may hold a failed run's
    package, which must never be loaded as a side effect of logging the failure."""
    if _write_directly(pipeline, row):
        return
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


def _write_directly(pipeline: dlt.Pipeline, row: dict[str, Any]) -> bool:
    """The row with plain SQL when `sync_runs` already has every column it needs: a dlt run of its
    own costs ~0.7 s for one row, twice per sync, half of an idle sync of a small org. A column seen
    for the first time (a new endpoint, an older table) goes through dlt, which evolves the table;
    so does anything this cannot do (False)."""
    naming = SnakeCase()
    values = {naming.normalize_identifier(k): v for k, v in row.items()}
    try:
        with pipeline.sql_client() as sql:
            present = {
                str(r[0])
                for r in sql.execute_sql(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = 'sync_runs'",
                    sql.dataset_name,
                )
                or ()
            }
            if not present or not set(values) <= present:
                return False
            values.update(_dlt_load_id=f"{time.time():.6f}", _dlt_id=uniq_id())
            table = sql.make_qualified_table_name("sync_runs")
            names = ", ".join(sql.escape_column_name(c) for c in values)
            with sql.begin_transaction():
                sql.execute_sql(f"DELETE FROM {table} WHERE run_id = %s", values["run_id"])
                sql.execute_sql(
                    f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(values))})",
                    *values.values(),
                )
    except Exception as exc:  # noqa: BLE001 - dlt's own path below reports what is really wrong
        logger.info("sync_runs through dlt (%s)", type(exc).__name__)
        return False
    return True
