"""When each alert condition opened and closed, kept in `health_alerts`: one row per spell of a
condition on a subject, opened by the successful sync that first saw it and closed by the first
that no longer did. `health --new` (what did not hold at the previous successful sync) is what the
latest sync opened; `cja-sync alert` reads what opened and closed since the sync it last told a sink
about. A sync that changes nothing writes one row (the org's `_recorded` marker): the table used to
hold every condition of the latest two syncs, rewritten at each (68k rows per idle sync of the
maximal org on Postgres, plus as many deleted).

Also the retention of what the syncs observe over time (`[sources.cja.health] history_days`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dlt

from cja_source.configuration import HealthConfiguration
from cja_source.observations import CHANGES_TABLE, VOLUME_TABLE
from cja_source.snapshot import existing_tables

TABLE = "health_alerts"
# one row per org, opened_run_id = the latest sync whose conditions were recorded: a run with no
# condition at all still shows it was recorded, and `--new` trusts only a recorded latest sync
MARKER = "_recorded"
CREATE = (
    "CREATE TABLE IF NOT EXISTS {t} (org_id TEXT NOT NULL, condition TEXT NOT NULL, "
    "subject TEXT NOT NULL, connection_id TEXT, connection_name TEXT, data_set_id TEXT, "
    "data_set_name TEXT, detail TEXT, opened_run_id TEXT NOT NULL, opened_at TIMESTAMPTZ NOT NULL, "
    "closed_run_id TEXT, closed_at TIMESTAMPTZ)"
)
# what `cja-sync alert` told each sink (pipelines/alerts/deliveries.py); made with health_alerts, so
# that every table exists after the first successful sync
DELIVERIES = "alert_deliveries"
DELIVERIES_CREATE = (
    "CREATE TABLE IF NOT EXISTS {t} (org_id TEXT NOT NULL, sink TEXT NOT NULL, through_run_id TEXT, "
    "through_at TIMESTAMPTZ, delivered_at TIMESTAMPTZ, reminded_at TIMESTAMPTZ, "
    "sync_stale_since TIMESTAMPTZ, failing_since TIMESTAMPTZ, failures BIGINT NOT NULL, "
    "last_failure TEXT)"
)
ITEM_COLUMNS = ("subject", "connection_id", "connection_name", "data_set_id", "data_set_name", "detail")
# the conditions holding now, written by each recording and dropped after it (never in the dataset)
NOW = "cja_sync_conditions_now"
_PAIR = "connection_id || '/' || data_set_id, connection_id, connection_name, data_set_id, data_set_name"
# condition -> SELECT org_id, *ITEM_COLUMNS; all read the views, so `health` and `--new` agree
SUBJECTS = {
    "failed": f"SELECT org_id, {_PAIR}, NULL FROM {{backfill_health}} WHERE health_status = 'FAILED'",
    "stuck": f"SELECT DISTINCT org_id, {_PAIR}, NULL FROM {{stuck_backfills}}",
    "stale": f"SELECT org_id, {_PAIR}, NULL FROM {{stale_datasets}}",
    "validation": "SELECT c.org_id, e.connection_id || '/' || e.error_key, e.connection_id, c.name, "
    "e.data_set_id, e.data_set_name, e.error_code "
    "FROM {connection_validation_errors} AS e JOIN {connections} AS c ON c.id = e.connection_id "
    "WHERE c.deleted_in_source_at IS NULL",
    "drop": "SELECT org_id, connection_id, connection_id, connection_name, NULL, NULL, NULL "
    "FROM {ingestion_drops}",
}
CONDITIONS = tuple(SUBJECTS)


def record_alerts(pipeline: dlt.Pipeline, run: dict[str, Any]) -> int:
    """Open the conditions that hold after the run `run` (a sync_runs row) and were not open, close
    those open that no longer hold. Repeating it for the same run (a publish repeated after a
    crash) changes nothing. Returns how many conditions hold."""
    org = run["org_id"]
    with pipeline.sql_client() as sql:
        q = sql.make_qualified_table_name
        present = existing_tables(sql)
        t = q(TABLE)
        names = {n: q(n) for n in ("backfill_health", "stuck_backfills", "stale_datasets", "ingestion_drops")}
        names.update(
            connection_validation_errors=q("connection_validation_errors"), connections=q("connections")
        )
        with sql.begin_transaction():
            ensure_table(sql)
            sql.execute_sql(DELIVERIES_CREATE.format(t=q(DELIVERIES)))
            sql.execute_sql(f"DROP TABLE IF EXISTS {NOW}")
            sql.execute_sql(
                f"CREATE TEMPORARY TABLE {NOW} (condition TEXT, "
                + ", ".join(f"{c} TEXT" for c in ITEM_COLUMNS)
                + ")"
            )
            columns = ", ".join(ITEM_COLUMNS)
            for condition, select in SUBJECTS.items():
                if condition == "validation" and "connection_validation_errors" not in present:
                    continue
                sql.execute_sql(
                    f"INSERT INTO {NOW} SELECT DISTINCT %s, {', '.join(f's.{c}' for c in ITEM_COLUMNS)} "
                    f"FROM ({select.format(**names)}) AS s(org_id, {columns}) WHERE s.org_id = %s",
                    condition,
                    org,
                )
            # a subject the views name twice (two names for one id) opens once
            sql.execute_sql(
                f"INSERT INTO {t} (org_id, condition, {columns}, opened_run_id, opened_at) "
                f"SELECT %s, n.condition, n.subject, MIN(n.connection_id), MIN(n.connection_name), "
                f"MIN(n.data_set_id), MIN(n.data_set_name), MIN(n.detail), %s, %s FROM {NOW} AS n "
                f"WHERE NOT EXISTS (SELECT 1 FROM {t} AS a WHERE a.org_id = %s AND a.closed_run_id IS NULL "
                "AND a.condition = n.condition AND a.subject = n.subject) GROUP BY n.condition, n.subject",
                org,
                run["run_id"],
                run["started_at"],
                org,
            )
            sql.execute_sql(
                f"UPDATE {t} SET closed_run_id = %s, closed_at = %s WHERE org_id = %s "
                f"AND closed_run_id IS NULL AND condition <> %s AND NOT EXISTS (SELECT 1 FROM {NOW} AS n "
                f"WHERE n.condition = {t}.condition AND n.subject = {t}.subject)",
                run["run_id"],
                run["started_at"],
                org,
                MARKER,
            )
            sql.execute_sql(f"DROP TABLE {NOW}")
            marked = sql.execute_sql(
                f"SELECT opened_run_id FROM {t} WHERE org_id = %s AND condition = %s", org, MARKER
            )
            if not marked:
                sql.execute_sql(
                    f"INSERT INTO {t} (org_id, condition, subject, opened_run_id, opened_at) "
                    "VALUES (%s, %s, '', %s, %s)",
                    org,
                    MARKER,
                    run["run_id"],
                    run["started_at"],
                )
            elif marked[0][0] != run["run_id"]:
                sql.execute_sql(
                    f"UPDATE {t} SET opened_run_id = %s, opened_at = %s WHERE org_id = %s AND condition = %s",
                    run["run_id"],
                    run["started_at"],
                    org,
                    MARKER,
                )
            rows = sql.execute_sql(
                f"SELECT COUNT(*) FROM {t} WHERE org_id = %s AND closed_run_id IS NULL AND condition <> %s",
                org,
                MARKER,
            )
    return int(rows[0][0]) if rows else 0


def ensure_table(sql: Any) -> None:
    """The table in its current shape. One of 0.2.0 and 0.3.0 (every condition of each of the
    latest two syncs, by run_id) becomes spells: what the latest recorded sync held, opened at the
    one before when it held then too, so `--new` answers the same across the upgrade."""
    t = sql.make_qualified_table_name(TABLE)
    if "run_id" not in _columns(sql):
        sql.execute_sql(CREATE.format(t=t))
        return
    old = sql.make_qualified_table_name(f"{TABLE}_0_3")
    sql.execute_sql(f"ALTER TABLE {t} RENAME TO {TABLE}_0_3")
    sql.execute_sql(CREATE.format(t=t))
    ranked = (
        f"(SELECT o.org_id, o.condition, o.subject, o.run_id, o.observed_at, r.n FROM {old} AS o JOIN "
        f"(SELECT org_id, run_id, ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY MAX(observed_at) DESC, "
        f"run_id DESC) AS n FROM {old} GROUP BY org_id, run_id) AS r "
        "ON r.org_id = o.org_id AND r.run_id = o.run_id)"
    )
    kept = f"CASE WHEN p.run_id IS NULL OR c.condition = '{MARKER}' THEN c.{{0}} ELSE p.{{0}} END"
    sql.execute_sql(
        f"INSERT INTO {t} (org_id, condition, subject, opened_run_id, opened_at) "
        f"SELECT c.org_id, c.condition, c.subject, {kept.format('run_id')}, {kept.format('observed_at')} "
        f"FROM {ranked} AS c LEFT JOIN {ranked} AS p ON p.n = 2 AND p.org_id = c.org_id "
        "AND p.condition = c.condition AND p.subject = c.subject WHERE c.n = 1"
    )
    sql.execute_sql(f"DROP TABLE {old}")


def latest_recorded(sql: Any, org_id: str) -> tuple[str, Any] | None:
    """(run_id, started_at) of the latest sync whose conditions were recorded for `org_id`."""
    rows = sql.execute_sql(
        f"SELECT opened_run_id, opened_at FROM {sql.make_qualified_table_name(TABLE)} "
        "WHERE org_id = %s AND condition = %s",
        org_id,
        MARKER,
    )
    return (str(rows[0][0]), rows[0][1]) if rows else None


def spells(sql: Any, org_id: str, since: Any = None, changed_only: bool = False) -> list[dict[str, Any]]:
    """The org's open spells and, with `since` (a recorded sync's started_at), those that closed
    after it; with `changed_only`, of the open ones only those opened after `since` (an hourly
    alert of a large org then reads what changed, not every condition that holds). Each as a dict
    of the table's columns."""
    t = sql.make_qualified_table_name(TABLE)
    select = (
        f"SELECT condition, {', '.join(ITEM_COLUMNS)}, opened_run_id, opened_at, closed_run_id, "
        f"closed_at FROM {t} WHERE org_id = %s AND condition <> %s AND "
    )
    if since is None:
        rows = sql.execute_sql(select + "closed_run_id IS NULL", org_id, MARKER)
    elif changed_only:
        changed = "((closed_run_id IS NULL AND opened_at > %s) OR closed_at > %s)"
        rows = sql.execute_sql(select + changed, org_id, MARKER, since, since)
    else:
        rows = sql.execute_sql(select + "(closed_run_id IS NULL OR closed_at > %s)", org_id, MARKER, since)
    names = ("condition", *ITEM_COLUMNS, "opened_run_id", "opened_at", "closed_run_id", "closed_at")
    return [dict(zip(names, r, strict=True)) for r in rows or ()]


