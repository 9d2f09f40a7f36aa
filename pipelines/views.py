"""The health views: SQL kept once in `sql/` (PostgreSQL syntax), translated to the destination's
dialect with sqlglot and qualified with the pipeline's dataset."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import dlt
import sqlglot
from sqlglot import exp

from cja_source.configuration import HealthConfiguration

SOURCE_DIALECT = "postgres"
SETTINGS_TABLE = "health_settings"
# dependency order: each view reads only tables and the views before it
VIEWS = (
    "health_reference",
    "backfill_ages",
    "backfill_health",
    "stuck_backfills",
    "failed_backfills",
    "stale_datasets",
    "connection_health",
    "org_health_summary",
)
# Not health views: connection_changes reads connections_history (cja_source/history.py). Created and
# checked with the health views, but kept out of VIEWS, which lists the views of one sync's health.
CHANGE_VIEWS = ("connection_changes",)
# What the syncs observed over time (cja_source/observations.py): volume drops, backfill durations.
HISTORY_VIEWS = ("ingestion_drops", "backfill_durations")
ALL_VIEWS = VIEWS + CHANGE_VIEWS + HISTORY_VIEWS
# What the views read. A table or column dlt has not created yet (no validation error ever seen, a
# field the API never returned) is replaced by typed NULLs, so the views exist from the first sync.
NEEDED: dict[str, dict[str, str]] = {
    "connections": {
        "id": "TEXT",
        "org_id": "TEXT",
        "name": "TEXT",
        "sandbox_name": "TEXT",
        "is_disabled": "BOOLEAN",
        "deleted_in_source_at": "TIMESTAMPTZ",
    },
    "datasets": {
        "org_id": "TEXT",
        "connection_id": "TEXT",
        "data_set_id": "TEXT",
        "name": "TEXT",
        "type": "TEXT",
        "streaming": "BOOLEAN",
        "last_ingested_time": "TIMESTAMPTZ",
        "deleted_in_source_at": "TIMESTAMPTZ",
    },
    "backfills": {
        "id": "TEXT",
        "org_id": "TEXT",
        "connection_id": "TEXT",
        "data_set_id": "TEXT",
        "status": "TEXT",
        "created_date": "TIMESTAMPTZ",
        "start_date": "TIMESTAMPTZ",
        "end_date": "TIMESTAMPTZ",
        "all_data": "BOOLEAN",
    },
    "connection_validation_errors": {"connection_id": "TEXT", "org_id": "TEXT", "error_code": "TEXT"},
    "sync_runs": {"org_id": "TEXT", "status": "TEXT", "finished_at": "TIMESTAMPTZ"},
    "connection_volume_history": {
        "org_id": "TEXT",
        "connection_id": "TEXT",
        "observed_at": "TIMESTAMPTZ",
        "num_daily_events": "BIGINT",
    },
    "backfill_status_changes": {
        "backfill_id": "TEXT",
        "to_status": "TEXT",
        "observed_at": "TIMESTAMPTZ",
        "previous_observed_at": "TIMESTAMPTZ",
    },
    # connection_changes (cja_source/history.py)
    "connections_history": {
        "org_id": "TEXT",
        "connection_id": "TEXT",
        "name": "TEXT",
        "description": "TEXT",
        "owner_id": "TEXT",
        "owner_type": "TEXT",
        "owner_name": "TEXT",
        "sandbox_id": "TEXT",
        "sandbox_name": "TEXT",
        "data_retention_months": "BIGINT",
        "is_disabled": "BOOLEAN",
        "case_sensitive": "BOOLEAN",
        "backfill_enabled": "BOOLEAN",
        "float_precision": "BIGINT",
        "primary_id_type": "TEXT",
        "configured_containers": "TEXT",
        "data_set_settings": "TEXT",
        "source_modified_at": "TIMESTAMPTZ",
        "source_modified_by": "TEXT",
        "source_modified_by_name": "TEXT",
        "valid_from": "TIMESTAMPTZ",
        "valid_to": "TIMESTAMPTZ",
    },
}


def sql_text(name: str) -> str:
    # package data (`sql/` in the repository, `cja_sync/sql` once installed): works from a wheel too
    return resources.files("cja_sync.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def create_views(pipeline: dlt.Pipeline, health: HealthConfiguration) -> list[str]:
    """Create or replace the thresholds table, every health view and connection_changes; returns the
    health view names.
    Safe to call after every sync: one transaction, so readers never see a view missing."""
    with pipeline.sql_client() as sql:
        dialect = _dialect(sql)
        columns = _existing_columns(sql)
        q = sql.make_qualified_table_name
        drops = [f"DROP VIEW IF EXISTS {q(v)}" for v in reversed(ALL_VIEWS)]
        # recreated rather than emptied: a warehouse from an earlier version lacks the newer columns
        settings = [
            f"DROP TABLE IF EXISTS {q(SETTINGS_TABLE)}",
            _translate(sql_text(SETTINGS_TABLE), dialect, q, columns),
        ]
        creates = [f"CREATE VIEW {q(v)} AS {_translate(sql_text(v), dialect, q, columns)}" for v in ALL_VIEWS]
        with sql.begin_transaction():
            for statement in drops + settings:
                sql.execute_sql(statement)
            sql.execute_sql(
                f"INSERT INTO {q(SETTINGS_TABLE)} (stuck_after_hours, stale_after_hours, volume_drop_pct, "
                "volume_baseline_days, volume_min_points, updated_at) VALUES (%s, %s, %s, %s, %s, %s)",
                float(health.stuck_after_hours),
                float(health.stale_after_hours),
                float(health.volume_drop_pct),
                float(health.volume_baseline_days),
                int(health.volume_min_points),
                datetime.now(UTC),
            )
            for statement in creates:
                sql.execute_sql(statement)
    return list(VIEWS)


def views_exist(pipeline: dlt.Pipeline) -> bool:
    """True when the thresholds table and every view can be queried."""
    try:
        with pipeline.sql_client() as sql:
            for name in (SETTINGS_TABLE, *ALL_VIEWS):
                sql.execute_sql(f"SELECT 1 FROM {sql.make_qualified_table_name(name)} WHERE 1 = 0")
    except Exception:  # noqa: BLE001 - each destination raises its own "no such relation"
        return False
    return True


def thresholds(health: HealthConfiguration) -> tuple[float, ...]:
    """The settings the views read, in health_settings' column order."""
    return (
        float(health.stuck_after_hours),
        float(health.stale_after_hours),
        float(health.volume_drop_pct),
        float(health.volume_baseline_days),
        float(health.volume_min_points),
    )


