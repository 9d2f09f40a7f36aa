"""What the dashboard reads: the health views only (`backfill_ages` for the per-backfill charts), so
every total and every "stuck" or "stale" equals the views'."""

from __future__ import annotations

from typing import Any

from ..warehouse.freshness import stale_after_hours, stale_syncs
from ..warehouse.reading import Warehouse, health_settings
from .history import read_history_data
from .impact import read_impact_data

CHANGES_LIMIT = 200


def read_report_data(warehouse: Warehouse) -> dict[str, Any]:
    """Everything the dashboard shows, as plain Python values."""
    from cja_source.snapshot import existing_tables

    with warehouse.reader() as reader:
        q, rows = reader.q, reader.rows
        has_changes = warehouse.settings is not None or "connection_changes" in existing_tables(reader.sql)
        data: dict[str, Any] = {
            "orgs": rows(f"SELECT * FROM {q('org_health_summary')} ORDER BY org_id"),
            "reference": rows(f"SELECT * FROM {q('health_reference')} ORDER BY org_id"),
            "backfills_by_day": rows(
                "SELECT CAST(created_date AT TIME ZONE 'UTC' AS DATE) AS day, status, COUNT(*) AS n "
                f"FROM {q('backfill_ages')} GROUP BY 1, 2"
            ),
            "open_backfills": rows(
                f"SELECT status, age_seconds, is_stuck FROM {q('backfill_ages')} WHERE is_open"
            ),
            "datasets": rows(
                "SELECT connection_id, data_set_id, data_set_name, data_set_type, streaming, is_stale, "
                "last_ingested_time, health_status, severity, failed_count, stuck_count, "
                "in_progress_count, in_queue_count, oldest_open_age_hours, seconds_since_ingestion "
                f"FROM {q('backfill_health')}"
            ),
            "connections": rows(
                f"SELECT * FROM {q('connection_health')} ORDER BY severity DESC, "
                "datasets_stuck + datasets_failed + datasets_stale DESC, validation_errors DESC, "
                "connection_name, connection_id"
            ),
            "changes": _changes(rows, q) if has_changes else [],
        }
        data.update(read_history_data(rows, q))
        data.update(read_impact_data(rows, q))
    # the one wall-clock condition: a report of a warehouse whose syncs stopped says so on top
    ids = [o["org_id"] for o in data["orgs"]]
    hours = stale_after_hours(ids, float(health_settings().sync_stale_after_hours))
    stale = stale_syncs({o["org_id"]: o["as_of"] for o in data["orgs"]}, hours)
    data["sync_stale"] = [stale[o] for o in ids if o in stale]
    return data


def _changes(rows: Any, q: Any) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = rows(
        "SELECT connection_id, connection_name, data_set_id, field, change, old_value, new_value, "
        f"changed_at FROM {q('connection_changes')} "
        f"ORDER BY changed_at DESC, connection_name, field, data_set_id LIMIT {CHANGES_LIMIT}"
    )
    return changes
