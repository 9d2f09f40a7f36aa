"""What a run reads from and fixes up in the warehouse around dlt's load.

A run writes only the rows whose item changed (cja_source/changes.py), so a row's `last_seen_at`
is when it was last written, not when it was last listed. Deletions come from what the listing
did not return, recorded by the source in its dlt state (cja_source/unlisted.py); what hangs off a
row (validation errors and containers of a connection, container fields of a dataset) is current
exactly when it was written together with that row, at the row's `last_seen_at`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import dlt
import pendulum

from cja_source import unlisted
from cja_source.changes import Unlisted
from cja_source.configuration import CJASourceConfiguration
from cja_source.history import TABLE as HISTORY
from cja_source.history import VALID_TO, listing_is_complete
from cja_source.snapshot import existing_tables, table_columns

logger = logging.getLogger("cja_sync")

SOURCE_NAME = "cja"
T = TypeVar("T")
# ids per statement: well under any driver's parameter limit
CHUNK = 500
# table -> (parent table, the columns that join a row to its parent)
OWNED = {
    "connection_validation_errors": ("connections", (("connection_id", "id"),)),
    "configured_containers": ("connections", (("connection_id", "id"),)),
    "dataset_container_fields": (
        "datasets",
        (("connection_id", "connection_id"), ("data_set_id", "data_set_id")),
    ),
}


def recorded_unlisted(pipeline: dlt.Pipeline, org_id: str) -> tuple[datetime, Unlisted] | None:
    """What the org's last extract did not list, and that run's start."""
    return _parsed(unlisted.recorded(pipeline.state, SOURCE_NAME, org_id))


def _parsed(found: tuple[str, T] | None) -> tuple[datetime, T] | None:
    """(ISO text, value) as the source's state keeps it -> (its time, value)."""
    at = pendulum.parse(found[0]) if found is not None else None
    return (at, found[1]) if found is not None and isinstance(at, datetime) else None


def _of_this_run(found: tuple[datetime, T] | None, seen_at: datetime, what: str) -> T | None:
    """What the source recorded, when it recorded it in the run that started at `seen_at` (a
    state left by an earlier, failed extract must not mark anything)."""
    if found is None or abs((found[0] - seen_at).total_seconds()) > 0.001:
        logger.warning("the source recorded no %s for this run: deletions are left for the next run", what)
        return None
    return found[1]


def reconcile(pipeline: dlt.Pipeline, cfg: CJASourceConfiguration, seen_at: datetime) -> dict[str, int]:
    """After a successful load of the run that started at `seen_at`: mark what the listing did not
    return as deleted in source (only inside the listing's filters), close the configuration
    versions of deleted connections (when the listing is the whole org), and drop validation
    errors, containers and container fields their parent's latest write no longer carried."""
    org_id = str(cfg.credentials.org_id)
    scope, scope_args = _listing_scope(pipeline, cfg)
    c_scope, _ = _listing_scope(pipeline, cfg, alias="c.")
    changes: dict[str, int] = {}
    found = recorded_unlisted(pipeline, org_id)
    recorded = _of_this_run(found, seen_at, "listing")
    gone = recorded if recorded is not None else Unlisted()
    with pipeline.sql_client() as sql:
        q = sql.make_qualified_table_name
        conns, dsets = q("connections"), q("datasets")
        present = existing_tables(sql)
        if "connections" not in present:  # nothing stored yet (an accepted empty first listing)
            return changes

        def run(name: str, statement: str, *args: Any) -> list[Any]:
            # RETURNING gives the affected rows on DuckDB and Postgres alike (no portable rowcount)
            result = list(sql.execute_sql(statement, *args) or ())
            changes[name] = changes.get(name, 0) + len(result)
            return result

        deleted: list[str] = []
        for chunk in _chunks(sorted(gone.connections)):
            deleted += [
                r[0]
                for r in run(
                    "connections_deleted",
                    f"UPDATE {conns} SET deleted_in_source_at = %s WHERE deleted_in_source_at IS NULL "
                    f"AND id IN ({_marks(chunk)}){scope} RETURNING id",
                    seen_at,
                    *chunk,
                    *scope_args,
                )
            ]
        changes.setdefault("connections_deleted", 0)
        if "datasets" in present:
            if cfg.include_hidden_datasets:
                # hidden datasets are not listed without include_hidden_datasets: only a
                # connection's own deletion then says anything about its datasets
                by_connection: dict[str, list[str]] = {}
                for cid, dsid in sorted(gone.pairs):
                    by_connection.setdefault(cid, []).append(dsid)
                for cid, dsids in by_connection.items():
                    for chunk in _chunks(dsids):
                        run(
                            "datasets_deleted",
                            f"UPDATE {dsets} SET deleted_in_source_at = %s WHERE deleted_in_source_at "
                            f"IS NULL AND org_id = %s AND connection_id = %s AND data_set_id IN "
                            f"({_marks(chunk)}) RETURNING 1",
                            seen_at,
                            org_id,
                            cid,
                            *chunk,
                        )
            run(
                "datasets_deleted",
                f"UPDATE {dsets} SET deleted_in_source_at = %s WHERE deleted_in_source_at IS NULL "
                f"AND connection_id IN (SELECT c.id FROM {conns} c WHERE "
                f"c.deleted_in_source_at IS NOT NULL{c_scope}) RETURNING 1",
                seen_at,
                *scope_args,
            )
        if deleted and listing_is_complete(cfg) and HISTORY in present:
            for chunk in _chunks(deleted):
                run(
                    "history_versions_closed",
                    f"UPDATE {q(HISTORY)} SET {VALID_TO} = %s WHERE {VALID_TO} IS NULL AND org_id = %s "
                    f"AND connection_id IN ({_marks(chunk)}) RETURNING 1",
                    seen_at,
                    org_id,
                    *chunk,
                )
        for table, (parent, joins) in OWNED.items():
            if table in present and parent in present:
                on = " AND ".join(f"p.{parent_col} = t.{col}" for col, parent_col in joins)
                run(
                    f"{table}_removed",
                    f"DELETE FROM {q(table)} AS t WHERE EXISTS (SELECT 1 FROM {q(parent)} AS p "
                    f"WHERE {on} AND p.org_id = %s AND p.last_seen_at > t.last_seen_at) RETURNING 1",
                    org_id,
                )
    changes.update(reconcile_data_views(pipeline, cfg, seen_at))
    return changes


