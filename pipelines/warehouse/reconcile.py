"""What a run reads from and fixes up in the warehouse around dlt's load."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import dlt

from cja_source.configuration import CJASourceConfiguration
from cja_source.snapshot import existing_tables, table_columns

logger = logging.getLogger("cja_sync")


def reconcile(pipeline: dlt.Pipeline, cfg: CJASourceConfiguration, seen_at: datetime) -> dict[str, int]:
    """After a successful load: mark what the listing no longer returns as deleted in source (only
    inside the listing's filters) and drop validation errors and containers that went away from
    listed connections. Every listed row carries `last_seen_at = seen_at`."""
    scope, scope_args = _listing_scope(pipeline, cfg)
    c_scope, _ = _listing_scope(pipeline, cfg, alias="c.")
    changes: dict[str, int] = {}
    with pipeline.sql_client() as sql:
        q = sql.make_qualified_table_name
        conns, dsets = q("connections"), q("datasets")
        present = existing_tables(sql)
        if "connections" not in present:  # nothing stored yet (an accepted empty first listing)
            return changes

        def run(name: str, statement: str, *args: Any) -> None:
            # RETURNING gives the affected rows on DuckDB and Postgres alike (no portable rowcount)
            result = sql.execute_sql(f"{statement} RETURNING 1", *args)
            changes[name] = changes.get(name, 0) + len(result or ())

        run(
            "connections_deleted",
            f"UPDATE {conns} SET deleted_in_source_at = %s "
            f"WHERE last_seen_at < %s AND deleted_in_source_at IS NULL{scope}",
            seen_at,
            seen_at,
            *scope_args,
        )
        if "datasets" in present:
            # hidden datasets are not listed without include_hidden_datasets: only a connection's
            # own deletion then says anything about its datasets
            listed = "" if cfg.include_hidden_datasets else " AND c.deleted_in_source_at IS NOT NULL"
            run(
                "datasets_deleted",
                f"UPDATE {dsets} SET deleted_in_source_at = %s "
                f"WHERE last_seen_at < %s AND deleted_in_source_at IS NULL AND connection_id IN "
                f"(SELECT c.id FROM {conns} c WHERE 1 = 1{c_scope}{listed})",
                seen_at,
                seen_at,
                *scope_args,
            )
        for table in ("connection_validation_errors", "configured_containers", "dataset_container_fields"):
            if table in present:
                run(
                    f"{table}_removed",
                    f"DELETE FROM {q(table)} WHERE last_seen_at < %s AND connection_id IN "
                    f"(SELECT id FROM {conns} WHERE last_seen_at >= %s AND org_id = %s)",
                    seen_at,
                    seen_at,
                    str(cfg.credentials.org_id),
                )
    changes.update(reconcile_data_views(pipeline, cfg, seen_at))
    return changes


def reconcile_data_views(
    pipeline: dlt.Pipeline, cfg: CJASourceConfiguration, seen_at: datetime
) -> dict[str, int]:
    """After a successful load: data views the listing no longer returned are marked deleted (the
    listing is the org's whole, deleted ones included, so only the org filters it); components
    gone from a data view whose components were read again in this run are marked deleted, and
    their dataset links removed; the components of a deleted data view are marked, never lost."""
    changes: dict[str, int] = {}
    if not cfg.data_views:
        return changes
    org = str(cfg.credentials.org_id)
    with pipeline.sql_client() as sql:
        q = sql.make_qualified_table_name
        present = existing_tables(sql)
        if "data_views" not in present:
            return changes
        views = q("data_views")

        def run(name: str, statement: str, *args: Any) -> None:
            result = sql.execute_sql(f"{statement} RETURNING 1", *args)
            changes[name] = len(result or ())

        run(
            "data_views_deleted",
            f"UPDATE {views} SET deleted_in_source_at = %s "
            "WHERE org_id = %s AND last_seen_at < %s AND deleted_in_source_at IS NULL",
            seen_at,
            org,
            seen_at,
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