def open_counts(sql: Any, org_id: str) -> dict[str, int]:
    """{condition: spells open} of the org."""
    rows = sql.execute_sql(
        f"SELECT condition, COUNT(*) FROM {sql.make_qualified_table_name(TABLE)} WHERE org_id = %s "
        "AND closed_run_id IS NULL AND condition <> %s GROUP BY condition",
        org_id,
        MARKER,
    )
    return {str(c): int(n) for c, n in rows or ()}


def new_conditions(pipeline: dlt.Pipeline, org_id: str | None = None) -> dict[str, list[str]]:
    """{condition: subjects} that hold at each org's latest successful sync (or `org_id`'s alone)
    and did not hold at the one before: the spells that sync opened. With no recorded previous sync
    (the first, or one from before this table) every condition is new: nothing says it was already
    known. A latest sync whose conditions were not recorded has nothing new."""
    out: dict[str, list[str]] = {c: [] for c in SUBJECTS}
    with pipeline.sql_client() as sql:
        if TABLE not in existing_tables(sql):
            return out
        q = sql.make_qualified_table_name
        latest: dict[str, list[str]] = {}
        for org, run_id in (
            sql.execute_sql(
                f"SELECT org_id, run_id FROM {q('sync_runs')} WHERE status = 'succeeded' "
                "AND finished_at IS NOT NULL ORDER BY org_id, started_at DESC"
            )
            or ()
        ):
            if org_id is None or org == org_id:
                latest.setdefault(org, []).append(run_id)
        legacy = "run_id" in _columns(sql)  # a reader before the first sync of this release
        found: set[tuple[str, str]] = set()
        for org, runs in latest.items():
            found |= _legacy_new(sql, runs[:2]) if legacy else _opened_by(sql, org, runs[0])
        for condition, subject in sorted(found):
            if condition in out:
                out[condition].append(subject)
    return out


