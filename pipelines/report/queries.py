"""What the dashboard reads: the health views only (`backfill_ages` for the per-backfill charts), so
every total and every "stuck" or "stale" equals the views'."""

from __future__ import annotations

import math
from typing import Any

from ..warehouse.freshness import stale_after_hours, stale_syncs
from ..warehouse.reading import Warehouse, health_settings
from .figures import WORST_CONNECTIONS, age_bins, thresholds
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
            "connections": rows(
                f"SELECT * FROM {q('connection_health')} ORDER BY severity DESC, "
                "datasets_stuck + datasets_failed + datasets_stale DESC, validation_errors DESC, "
                "connection_name, connection_id"
            ),
            "changes": _changes(rows, q) if has_changes else [],
        }
        # a maximal org has 100k datasets and ~500k backfills: the charts get counts per bin,
        # counted by the warehouse, and the table only the datasets of the connections it shows
        stuck_after, stale_after = thresholds(data)
        data["open_age_counts"] = rows(
            f"SELECT is_stuck, {bin_case('COALESCE(age_seconds, 0) / 3600.0', age_bins(stuck_after))} "
            f"AS bin, COUNT(*) AS n FROM {q('backfill_ages')} WHERE is_open GROUP BY 1, 2"
        )
        stale_bins = age_bins(stale_after)
        since = bin_case("GREATEST(seconds_since_ingestion / 3600.0, 0)", stale_bins)
        data["ingestion_age_counts"] = rows(
            f"SELECT is_stale, CASE WHEN seconds_since_ingestion IS NULL THEN {len(stale_bins)} "
            f"ELSE {since} END AS bin, COUNT(*) AS n FROM {q('backfill_health')} WHERE streaming "
            "GROUP BY 1, 2"
        )
        shown = [str(c["connection_id"]) for c in data["connections"][:WORST_CONNECTIONS]]
        data["datasets"] = (
            rows(
                "SELECT connection_id, data_set_id, data_set_name, data_set_type, streaming, is_stale, "
                "last_ingested_time, health_status, severity, failed_count, stuck_count, "
                "in_progress_count, in_queue_count, oldest_open_age_hours, seconds_since_ingestion "
                f"FROM {q('backfill_health')} WHERE connection_id IN ({literals(shown)})"
            )
            if shown
            else []
        )
        data.update(read_history_data(rows, q))
        data.update(read_impact_data(rows, q))
    # the one wall-clock condition: a report of a warehouse whose syncs stopped says so on top
    ids = [o["org_id"] for o in data["orgs"]]
    hours = stale_after_hours(ids, float(health_settings().sync_stale_after_hours))
    stale = stale_syncs({o["org_id"]: o["as_of"] for o in data["orgs"]}, hours)
    data["sync_stale"] = [stale[o] for o in ids if o in stale]
    return data


def bin_case(hours: str, bins: list[tuple[float, float]]) -> str:
    """SQL giving the index of the bin (low, high] that `hours` falls in: an age equal to a
    threshold stays on its younger side, as in the views. Bins are contiguous (figures.age_bins);
    the first takes anything up to its high edge, the last anything above."""
    whens = " ".join(
        f"WHEN {hours} <= {high!r} THEN {i}" for i, (_low, high) in enumerate(bins) if not math.isinf(high)
    )
    return f"CASE {whens} ELSE {len(bins) - 1} END"


def literals(values: list[str]) -> str:
    """SQL string literals of API text (ids are untrusted: quotes doubled)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _changes(rows: Any, q: Any) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = rows(
        "SELECT connection_id, connection_name, data_set_id, field, change, old_value, new_value, "
        f"changed_at FROM {q('connection_changes')} "
        f"ORDER BY changed_at DESC, connection_name, field, data_set_id LIMIT {CHANGES_LIMIT}"
    )
    return changes
