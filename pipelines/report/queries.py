"""What the dashboard reads: the health views, plus `backfills` restricted to the (connection,
dataset) pairs `backfill_health` reports, so every total equals the views'."""

from __future__ import annotations

from typing import Any

import dlt
import sqlglot

CHANGES_LIMIT = 200


def read_report_data(pipeline: dlt.Pipeline) -> dict[str, Any]:
    """Everything the dashboard shows, as plain Python values."""
    from ..warehouse import existing_tables

    with pipeline.sql_client() as sql:
        dialect = getattr(sql.capabilities, "sqlglot_dialect", None) or "postgres"
        q = sql.make_qualified_table_name
        present = existing_tables(sql)

        def rows(text: str) -> list[dict[str, Any]]:
            statement = sqlglot.transpile(text, read="postgres", write=dialect)[0]
            with sql.execute_query(statement) as cur:
                names = [d[0] for d in cur.description]
                return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        live = (
            f"JOIN (SELECT DISTINCT connection_id, data_set_id FROM {q('backfill_health')}) AS h "
            "ON h.connection_id = b.connection_id AND h.data_set_id = b.data_set_id"
        )
        has_backfills = "backfills" in present  # an org without a single backfill has no table
        data: dict[str, Any] = {
            "orgs": rows(f"SELECT * FROM {q('org_health_summary')} ORDER BY org_id"),
            "reference": rows(f"SELECT * FROM {q('health_reference')} ORDER BY org_id"),
            "backfills_by_day": rows(
                "SELECT CAST(b.created_date AT TIME ZONE 'UTC' AS DATE) AS day, b.status, COUNT(*) AS n "
                f"FROM {q('backfills')} AS b {live} GROUP BY 1, 2"
            )
            if has_backfills
            else [],
            "open_backfills": rows(
                "SELECT b.status, "
                "(EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date)) / 3600.0 AS age_hours, "
                "CASE WHEN EXTRACT(EPOCH FROM ref.as_of) - EXTRACT(EPOCH FROM b.created_date) "
                "> ref.stuck_after_hours * 3600 THEN TRUE ELSE FALSE END AS stuck "
                f"FROM {q('backfills')} AS b {live} "
                f"JOIN {q('health_reference')} AS ref ON ref.org_id = b.org_id "
                "WHERE b.status IN ('IN_PROGRESS', 'IN_QUEUE')"
            )
            if has_backfills
            else [],
            "datasets": rows(
                "SELECT connection_id, data_set_id, data_set_name, data_set_type, streaming, is_stale, "
                "last_ingested_time, health_status, severity, failed_count, stuck_count, "
                "in_progress_count, in_queue_count, oldest_open_age_hours, "
                "(EXTRACT(EPOCH FROM as_of) - EXTRACT(EPOCH FROM last_ingested_time)) / 3600.0 "
                f"AS hours_since_ingestion FROM {q('backfill_health')}"
            ),
            "connections": rows(
                f"SELECT * FROM {q('connection_health')} ORDER BY severity DESC, "
                "datasets_stuck + datasets_failed + datasets_stale DESC, validation_errors DESC, "
                "connection_name, connection_id"
            ),
            "changes": _changes(rows, q) if "connection_changes" in present else [],
        }
    return data


def _changes(rows: Any, q: Any) -> list[dict[str, Any]]:
    return rows(
        "SELECT connection_id, connection_name, data_set_id, field, change, old_value, new_value, "
        f"changed_at FROM {q('connection_changes')} "
        f"ORDER BY changed_at DESC, connection_name, field, data_set_id LIMIT {CHANGES_LIMIT}"
    )