def _opened_by(sql: Any, org: str, run_id: str) -> set[tuple[str, str]]:
    recorded = latest_recorded(sql, org)
    if recorded is None or recorded[0] != run_id:
        return set()
    rows = sql.execute_sql(
        f"SELECT condition, subject FROM {sql.make_qualified_table_name(TABLE)} WHERE org_id = %s "
        "AND opened_run_id = %s AND closed_run_id IS NULL AND condition <> %s",
        org,
        run_id,
        MARKER,
    )
    return {(str(c), str(s)) for c, s in rows or ()}


def _legacy_new(sql: Any, runs: list[str]) -> set[tuple[str, str]]:
    """The table of 0.2.0/0.3.0, not yet migrated: the set difference of the latest two runs."""

    def of(run_id: str) -> set[tuple[str, str]]:
        rows = sql.execute_sql(
            f"SELECT condition, subject FROM {sql.make_qualified_table_name(TABLE)} WHERE run_id = %s",
            run_id,
        )
        return {(str(c), str(s)) for c, s in rows or () if c != MARKER}

    return of(runs[0]) - (of(runs[1]) if len(runs) > 1 else set())


def _columns(sql: Any) -> set[str]:
    rows = sql.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE lower(table_schema) = %s "
        "AND lower(table_name) = %s",
        sql.dataset_name.lower(),
        TABLE,
    )
    return {str(c).lower() for (c,) in rows or ()}


def prune_history(pipeline: dlt.Pipeline, health: HealthConfiguration, now: datetime) -> int:
    """Delete observations, and condition spells that closed, older than history_days; returns the
    rows removed."""
    cutoff = now - timedelta(days=float(health.history_days))
    removed = 0
    with pipeline.sql_client() as sql:
        present = existing_tables(sql)
        dated = ((VOLUME_TABLE, "observed_at"), (CHANGES_TABLE, "observed_at"), (TABLE, "closed_at"))
        for table, column in dated:
            if table in present:
                rows = sql.execute_sql(
                    f"DELETE FROM {sql.make_qualified_table_name(table)} WHERE {column} < %s RETURNING 1",
                    cutoff,
                )
                removed += len(rows or ())
    return removed
