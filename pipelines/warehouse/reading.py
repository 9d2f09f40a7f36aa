"""Opening a warehouse for `health` and `report`: tell "cannot open it" from "nothing synced yet",
and read it without writing anything."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import sqlglot

from cja_source.configuration import HealthConfiguration, load_settings
from cja_source.errors import ConfigurationError
from cja_source.fleet_config import configured_org_names
from cja_source.snapshot import existing_tables

from ..errors import (
    NoSuccessfulSync,
    WarehouseBusy,
    WarehouseUnavailable,
    innermost,
    one_line,
    setup_error,
)
from ..options import DEFAULT_DUCKDB_PATH, DEMO_DUCKDB_PATH, RunOptions
from ..settings import runner_settings
from ..text import cut
from .duckdb_open import lock_conflict_error, waited_in_vain
from .inline_views import with_views
from .pipeline import make_pipeline
from .views import (
    LOCAL_NAMES,
    existing_columns,
    stored_thresholds,
    thresholds,
    views_exist,
)


@dataclass
class Warehouse:
    """A warehouse opened for reading. Nothing is ever written: a read-only role, or a published
    DuckDB file that BI tools hold open, reads like any other. `settings` is None when the stored
    views answer with the thresholds the reader is configured with; otherwise {org_id: thresholds}
    that every query applies itself (the views inlined as CTEs over the tables)."""

    pipeline: dlt.Pipeline
    settings: dict[str, tuple[float, ...]] | None = None

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        with self.pipeline.sql_client() as sql:
            yield Reader(sql, self.settings)


class Reader:
    """`q(name)` names a table or view in a query; `rows(query)` runs it (PostgreSQL syntax)."""

    def __init__(self, sql: Any, settings: dict[str, tuple[float, ...]] | None) -> None:
        self.sql, self.settings = sql, settings
        self.columns = existing_columns(sql) if settings is not None else {}
        self._memory_steps = 0

    def q(self, name: str) -> str:
        if self.settings is not None and name in LOCAL_NAMES:
            return name
        return str(self.sql.make_qualified_table_name(name))

    def rows(self, query: str) -> list[dict[str, Any]]:
        if self.settings is not None:
            query = with_views(self.sql, query, self.settings, self.columns)
        while True:
            try:
                return fetch_dicts(self.sql, query)
            except Exception as exc:
                if not self._more_memory(exc):
                    raise

    def _more_memory(self, exc: Exception) -> bool:
        """DuckDB opened with the sync's memory cap ran out of it: the next step of MORE_MEMORY
        for this connection, True when there was one. Most operators spill to disk under the cap;
        a few cannot (connection_changes over a long history splits much text at once)."""
        if "out of memory" not in str(exc).lower() or self._memory_steps >= len(MORE_MEMORY):
            return False
        limit = MORE_MEMORY[self._memory_steps]
        self._memory_steps += 1
        self.sql.execute_sql("RESET memory_limit" if limit is None else f"SET memory_limit = '{limit}'")
        return True

    def stream(self, query: str) -> Iterator[dict[str, Any]]:
        """The rows of `query` one at a time, fetched STREAM_ROWS at a time: for results as large
        as a maximal org's datasets, of which the caller keeps a few."""
        if self.settings is not None:
            query = with_views(self.sql, query, self.settings, self.columns)
        yield from stream_dicts(self.sql, query)


def open_for_reading(opts: RunOptions) -> Warehouse:
    """The warehouse of `opts`, read-only. Raises NoSuccessfulSync, WarehouseUnavailable or
    ConfigurationError (a missing driver, a bad threshold)."""
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
        raise no_warehouse(path)
    if duckdb and not path.is_file():
        raise WarehouseUnavailable(f"cannot open the warehouse {where}: it is not a file; {fix}")
    # DuckDB's memory capped as for a sync: the views over a maximal org's ~500k backfills took
    # ~450 MB of DuckDB's own memory in `report` (bench P9), where a cap only costs some speed
    pipeline = make_pipeline(opts, runner_settings().duckdb_memory_limit, read_only=True)
    try:
        orgs = _synced_orgs(pipeline)
    except Exception as exc:  # noqa: BLE001 - whatever stops the connection is the cause to report
        cause = one_line(innermost(exc))
        if waited_in_vain(exc):  # a sync holds the DuckDB file: say so, and who holds it
            busy = lock_conflict_error(read_only=True).message
            raise WarehouseBusy(f"cannot open the warehouse {where}: {busy} ({cause})") from None
        raise setup_error(exc) or WarehouseUnavailable(
            f"cannot open the warehouse {where}: {cause}; {fix}"
        ) from None
    if not orgs:
        raise NoSuccessfulSync(f"no successful sync in {where}; run cja-sync run first")
    wanted = reader_thresholds(orgs)
    stored = stored_thresholds(pipeline)
    if stored is not None and all(stored.get(o) == wanted[o] for o in orgs) and views_exist(pipeline):
        return Warehouse(pipeline)
    return Warehouse(pipeline, wanted)


