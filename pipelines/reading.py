"""Opening a warehouse for `health` and `report`: tell "cannot open it" from "nothing synced yet"."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import dlt
import sqlglot

from cja_source.configuration import HealthConfiguration
from cja_source.errors import ConfigurationError
from cja_source.snapshot import existing_tables

from .errors import NoSuccessfulSync, WarehouseBusy, WarehouseUnavailable, innermost, missing_driver, one_line
from .locks import lock_conflict_error, waited_in_vain
from .options import options_from_args
from .pipeline_factory import make_pipeline
from .text import cut
from .views import create_views, stored_thresholds, thresholds, views_exist


def open_for_reading(args: argparse.Namespace, pipeline_name: str = "cja") -> dlt.Pipeline:
    """The pipeline of `args`, its views current. Raises NoSuccessfulSync, WarehouseUnavailable or
    ConfigurationError (a missing driver, a bad threshold)."""
    opts = options_from_args(args, pipeline_name=pipeline_name)
    duckdb = opts.destination == "duckdb"
    path = Path(opts.duckdb_path)
    where = (
        cut(str(path.resolve()), 300)
        if duckdb
        else f"{opts.destination} dataset {cut(opts.dataset_name, 100)}"
    )
    fix = (
        "check --duckdb-path"
        if duckdb
        else f"check the {opts.destination} credentials and that the server is up"
    )
    # connecting to a DuckDB path that does not exist would create an empty file there
    if duckdb and not path.exists():
        raise NoSuccessfulSync(f"no successful sync in {where}; run cja-sync run first")
    if duckdb and not path.is_file():
        raise WarehouseUnavailable(f"cannot open the warehouse {where}: it is not a file; {fix}")
    # read-only: a sync can wait for readers; it cannot share the file with another writer
    pipeline = make_pipeline(opts, read_only=True)
    try:
        synced = _has_successful_sync(pipeline)
    except Exception as exc:  # noqa: BLE001 - whatever stops the connection is the cause to report
        cause = one_line(innermost(exc))
        if waited_in_vain(exc):  # a sync holds the DuckDB file: say so, and who holds it
            busy = lock_conflict_error(read_only=True).message
            raise WarehouseBusy(f"cannot open the warehouse {where}: {busy} ({cause})") from None
        raise missing_driver(exc) or WarehouseUnavailable(
            f"cannot open the warehouse {where}: {cause}; {fix}"
        ) from None
    if not synced:
        raise NoSuccessfulSync(f"no successful sync in {where}; run cja-sync run first")
    health = health_settings()
    wanted = thresholds(health)
    if not views_exist(pipeline) or stored_thresholds(pipeline) != wanted:
        create_views(make_pipeline(opts), health)  # the one write a reader may need
    return pipeline


def fetch_dicts(sql: Any, query: str) -> list[dict[str, Any]]:
    """Rows of `query` (PostgreSQL syntax, like the views) as dicts, on `sql`'s destination."""
    dialect = getattr(sql.capabilities, "sqlglot_dialect", None) or "postgres"
    statement = sqlglot.transpile(query, read="postgres", write=dialect)[0]
    with sql.execute_query(statement) as cur:
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _has_successful_sync(pipeline: dlt.Pipeline) -> bool:
    """False when the dataset or `sync_runs` is missing; any failure to connect or read propagates."""
    with pipeline.sql_client() as sql:
        if "sync_runs" not in existing_tables(sql):
            return False
        rows = sql.execute_sql(
            f"SELECT COUNT(*) FROM {sql.make_qualified_table_name('sync_runs')} "
            "WHERE status = 'succeeded' AND finished_at IS NOT NULL"
        )
    return bool(rows and rows[0][0])


def health_settings() -> HealthConfiguration:
    """`[sources.cja.health]` alone: load_settings(need_credentials=False) still insists on a valid
    org_id, which a machine that only reads the warehouse need not have."""
    from dlt.common.configuration import resolve_configuration

    try:
        health = resolve_configuration(HealthConfiguration(), sections=("sources", "cja", "health"))
    except Exception as exc:  # noqa: BLE001 - dlt raises several types for a bad value
        raise ConfigurationError(f"invalid setting in [sources.cja.health]: {one_line(exc)}") from None
    if float(health.stuck_after_hours) <= 0 or float(health.stale_after_hours) <= 0:
        raise ConfigurationError("sources.cja.health thresholds must be positive")
    return health
