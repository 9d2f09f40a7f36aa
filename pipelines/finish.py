"""`finish_sync`: what follows a successful load of `cja_source()` in any dlt pipeline — deletions
marked, the run recorded in `sync_runs`, the health views created or refreshed — so that
`cja-sync health` and `report` work on a warehouse written by a user's own pipeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dlt

from cja_source.config import CJASettings, load_settings
from cja_source.errors import CJAError
from cja_source.snapshot import existing_tables

from .views import create_views


def finish_sync(
    pipeline: dlt.Pipeline, config: CJASettings | None = None, started_at: datetime | None = None
) -> dict[str, Any]:
    """Call after `pipeline.run(cja_source())` returned without error; returns what it did.

    `config` is the source's settings (resolved from `[sources.cja]` when None): its filters say
    which stored connections the listing could have returned, its thresholds go to the views.
    `started_at` is the source's `run_started_at`; by default the `last_seen_at` of the org's
    latest load, which every row the run wrote carries."""
    from .sync import _log_run, loader_format  # sync imports this module at run time too
    from .warehouse import reconcile

    cfg = config or load_settings()
    org_id = str(cfg.credentials.org_id)
    seen_at = started_at or _latest_seen_at(pipeline, org_id)
    if seen_at is None:
        raise CJAError(
            f"finish_sync: the warehouse holds no connection of org {org_id} in dataset "
            f"{pipeline.dataset_name!r}; run the pipeline with cja_source() first"
        )
    reconciled = reconcile(pipeline, cfg, seen_at)
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
    _log_run(pipeline, row, loader_format(pipeline))
    views = create_views(pipeline, cfg.health)
    return {"run_id": row["run_id"], "reconciled": reconciled, "views": views}


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
