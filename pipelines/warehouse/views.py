"""The health views: SQL kept once in `sql/` (PostgreSQL syntax), translated to the destination's
dialect with sqlglot and qualified with the pipeline's dataset."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import UTC, datetime
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dlt
import sqlglot
from sqlglot import exp

from cja_source.configuration import HealthConfiguration
from cja_source.errors import CJAError

from . import view_record

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
# What each connection and dataset feeds (cja_source/data_views.py): data views and their components.
IMPACT_VIEWS = ("connection_impact", "orphan_connections", "orphan_data_views", "dataset_impact")
ALL_VIEWS = VIEWS + CHANGE_VIEWS + HISTORY_VIEWS + IMPACT_VIEWS
# what `with_views` turns into CTEs: a reader names these unqualified
LOCAL_NAMES = frozenset({SETTINGS_TABLE, *ALL_VIEWS})
# translated view statements by digest of what they depend on (see _view_statements)
VIEWS_CACHE = "cja_views.json"
_TRANSLATED: dict[str, list[str]] = {}
# What the views read. A table or column dlt has not created yet (no validation error ever seen, a
# field the API never returned) is replaced by typed NULLs, so the views exist from the first sync.
NEEDED: dict[str, dict[str, str]] = {
    "connections": {
        "id": "VARCHAR",
        "org_id": "VARCHAR",
        "name": "VARCHAR",
        "sandbox_name": "VARCHAR",
        "is_disabled": "BOOLEAN",
        "deleted_in_source_at": "TIMESTAMPTZ",
    },
    "datasets": {
        "org_id": "VARCHAR",
        "connection_id": "VARCHAR",
        "data_set_id": "VARCHAR",
        "name": "VARCHAR",
        "type": "VARCHAR",
        "streaming": "BOOLEAN",
        "last_ingested_time": "TIMESTAMPTZ",
        "deleted_in_source_at": "TIMESTAMPTZ",
    },
    "backfills": {
        "id": "VARCHAR",
        "org_id": "VARCHAR",
        "connection_id": "VARCHAR",
        "data_set_id": "VARCHAR",
        "status": "VARCHAR",
        "created_date": "TIMESTAMPTZ",
        "start_date": "TIMESTAMPTZ",
        "end_date": "TIMESTAMPTZ",
        "all_data": "BOOLEAN",
    },
    "connection_validation_errors": {
        "connection_id": "VARCHAR",
        "org_id": "VARCHAR",
        "error_code": "VARCHAR",
    },
    "sync_runs": {"org_id": "VARCHAR", "status": "VARCHAR", "finished_at": "TIMESTAMPTZ"},
    "connection_volume_history": {
        "org_id": "VARCHAR",
        "connection_id": "VARCHAR",
        "observed_at": "TIMESTAMPTZ",
        "num_daily_events": "BIGINT",
    },
    "backfill_status_changes": {
        "backfill_id": "VARCHAR",
        "to_status": "VARCHAR",
        "observed_at": "TIMESTAMPTZ",
        "previous_observed_at": "TIMESTAMPTZ",
    },
    # the impact views (cja_source/data_views.py)
    "data_views": {
        "id": "VARCHAR",
        "org_id": "VARCHAR",
        "connection_id": "VARCHAR",
        "name": "VARCHAR",
        "deleted_in_source_at": "TIMESTAMPTZ",
    },
    "data_view_components": {
        "data_view_id": "VARCHAR",
        "id": "VARCHAR",
        "kind": "VARCHAR",
        "hidden": "BOOLEAN",
        "deleted_in_source_at": "TIMESTAMPTZ",
    },
    "data_view_component_datasets": {
        "data_view_id": "VARCHAR",
        "component_id": "VARCHAR",
        "data_set_id": "VARCHAR",
    },
    # connection_changes (cja_source/history.py)
    "connections_history": {
        "org_id": "VARCHAR",
        "connection_id": "VARCHAR",
        "name": "VARCHAR",
        "description": "VARCHAR",
        "owner_id": "VARCHAR",
        "owner_type": "VARCHAR",
        "owner_name": "VARCHAR",
        "sandbox_id": "VARCHAR",
        "sandbox_name": "VARCHAR",
        "data_retention_months": "BIGINT",
        "is_disabled": "BOOLEAN",
        "case_sensitive": "BOOLEAN",
        "backfill_enabled": "BOOLEAN",
        "float_precision": "BIGINT",
        "primary_id_type": "VARCHAR",
        "configured_containers": "VARCHAR",
        "data_set_settings": "VARCHAR",
        "source_modified_at": "TIMESTAMPTZ",
        "source_modified_by": "VARCHAR",
        "source_modified_by_name": "VARCHAR",
        "valid_from": "TIMESTAMPTZ",
        "valid_to": "TIMESTAMPTZ",
    },
}


def sql_text(name: str) -> str:
    # package data (`sql/` in the repository, `cja_sync/sql` once installed): works from a wheel too
    return resources.files("cja_sync.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def create_views(pipeline: dlt.Pipeline, health: HealthConfiguration, org_id: str | None = None) -> list[str]:
    """Write `org_id`'s thresholds (every synced org's when None) and replace every view in place;
    returns the health view names. One transaction, so readers never see a view missing.

    In place (`CREATE OR REPLACE`, the settings table kept): a user's view over ours, and the
    grants a BI role holds on them, survive every sync. Postgres refuses to replace a view whose
    existing columns change (an upgrade that reorders or retypes them); then ours are dropped and
    created anew, unless an object of the user's depends on them: that step fails with one line
    naming those objects, and the data load stays."""
    destination = pipeline.destination.destination_name
    with pipeline.sql_client() as sql:
        try:
            with sql.begin_transaction():
                _write_settings(sql, health, org_id)
                statements = _view_statements(sql, pipeline.working_dir)
                # the views stay when they are what these statements made (view_record.py)
                wanted = view_record.statements_digest(sql.dataset_name, statements)
                held = view_record.catalog_digest(sql, ALL_VIEWS, destination)
                if not view_record.is_current(pipeline.working_dir, wanted, held):
                    view_record.forget(pipeline.working_dir)
                    for statement in statements:
                        sql.execute_sql(statement)
                    made = view_record.catalog_digest(sql, ALL_VIEWS, destination)
                    view_record.remember(pipeline.working_dir, wanted, made)
        except Exception as exc:
            if pipeline.destination.destination_name != "postgres" or not _column_change(exc):
                raise
            blockers = _foreign_dependents(sql)
            if blockers:
                raise CJAError(
                    f"cannot update the views in place: their columns changed in this release, and "
                    f"{', '.join(blockers[:5])}{' and more' if len(blockers) > 5 else ''} depend on them; "
                    "drop those objects (or recreate them after the sync), then run again; the data "
                    "of this sync is loaded"
                ) from None
            q = sql.make_qualified_table_name
            view_record.forget(pipeline.working_dir)
            with sql.begin_transaction():
                _write_settings(sql, health, org_id)
                for view in reversed(ALL_VIEWS):
                    sql.execute_sql(f"DROP VIEW IF EXISTS {q(view)}")
                for statement in _view_statements(sql, pipeline.working_dir):
                    sql.execute_sql(statement)
    return list(VIEWS)


def _view_statements(sql: Any, cache_dir: str | None = None) -> list[str]:
    """The CREATE OR REPLACE statements of every view. Translating them with sqlglot was ~0.3 s of
    an idle sync of ~1.4 s; what it depends on (the SQL, the dialect, the dataset, which needed
    columns exist, sqlglot's version) rarely changes, so the result is kept in memory and in the
    pipeline's working directory, keyed by a digest of all of that."""
    dialect, columns, q = _dialect(sql), existing_columns(sql), sql.make_qualified_table_name
    present = {t: sorted(columns.get(t, set()) & set(needed)) for t, needed in NEEDED.items()}
    texts = {v: sql_text(v) for v in ALL_VIEWS}
    key = hashlib.sha256(
        json.dumps([version("sqlglot"), dialect, q("x"), present, texts], sort_keys=True).encode()
    ).hexdigest()
    if key in _TRANSLATED:
        return _TRANSLATED[key]
    path = Path(cache_dir) / VIEWS_CACHE if cache_dir else None
    statements: list[str] | None = None
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        if path is not None and path.is_file():
            stored = json.loads(path.read_text(encoding="utf-8"))
            statements = list(stored["statements"]) if stored["key"] == key else None
    if statements is None:
        statements = [
            f"CREATE OR REPLACE VIEW {q(v)} AS {_translate(texts[v], dialect, q, columns)}" for v in ALL_VIEWS
        ]
        if path is not None:
            with contextlib.suppress(OSError):
                tmp = path.with_name(f"{path.name}.{os.getpid()}")
                tmp.write_text(json.dumps({"key": key, "statements": statements}), encoding="utf-8")
                os.replace(tmp, path)
    _TRANSLATED[key] = statements
    return statements


def _write_settings(sql: Any, health: HealthConfiguration, org_id: str | None) -> None:
    """health_settings kept in place: created when missing, missing columns added (a warehouse of
    0.2.0 had one row without org_id: it becomes every synced org's row), then the org's row replaced."""
    q = sql.make_qualified_table_name
    table = q(SETTINGS_TABLE)
    columns = existing_columns(sql)
    present = columns.get(SETTINGS_TABLE)
    if present is None:  # made whole from the file
        sql.execute_sql(_translate(sql_text(SETTINGS_TABLE), _dialect(sql), q, {}))
    else:  # kept in place; columns a later release added are added
        ddl = sqlglot.parse_one(sql_text(SETTINGS_TABLE), read=SOURCE_DIALECT)
        for column in ddl.find_all(exp.ColumnDef):
            if column.name not in present:
                kind = column.args["kind"].sql(dialect=_dialect(sql))
                sql.execute_sql(f"ALTER TABLE {table} ADD COLUMN {column.name} {kind}")
    runs = q("sync_runs") if "sync_runs" in columns else None
    if runs:
        # one row per org from here on; the legacy row's values carry over to the orgs it served
        sql.execute_sql(
            f"INSERT INTO {table} (stuck_after_hours, stale_after_hours, volume_drop_pct, "
            "volume_baseline_days, volume_min_points, updated_at, org_id) "
            "SELECT s.stuck_after_hours, s.stale_after_hours, s.volume_drop_pct, s.volume_baseline_days, "
            f"s.volume_min_points, s.updated_at, r.org_id FROM {table} AS s "
            f"CROSS JOIN (SELECT DISTINCT org_id FROM {runs} WHERE org_id IS NOT NULL) AS r "
            f"WHERE s.org_id IS NULL AND s.volume_min_points IS NOT NULL AND r.org_id NOT IN "
            f"(SELECT o.org_id FROM {table} AS o WHERE o.org_id IS NOT NULL)"
        )
    sql.execute_sql(f"DELETE FROM {table} WHERE org_id IS NULL")
    if org_id is not None:
        orgs = [org_id]
    elif runs:
        orgs = [str(r[0]) for r in sql.execute_sql(f"SELECT DISTINCT org_id FROM {runs}") or () if r[0]]
    else:
        orgs = []
    for org in orgs:
        sql.execute_sql(f"DELETE FROM {table} WHERE org_id = %s", org)
        sql.execute_sql(
            f"INSERT INTO {table} (stuck_after_hours, stale_after_hours, volume_drop_pct, "
            "volume_baseline_days, volume_min_points, updated_at, org_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            *thresholds(health)[:4],
            int(health.volume_min_points),
            datetime.now(UTC),
            org,
        )


def _column_change(exc: BaseException) -> bool:
    """Postgres' refusal to replace a view whose existing columns changed."""
    text = str(exc)
    return "cannot change" in text and "view column" in text or "cannot drop columns from view" in text


def _foreign_dependents(sql: Any) -> list[str]:
    """Objects outside our views that depend on one of them (a user's view, a dbt model)."""
    ours = {SETTINGS_TABLE, *ALL_VIEWS}
    rows = sql.execute_sql(
        "SELECT DISTINCT dn.nspname, dc.relname FROM pg_depend AS d "
        "JOIN pg_rewrite AS rw ON rw.oid = d.objid "
        "JOIN pg_class AS dc ON dc.oid = rw.ev_class "
        "JOIN pg_namespace AS dn ON dn.oid = dc.relnamespace "
        "JOIN pg_class AS sc ON sc.oid = d.refobjid "
        "JOIN pg_namespace AS sn ON sn.oid = sc.relnamespace "
        "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND sn.nspname = %s AND dc.oid <> sc.oid AND sc.relname = ANY(%s)",
        sql.dataset_name,
        sorted(ours),
    )
    return sorted(
        f"{schema}.{name}" for schema, name in rows or () if not (schema == sql.dataset_name and name in ours)
    )


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


def stored_thresholds(pipeline: dlt.Pipeline) -> dict[str, tuple[float, ...]] | None:
    """{org_id: thresholds} as the syncs wrote them; None for a table that is missing or older than
    the per-org rows."""
    try:
        with pipeline.sql_client() as sql:
            rows = sql.execute_sql(
                "SELECT org_id, stuck_after_hours, stale_after_hours, volume_drop_pct, volume_baseline_days, "
                f"volume_min_points FROM {sql.make_qualified_table_name(SETTINGS_TABLE)}"
            )
    except Exception:  # noqa: BLE001 - absent table, or one from before org_id
        return None
    return {str(r[0]): tuple(float(v) for v in r[1:]) for r in rows or () if r[0] is not None}


def _dialect(sql: Any) -> str:
    return getattr(sql.capabilities, "sqlglot_dialect", None) or SOURCE_DIALECT


def existing_columns(sql: Any) -> dict[str, set[str]]:
    """{table: columns} of the dataset, lower-cased, from information_schema."""
    rows = sql.execute_sql(
        "SELECT table_name, column_name FROM information_schema.columns WHERE lower(table_schema) = %s",
        sql.dataset_name.lower(),
    )
    out: dict[str, set[str]] = {}
    for table, column in rows or ():
        out.setdefault(str(table).lower(), set()).add(str(column).lower())
    return out


def _translate(
    text: str, dialect: str, qualify: Any, columns: dict[str, set[str]], local: bool = False
) -> str:
    """Parse the shared SQL, point its table names at the dataset and write it in `dialect`;
    `local` leaves our views and health_settings unqualified (CTEs of `with_views`)."""
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
        if local and name in ours:
            return node
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