def reconcile_data_views(
    pipeline: dlt.Pipeline, cfg: CJASourceConfiguration, seen_at: datetime
) -> dict[str, int]:
    """After a successful load: data views the listing no longer returned (recorded by the source,
    cja_source/unlisted.py) are marked deleted (the listing is the org's whole, deleted ones
    included, so only the org filters it); components
    gone from a data view whose components were read again in this run are marked deleted, and
    their dataset links removed; the components of a deleted data view are marked, never lost."""
    changes: dict[str, int] = {}
    if not cfg.data_views:
        return changes
    org = str(cfg.credentials.org_id)
    found = _parsed(unlisted.recorded_data_views(pipeline.state, SOURCE_NAME, org))
    gone: list[str] = _of_this_run(found, seen_at, "data view listing") or []
    with pipeline.sql_client() as sql:
        q = sql.make_qualified_table_name
        present = existing_tables(sql)
        if "data_views" not in present:
            return changes
        views = q("data_views")

        def run(name: str, statement: str, *args: Any) -> None:
            result = sql.execute_sql(f"{statement} RETURNING 1", *args)
            changes[name] = changes.get(name, 0) + len(result or ())

        for ids in _chunks(gone):
            run(
                "data_views_deleted",
                f"UPDATE {views} SET deleted_in_source_at = %s WHERE org_id = %s "
                f"AND deleted_in_source_at IS NULL AND id IN ({_marks(ids)})",
                seen_at,
                org,
                *ids,
            )
        reread = f"(SELECT id FROM {views} WHERE org_id = %s AND components_synced_at >= %s)"
        if "data_view_components" in present:
            comps = q("data_view_components")
            run(
                "data_view_components_deleted",
                f"UPDATE {comps} SET deleted_in_source_at = %s WHERE deleted_in_source_at IS NULL AND "
                f"(data_view_id IN (SELECT id FROM {views} WHERE org_id = %s "
                f"AND deleted_in_source_at IS NOT NULL) OR (last_seen_at < %s AND data_view_id IN {reread}))",
                seen_at,
                org,
                seen_at,
                org,
                seen_at,
            )
        if "data_view_component_datasets" in present:
            run(
                "data_view_component_datasets_removed",
                f"DELETE FROM {q('data_view_component_datasets')} WHERE last_seen_at < %s "
                f"AND data_view_id IN {reread}",
                seen_at,
                org,
                seen_at,
            )
    return changes


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _listing_scope(
    pipeline: dlt.Pipeline, cfg: CJASourceConfiguration, alias: str = ""
) -> tuple[str, list[Any]]:
    """SQL conditions on stored connections that select what the listing could have returned."""
    cols = table_columns(pipeline, "connections")
    # a fleet's orgs share the dataset: a connection of another org is never this listing's
    parts: list[str] = [f"{alias}org_id = %s"]
    args: list[Any] = [str(cfg.credentials.org_id)]
    if cfg.connection_ids:
        ids = [i if i.startswith("dg_") else f"dg_{i}" for i in cfg.connection_ids]
        parts.append(f"{alias}id IN ({', '.join(['%s'] * len(ids))})")
        args.extend(ids)
    if cfg.sandbox_names and "sandbox_name" in cols:
        parts.append(f"{alias}sandbox_name IN ({', '.join(['%s'] * len(cfg.sandbox_names))})")
        args.extend(cfg.sandbox_names)
    if not cfg.include_disabled and "is_disabled" in cols:
        parts.append(f"({alias}is_disabled IS NULL OR {alias}is_disabled = FALSE)")
    if not cfg.include_system_owned and "owner__type" in cols:
        parts.append(f"({alias}owner__type IS NULL OR {alias}owner__type <> 'systemUser')")
    return "".join(f" AND {p}" for p in parts), args