def stored_thresholds(pipeline: dlt.Pipeline) -> tuple[float, ...] | None:
    try:
        with pipeline.sql_client() as sql:
            rows = sql.execute_sql(
                "SELECT stuck_after_hours, stale_after_hours, volume_drop_pct, volume_baseline_days, "
                f"volume_min_points FROM {sql.make_qualified_table_name(SETTINGS_TABLE)}"
            )
    except Exception:  # noqa: BLE001 - absent table, or one from before the volume settings
        return None
    return tuple(float(v) for v in rows[0]) if rows and len(rows) == 1 else None


def _dialect(sql: Any) -> str:
    return getattr(sql.capabilities, "sqlglot_dialect", None) or SOURCE_DIALECT


def _existing_columns(sql: Any) -> dict[str, set[str]]:
    """{table: columns} of the dataset, lower-cased, from information_schema."""
    rows = sql.execute_sql(
        "SELECT table_name, column_name FROM information_schema.columns WHERE lower(table_schema) = %s",
        sql.dataset_name.lower(),
    )
    out: dict[str, set[str]] = {}
    for table, column in rows or ():
        out.setdefault(str(table).lower(), set()).add(str(column).lower())
    return out


def _translate(text: str, dialect: str, qualify: Any, columns: dict[str, set[str]]) -> str:
    """Parse the shared SQL, point its table names at the dataset and write it in `dialect`."""
    tree = sqlglot.parse_one(text, read=SOURCE_DIALECT)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    ours = {SETTINGS_TABLE, *ALL_VIEWS}

    def swap(node: exp.Expression) -> exp.Expr:
        if not isinstance(node, exp.Table) or node.db or node.name in ctes:
            return node
        name = node.name
        alias = node.alias or name
        if name in NEEDED:
            present = columns.get(name, set())
            if not set(NEEDED[name]) <= present:
                return _stand_in(name, present, qualify, dialect).subquery(alias)
        if name in NEEDED or name in ours:
            table = exp.to_table(qualify(name), dialect=dialect)
            if isinstance(node.parent, exp.Create | exp.Schema):
                return table
            return table.as_(alias) if node.alias or name != alias else table.as_(name)
        return node

    return tree.transform(swap).sql(dialect=dialect)


def _stand_in(name: str, present: set[str], qualify: Any, dialect: str) -> exp.Select:
    """The table's needed columns, NULL where dlt has not created a column (or the table) yet."""
    projections = [
        exp.column(col) if col in present else exp.cast(exp.null(), typ, dialect=SOURCE_DIALECT).as_(col)
        for col, typ in NEEDED[name].items()
    ]
    select = exp.select(*projections)
    if present:
        return select.from_(exp.to_table(qualify(name), dialect=dialect))
    return select.where(exp.false())
