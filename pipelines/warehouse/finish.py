"""What follows a successful load of `cja_source()`, in `cja-sync run` and in any dlt pipeline:
`settle` (deletions marked, resolved errors and containers removed, history duplicates repaired)
and `publish` (the run recorded in `sync_runs`, the health views created or refreshed, statistics
and local upkeep). `finish_sync(pipeline)` is both, for users of the plain dlt source."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dlt

from cja_source.configuration import CJASourceConfiguration, load_settings
from cja_source.errors import CJAError
from cja_source.snapshot import existing_tables

from .dictionary import apply_comments
from .health_alerts import DELIVERIES, prune_history, record_alerts
from .health_alerts import TABLE as ALERTS_TABLE
from .pipeline import loader_format, one_connection
from .reconcile import reconcile, recorded_unlisted
from .run_log import log_run, runs_pipeline
from .upkeep import after_success, analyze_if_postgres, repair_history
from .views import create_views


def finish_sync(
    pipeline: dlt.Pipeline, config: CJASourceConfiguration | None = None, started_at: datetime | None = None
) -> dict[str, Any]:
    """Call after `pipeline.run(cja_source())` returned without error; returns what it did.

    `config` is the source's settings (resolved from `[sources.cja]` when None): its filters say
    which stored connections the listing could have returned, its thresholds go to the views.
    `started_at` is the source's `run_started_at`; by default the start the source recorded in the
    pipeline's state with its listing (else the `last_seen_at` of the org's latest write)."""
    cfg = config or load_settings()
    org_id = str(cfg.credentials.org_id)
    recorded = recorded_unlisted(pipeline, org_id)
    seen_at = started_at or (recorded[0] if recorded else _latest_seen_at(pipeline, org_id))
    if seen_at is None:
        raise CJAError(
            f"finish_sync: the warehouse holds no connection of org {org_id} in dataset "
            f"{pipeline.dataset_name!r}; run the pipeline with cja_source() first"
        )
    done = settle(pipeline, cfg, seen_at)
    finished = datetime.now(UTC)
    row = {
        "run_id": str(uuid.uuid4()),
        "org_id": org_id,
        "started_at": seen_at,
        "finished_at": finished,
        "status": "succeeded",
        "full": None,
        "error": None,
        "duration_seconds": round((finished - seen_at).total_seconds(), 3),
    }
    views = publish(pipeline, cfg, row)
    return {"run_id": row["run_id"], **done, "views": views}


def settle(pipeline: dlt.Pipeline, cfg: CJASourceConfiguration, seen_at: datetime) -> dict[str, Any]:
    """The warehouse made exact after the load of the run that started at `seen_at`."""
    return {"reconciled": reconcile(pipeline, cfg, seen_at), "repaired": repair_history(pipeline)}


def publish(pipeline: dlt.Pipeline, cfg: CJASourceConfiguration, succeeded_row: dict[str, Any]) -> list[str]:
    """Record the run, then the views (they measure ages against the latest successful sync, so
    they follow its `sync_runs` row) and the data dictionary's comments, then alerts and pruning.
    Returns the view names."""
    with one_connection(pipeline):
        log_run(pipeline, succeeded_row, loader_format(pipeline))
        views = create_views(pipeline, cfg.health, str(cfg.credentials.org_id))
        # statistics before the alerts read the views: on Postgres tables without any (autovacuum
        # off or behind) that read ran for minutes after a first sync of the maximal org
        analyze_if_postgres(pipeline)
    # on a connection of its own: what DuckDB holds for the views' reads goes when it closes (held
    # with the steps around it, the maximal org's idle re-sync peaked ~30 MB higher, bench P8)
    record_alerts(pipeline, succeeded_row)
    with one_connection(pipeline):  # closed before a sync checkpoints and copies the file
        prune_history(pipeline, cfg.health, succeeded_row["started_at"])
        analyze_if_postgres(pipeline, {ALERTS_TABLE, DELIVERIES})
        # once every table exists (health_alerts is made just above), and after the views:
        # DuckDB's CREATE OR REPLACE VIEW drops a view's comments
        apply_comments(pipeline)
        after_success(pipeline, runs_pipeline(pipeline))
    return views


def _latest_seen_at(pipeline: dlt.Pipeline, org_id: str) -> datetime | None:
    with pipeline.sql_client() as sql:
        if "connections" not in existing_tables(sql):
            return None
        rows = sql.execute_sql(
            f"SELECT MAX(last_seen_at) FROM {sql.make_qualified_table_name('connections')} WHERE org_id = %s",
            org_id,
        )
    value = rows[0][0] if rows else None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
