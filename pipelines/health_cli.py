"""`cja-sync health`: the health views as a table worst first, or JSON; `--fail-on` for cron alerting."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt

from cja_source.config import HealthSettings
from cja_source.errors import ConfigurationError

from .cli import EXIT_FAILED, EXIT_HEALTH, EXIT_OK, EXIT_USAGE, options_from_args
from .locks import lock_conflict_error, waited_in_vain
from .views import create_views, stored_thresholds, views_exist

CONDITIONS = ("failed", "stuck", "stale", "validation")
# problem rows, worst first: a stale dataset ranks between FAILED and IN_PROGRESS
RANK = {"STUCK": 6, "FAILED": 5, "STALE": 4, "IN_PROGRESS": 2}
ROW_COLUMNS = (
    "connection_id",
    "connection_name",
    "data_set_id",
    "data_set_name",
    "health_status",
    "is_stale",
    "completed_count",
    "failed_count",
    "in_progress_count",
    "in_queue_count",
    "stuck_count",
    "oldest_open_age_hours",
    "last_failed_at",
    "last_ingested_time",
)


class NoSync(Exception):
    pass


def run_health(args: argparse.Namespace) -> int:
    fail_on = [c.strip() for c in (args.fail_on or "").split(",") if c.strip()]
    unknown = [c for c in fail_on if c not in CONDITIONS]
    if unknown:
        print(
            f"cja-sync: unknown --fail-on condition {unknown[0]!r}; use {','.join(CONDITIONS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    report = _load(args, pipeline_name="cja")
    if report is None:
        return EXIT_FAILED
    met = [c for c in fail_on if report["conditions"][c]]
    if args.json:
        print(
            json.dumps({**report, "fail_on": fail_on, "failing": met}, default=_json_default, sort_keys=True)
        )
    else:
        print_report(report)
        if met:
            print(f"health conditions met: {', '.join(met)}")
    return EXIT_HEALTH if met else EXIT_OK


def print_health_for_demo(args: argparse.Namespace) -> None:
    """The short version the demo ends with: org summary and the worst ten datasets."""
    report = _load(args, pipeline_name="cja_demo")
    if report is not None:
        print()
        print_report(report, limit=10, more=f"cja-sync health --duckdb-path {args.duckdb_path}")


def _load(args: argparse.Namespace, pipeline_name: str) -> dict[str, Any] | None:
    from .sync import make_pipeline

    opts = options_from_args(args, pipeline_name=pipeline_name)
    where = (
        str(Path(opts.duckdb_path).resolve())
        if opts.destination == "duckdb"
        else f"{opts.destination} dataset {opts.dataset_name}"
    )
    # connecting to a DuckDB path that does not exist would create an empty file there
    if opts.destination == "duckdb" and not Path(opts.duckdb_path).exists():
        return print_no_sync(where)
    # read-only: a sync can wait for readers; it cannot share the file with another writer
    pipeline = make_pipeline(opts, read_only=True)
    if not has_successful_sync(pipeline):
        return print_no_sync(where)
    health = health_settings()
    wanted = (float(health.stuck_after_hours), float(health.stale_after_hours))
    if not views_exist(pipeline) or stored_thresholds(pipeline) != wanted:
        create_views(make_pipeline(opts), health)
    return read_report(pipeline)


def health_settings() -> HealthSettings:
    """`[sources.cja.health]` alone: load_settings(need_credentials=False) still insists on a valid
    org_id, which a machine that only reads the warehouse need not have."""
    from dlt.common.configuration import resolve_configuration

    try:
        health = resolve_configuration(HealthSettings(), sections=("sources", "cja", "health"))
    except Exception as exc:  # noqa: BLE001 - dlt raises several types for a bad value
        raise ConfigurationError(f"invalid setting in [sources.cja.health]: {exc}") from None
    if float(health.stuck_after_hours) <= 0 or float(health.stale_after_hours) <= 0:
        raise ConfigurationError("sources.cja.health thresholds must be positive")
    return health


def print_no_sync(where: str) -> None:
    print(f"cja-sync: no successful sync in {where}; run cja-sync run first", file=sys.stderr)
    return None


def has_successful_sync(pipeline: dlt.Pipeline) -> bool:
    try:
        with pipeline.sql_client() as sql:
            rows = sql.execute_sql(
                f"SELECT COUNT(*) FROM {sql.make_qualified_table_name('sync_runs')} "
                "WHERE status = 'succeeded' AND finished_at IS NOT NULL"
            )
    except Exception as exc:  # noqa: BLE001 - missing dataset or table: nothing synced there
        if waited_in_vain(exc):  # a sync holds the DuckDB file: say so, not "no sync"
            raise lock_conflict_error(read_only=True) from None
        return False
    return bool(rows and rows[0][0])


def read_report(pipeline: dlt.Pipeline) -> dict[str, Any]:
    """Everything `health` prints, from the views only."""
    with pipeline.sql_client() as sql:
        q = sql.make_qualified_table_name

        def rows(query: str) -> list[dict[str, Any]]:
            with sql.execute_query(query) as cur:
                names = [d[0] for d in cur.description]
                return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        orgs = rows(f"SELECT * FROM {q('org_health_summary')} ORDER BY org_id")
        problems = rows(
            f"SELECT org_id, {', '.join(ROW_COLUMNS)} FROM {q('backfill_health')} "
            "WHERE health_status IN ('STUCK', 'FAILED', 'IN_PROGRESS') OR is_stale"
        )
        validation = rows(
            "SELECT org_id, connection_id, connection_name, validation_errors "
            f"FROM {q('connection_health')} WHERE validation_errors > 0 ORDER BY connection_name"
        )
    problems.sort(key=_worst_first)
    return {
        "orgs": orgs,
        "datasets": problems,
        "validation": validation,
        "conditions": {
            "failed": any(o["datasets_failed"] for o in orgs),
            "stuck": any(o["backfills_stuck"] for o in orgs),
            "stale": any(o["datasets_stale"] for o in orgs),
            "validation": any(o["validation_errors"] for o in orgs),
        },
    }


def _rank(row: dict[str, Any]) -> int:
    status = row["health_status"]
    if status in ("STUCK", "FAILED"):
        return RANK[status]
    return RANK["STALE"] if row["is_stale"] else RANK.get(status, 0)


def _worst_first(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        -_rank(row),
        -(row["oldest_open_age_hours"] or 0),
        row["connection_name"] or "",
        row["data_set_name"] or "",
    )


def print_report(report: dict[str, Any], limit: int | None = None, more: str = "cja-sync health") -> None:
    for org in report["orgs"]:
        print(
            f"Health of {org['org_id']} as of {_ts(org['as_of'])} "
            f"(stuck after {org['stuck_after_hours']:g} h, stale after {org['stale_after_hours']:g} h)"
        )
        print(
            f"  connections {org['connections']}: {org['connections_unhealthy']} need attention, "
            f"{org['connections_with_validation_errors']} with validation errors "
            f"({org['validation_errors']} errors)"
        )
        print(
            f"  datasets {org['datasets']}: stuck {org['datasets_stuck']}, failed {org['datasets_failed']}, "
            f"in progress {org['datasets_in_progress']}, healthy {org['datasets_healthy']}, "
            f"no backfills {org['datasets_no_backfills']}; stale {org['datasets_stale']} "
            f"of {org['streaming_datasets']} streaming"
        )
        print(
            f"  backfills {org['backfills_total']}: completed {org['backfills_completed']}, "
            f"failed {org['backfills_failed']}, in progress {org['backfills_in_progress']}, "
            f"queued {org['backfills_in_queue']}, stuck {org['backfills_stuck']}"
        )
    rows = report["datasets"]
    shown = rows if limit is None else rows[:limit]
    if not shown:
        print("no stuck, failed, stale or running backfills")
    else:
        _print_table(shown)
        if len(shown) < len(rows):
            print(f"... and {len(rows) - len(shown)} more: run {more}")
    if report["validation"] and limit is None:
        print("connections with validation errors:")
        for v in report["validation"]:
            print(f"  {v['connection_name'] or ''} ({v['connection_id']}): {v['validation_errors']}")


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = ("STATUS", "STALE", "CONNECTION", "DATASET", "C/F/P/Q", "OLDEST OPEN", "LAST FAILED")
    body = [
        (
            r["health_status"],
            "stale" if r["is_stale"] else "",
            _cut(r["connection_name"] or r["connection_id"], 30),
            _cut(r["data_set_name"] or r["data_set_id"], 30),
            f"{r['completed_count']}/{r['failed_count']}/{r['in_progress_count']}/{r['in_queue_count']}",
            "" if r["oldest_open_age_hours"] is None else f"{r['oldest_open_age_hours']:.0f} h",
            _ts(r["last_failed_at"]),
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in (header, *body)) for i in range(len(header))]
    for line in (header, *body):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _ts(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else ""


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)
