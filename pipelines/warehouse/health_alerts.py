"""Each successful sync's set of alert conditions, kept in `health_alerts`, so that `health --new`
can say what did not hold at the previous successful sync: a set difference that stays right after
idle runs, and that an hourly cron can alert on without repeating old problems every hour.

Only the latest two successful syncs' sets are kept. Also the retention of what the syncs observe
over time (`[sources.cja.health] history_days`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dlt

from cja_source.configuration import HealthConfiguration
from cja_source.observations import CHANGES_TABLE, VOLUME_TABLE
from cja_source.snapshot import existing_tables

TABLE = "health_alerts"
# written with each run's conditions: a run with no condition at all still shows it was recorded
MARKER = "_recorded"
CREATE = (
    "CREATE TABLE IF NOT EXISTS {t} (run_id TEXT NOT NULL, org_id TEXT NOT NULL, "
    "observed_at TIMESTAMPTZ NOT NULL, condition TEXT NOT NULL, subject TEXT NOT NULL)"
)
# condition -> SELECT org_id, subject; all read the views, so `health` and `--new` agree
SUBJECTS = {
    "failed": "SELECT org_id, connection_id || '/' || data_set_id FROM {backfill_health} "
    "WHERE health_status = 'FAILED'",
    "stuck": "SELECT DISTINCT org_id, connection_id || '/' || data_set_id FROM {stuck_backfills}",
    "stale": "SELECT org_id, connection_id || '/' || data_set_id FROM {stale_datasets}",
    "validation": "SELECT c.org_id, e.connection_id || '/' || e.error_key "
    "FROM {connection_validation_errors} AS e JOIN {connections} AS c ON c.id = e.connection_id "
    "WHERE c.deleted_in_source_at IS NULL",
    "drop": "SELECT org_id, connection_id FROM {ingestion_drops}",
}


def record_alerts(pipeline: dlt.Pipeline, run: dict[str, Any]) -> int:
    """Store the conditions holding after the run `run` (a sync_runs row); replaces what an earlier
    attempt at the same run stored, so a publish repeated after a crash adds nothing. Returns how
    many conditions hold."""
    with pipeline.sql_client() as sql:
        q = sql.make_qualified_table_name
        present = existing_tables(sql)
        t = q(TABLE)
        names = {n: q(n) for n in ("backfill_health", "stuck_backfills", "stale_datasets", "ingestion_drops")}
        names.update(
            connection_validation_errors=q("connection_validation_errors"), connections=q("connections")
        )
        with sql.begin_transaction():
            sql.execute_sql(CREATE.format(t=t))
            sql.execute_sql(f"DELETE FROM {t} WHERE run_id = %s", run["run_id"])
            sql.execute_sql(
                f"INSERT INTO {t} VALUES (%s, %s, %s, %s, %s)",
                run["run_id"],
                run["org_id"],
                run["started_at"],
                MARKER,
                "",
            )
            for condition, select in SUBJECTS.items():
                if condition == "validation" and "connection_validation_errors" not in present:
                    continue
                sql.execute_sql(
                    f"INSERT INTO {t} SELECT DISTINCT %s, s.org_id, %s, %s, s.subject "
                    f"FROM ({select.format(**names)}) AS s(org_id, subject) WHERE s.org_id = %s",
                    run["run_id"],
                    run["started_at"],
                    condition,
                    run["org_id"],
                )
            # --new compares the latest two successful syncs only; older sets would cost ~1 row per
            # problem dataset per hour (1,700 for the reference org) and answer nothing
            sql.execute_sql(
                f"DELETE FROM {t} WHERE org_id = %s AND run_id NOT IN (SELECT r.run_id FROM "
                f"{q('sync_runs')} AS r WHERE r.org_id = %s AND r.status = 'succeeded' "
                "ORDER BY r.started_at DESC LIMIT 2) AND run_id <> %s",
                run["org_id"],
                run["org_id"],
                run["run_id"],
            )
            rows = sql.execute_sql(f"SELECT COUNT(*) FROM {t} WHERE run_id = %s", run["run_id"])
    return int(rows[0][0]) - 1 if rows else 0


def new_conditions(pipeline: dlt.Pipeline, org_id: str | None = None) -> dict[str, list[str]]:
    """{condition: subjects} that hold at each org's latest successful sync (or `org_id`'s alone)
    and did not hold at the one before. With no recorded previous sync (the first, or one from
    before this table) every condition is new: nothing says it was already known."""
    out: dict[str, list[str]] = {c: [] for c in SUBJECTS}
    with pipeline.sql_client() as sql:
        if TABLE not in existing_tables(sql):
            return out
        q = sql.make_qualified_table_name
        runs: dict[str, list[str]] = {}
        for org, run_id in (
            sql.execute_sql(
                f"SELECT org_id, run_id FROM {q('sync_runs')} WHERE status = 'succeeded' "
                "AND finished_at IS NOT NULL ORDER BY org_id, started_at DESC"
            )
            or ()
        ):
            if org_id is None or org == org_id:
                runs.setdefault(org, []).append(run_id)
        for ids in runs.values():
            now = _conditions(sql, q(TABLE), ids[0])
            before = _conditions(sql, q(TABLE), ids[1]) if len(ids) > 1 else set()
            for condition, subject in sorted(now - before):
                out[condition].append(subject)
    return out


def _conditions(sql: Any, table: str, run_id: str) -> set[tuple[str, str]]:
    rows = sql.execute_sql(f"SELECT condition, subject FROM {table} WHERE run_id = %s", run_id)
    return {(c, s) for c, s in rows or () if c != MARKER}


def prune_history(pipeline: dlt.Pipeline, health: HealthConfiguration, now: datetime) -> int:
    """Delete observations older than history_days; returns the rows removed."""
    cutoff = now - timedelta(days=float(health.history_days))
    removed = 0
    with pipeline.sql_client() as sql:
        present = existing_tables(sql)
        for table in (VOLUME_TABLE, CHANGES_TABLE):
            if table in present:
                rows = sql.execute_sql(
                    f"DELETE FROM {sql.make_qualified_table_name(table)} WHERE observed_at < %s RETURNING 1",
                    cutoff,
                )
                removed += len(rows or ())
    return removed