def no_warehouse(path: Path) -> NoSuccessfulSync:
    """No DuckDB file at `path`. Beside `cja-sync demo`'s file, and asked for the default one,
    a reader was most likely meant for the demo's: name the flag that opens it (`run first`
    would need credentials the demo never asked for)."""
    where = cut(str(path.resolve()), 300)
    demo = Path(DEMO_DUCKDB_PATH)
    if path == Path(DEFAULT_DUCKDB_PATH) and demo.is_file():
        return NoSuccessfulSync(
            f"no warehouse at {where}; the demo's is {cut(str(demo.resolve()), 300)}: "
            f"add --duckdb-path {DEMO_DUCKDB_PATH}"
        )
    return NoSuccessfulSync(f"no successful sync in {where}; run cja-sync run first")


def reader_thresholds(orgs: list[str]) -> dict[str, tuple[float, ...]]:
    """The thresholds this machine's configuration gives each org: its own
    `[sources.cja.orgs.<name>.health]` when a configured org has that IMS org id, else
    `[sources.cja.health]` — what a sync from here would store."""
    default = thresholds(health_settings())
    own: dict[str, tuple[float, ...]] = {}
    for name in configured_org_names():
        cfg = load_settings(need_credentials=False, sections=("sources", "cja", "orgs", name))
        org_id = getattr(cfg.credentials, "org_id", None)
        if org_id:
            own[str(org_id)] = thresholds(cfg.health)
    return {org: own.get(org, default) for org in orgs}


def fetch_dicts(sql: Any, query: str) -> list[dict[str, Any]]:
    """Rows of `query` (PostgreSQL syntax, like the views) as dicts, on `sql`'s destination."""
    dialect = getattr(sql.capabilities, "sqlglot_dialect", None) or "postgres"
    statement = sqlglot.transpile(query, read="postgres", write=dialect)[0]
    with sql.execute_query(statement) as cur:
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# What a reader's DuckDB gets after running out of memory under the sync's cap, step by step (the
# maximal org's connection_changes needs ~160 MB), then DuckDB's
# own default (80 % of RAM)
MORE_MEMORY: tuple[str | None, ...] = ("192MB", "384MB", "1GB", None)
# rows fetched at a time by Reader.stream
STREAM_ROWS = 5_000


def stream_dicts(sql: Any, query: str) -> Iterator[dict[str, Any]]:
    """Like fetch_dicts, a chunk of rows at a time."""
    dialect = getattr(sql.capabilities, "sqlglot_dialect", None) or "postgres"
    statement = sqlglot.transpile(query, read="postgres", write=dialect)[0]
    with sql.execute_query(statement) as cur:
        names = [d[0] for d in cur.description]
        while chunk := cur.fetchmany(STREAM_ROWS):
            for r in chunk:
                yield dict(zip(names, r, strict=True))


def _synced_orgs(pipeline: dlt.Pipeline) -> list[str]:
    """Orgs with a successful sync; [] when the dataset or `sync_runs` is missing. Any failure to
    connect or read propagates."""
    with pipeline.sql_client() as sql:
        if "sync_runs" not in existing_tables(sql):
            return []
        rows = sql.execute_sql(
            f"SELECT DISTINCT org_id FROM {sql.make_qualified_table_name('sync_runs')} "
            "WHERE status = 'succeeded' AND finished_at IS NOT NULL AND org_id IS NOT NULL"
        )
    return sorted(str(r[0]) for r in rows or ())


def health_settings() -> HealthConfiguration:
    """`[sources.cja.health]` alone: load_settings(need_credentials=False) still insists on a valid
    org_id, which a machine that only reads the warehouse need not have."""
    from dlt.common.configuration import resolve_configuration

    try:
        health = resolve_configuration(HealthConfiguration(), sections=("sources", "cja", "health"))
    except Exception as exc:  # noqa: BLE001 - dlt raises several types for a bad value
        raise ConfigurationError(f"invalid setting in [sources.cja.health]: {one_line(exc)}") from None
    problems = health.problems()
    if problems:
        raise ConfigurationError(problems[0])
    return health
