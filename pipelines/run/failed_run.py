"""Record a failed (or interrupted) run in `sync_runs`, quietly: the run's one line already says
what failed, and a second line about the bookkeeping only with --debug."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.common.destination import TLoaderFileFormat

from ..warehouse.run_log import log_run, runs_pipeline
from .record import RunSummary

logger = logging.getLogger("cja_sync")


def record_failed_run(
    pipeline: dlt.Pipeline, row: dict[str, Any], summary: RunSummary, fmt: TLoaderFileFormat | None
) -> None:
    """The run's row through its own pipeline, else with plain SQL (dlt's pipelines directory may
    be what failed, on a full disk). When neither works, the warehouse itself is what failed: the
    next run records this one as interrupted, and only --debug (INFO) says why."""
    try:
        log_run(pipeline, row, fmt)
        return
    except Exception as exc:  # noqa: BLE001 - the warehouse or the pipelines directory may be what failed
        logger.info("could not record the failed run through dlt (%s); trying plain SQL", type(exc).__name__)
    try:
        with runs_pipeline(pipeline).sql_client() as sql:
            sql.execute_sql(
                f"UPDATE {sql.make_qualified_table_name('sync_runs')} SET status = 'failed', error = %s, "
                "finished_at = %s, duration_seconds = %s WHERE run_id = %s",
                summary.error,
                datetime.fromisoformat(summary.finished_at or datetime.now(UTC).isoformat()),
                summary.duration_seconds,
                summary.run_id,
            )
    except Exception as exc:  # noqa: BLE001 - the warehouse itself may be what failed
        logger.info("could not record the failed run in sync_runs (%s)", type(exc).__name__)
