"""What a run does after dlt's load, so that the warehouse stays exact and fast and the pipelines
directory stays small."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import dlt

from cja_source.history import TABLE as HISTORY
from cja_source.history import VALID_FROM, VALID_TO, VERSION_COLUMN
from cja_source.snapshot import existing_tables

logger = logging.getLogger("cja_sync")


def after_success(pipeline: dlt.Pipeline, runs: dlt.Pipeline) -> None:
    """Last step of a good run, once every table, view and sync_runs row is written: no loaded
    package left on disk."""
    prune_loaded_packages(pipeline, runs)


def analyze_if_postgres(pipeline: dlt.Pipeline, tables: Collection[str] | None = None) -> None:
    """Statistics for Postgres' planner (DuckDB keeps its own as it writes): every table of the
    dataset, or only `tables`."""
    if pipeline.destination.destination_name == "postgres":
        analyze_dataset(pipeline, tables)


def repair_history(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Remove what a load replayed after a kill leaves in `connections_history`.

    dlt's scd2 merge inserts every staged version whose hash is not open yet. When a run is killed
    after a staging copy committed but before dlt recorded it, the next run copies the same file
    again, the staging table holds each version twice, and both are inserted: exact duplicates
    `(connection_id, version_hash, valid_from)`, two open versions per connection. Earlier versions
    of this tool left such rows behind too. One copy of each is kept; of several open versions of a
    connection only the newest stays open, the older ones closing when it began."""
    out: dict[str, int] = {}
    with pipeline.sql_client() as sql:
        if HISTORY not in existing_tables(sql):
            return out
        h = sql.make_qualified_table_name(HISTORY)
        if not _needs_repair(sql, h):
            return out
        row = "rowid" if pipeline.destination.destination_name == "duckdb" else "ctid"
        dup = sql.execute_sql(
            f"DELETE FROM {h} WHERE {row} IN (SELECT r FROM (SELECT {row} AS r, ROW_NUMBER() OVER "
            f"(PARTITION BY connection_id, {VERSION_COLUMN}, {VALID_FROM} ORDER BY {row}) AS n "
            f"FROM {h}) AS d WHERE d.n > 1) RETURNING 1"
        )
        newest_open = (
            f"(SELECT MAX(o.{VALID_FROM}) FROM {h} AS o "
            f"WHERE o.connection_id = t.connection_id AND o.{VALID_TO} IS NULL)"
        )
        closed = sql.execute_sql(
            f"UPDATE {h} AS t SET {VALID_TO} = {newest_open} "
            f"WHERE t.{VALID_TO} IS NULL AND t.{VALID_FROM} < {newest_open} RETURNING 1"
        )
    out = {"history_duplicates_removed": len(dup or ()), "history_versions_closed": len(closed or ())}
    if any(out.values()):
        logger.warning(
            "repaired connections_history: removed %d duplicate versions, closed %d stale open versions",
            out["history_duplicates_removed"],
            out["history_versions_closed"],
        )
    return out


def _needs_repair(sql: Any, h: str) -> bool:
    """Whether `connections_history` holds a duplicate version or a connection with two open ones,
    asked of the key columns alone: almost every run has neither, and the repair's DELETE and
    UPDATE read the whole table (~60 MB of DuckDB memory on the maximal org, bench P8)."""
    rows = sql.execute_sql(
        f"SELECT EXISTS (SELECT 1 FROM {h} GROUP BY connection_id, {VERSION_COLUMN}, {VALID_FROM} "
        f"HAVING COUNT(*) > 1) OR EXISTS (SELECT 1 FROM {h} WHERE {VALID_TO} IS NULL "
        "GROUP BY connection_id HAVING COUNT(*) > 1)"
    )
    return bool(rows and rows[0][0])


def analyze_dataset(pipeline: dlt.Pipeline, tables: Collection[str] | None = None) -> None:
    """ANALYZE every table of the dataset (or those of `tables` that exist). Freshly loaded
    tables have no statistics until autovacuum gets to them (never, where it is off), and the
    planner then picks nested loops over hundreds of thousands of rows: minutes for a view that
    takes a second."""
    with pipeline.sql_client() as sql:
        rows = sql.execute_sql(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            sql.dataset_name,
        )
        for (table,) in rows or ():
            if tables is None or table in tables:
                sql.execute_sql(f"ANALYZE {sql.make_qualified_table_name(table)}")


def prune_loaded_packages(*pipelines: dlt.Pipeline) -> int:
    """Delete the load packages dlt keeps after loading them (~1 MB per run of a mid-sized org,
    for ever). Only loaded ones: a pending package is what the next run must finish."""
    removed = 0
    for pipeline in pipelines:
        storage = pipeline._get_load_storage()
        if not storage.is_storage_ready():
            continue
        for load_id in storage.list_loaded_packages():
            storage.delete_loaded_package(load_id)
            removed += 1
    return removed
