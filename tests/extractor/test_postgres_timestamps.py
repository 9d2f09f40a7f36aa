"""Postgres gets the Arrow tables' timestamps as UTC text (pipelines/run/csv_timestamps.py): the stored
instants must be DuckDB's, typed timestamptz, whatever time zone the Postgres session has."""

from __future__ import annotations

from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query

STAMPED = {
    "backfills": ("id", "created_date", "start_date", "end_date"),
    "datasets": ("connection_id, data_set_id", "last_ingested_time", "streaming_enabled_at"),
}
RUN_STAMPED = {
    "backfills": ("first_seen_at", "last_seen_at"),
    "datasets": ("first_seen_at", "last_seen_at"),
    "backfill_status_changes": ("observed_at",),
}


def test_postgres_timestamps_equal_duckdb_whatever_the_session_time_zone(
    make_sim, duckdb_opts, pg_opts, monkeypatch
):
    monkeypatch.setenv("PGTZ", "Asia/Kolkata")  # libpq: the session's TimeZone, +05:30
    sim = make_sim(seed=11, connections=20)
    cfg = fast_settings(sim)
    duck, pg = duckdb_opts(), pg_opts()
    run_sync(cfg, duck)
    run_sync(cfg, pg)
    for table, (key, *stamps) in STAMPED.items():
        sql = f"SELECT {key}, {', '.join(stamps)} FROM {{t}}{table} ORDER BY {key}"
        stored = query(pg, sql)
        assert stored == query(duck, sql)
        assert any(value is not None for row in stored for value in row[-len(stamps) :])
    for opts in (duck, pg):
        started = query(opts, "SELECT started_at FROM {t}sync_runs WHERE status = 'succeeded'")
        assert len(started) == 1
        for table, stamps in RUN_STAMPED.items():
            for column in stamps:
                rows = query(opts, f"SELECT DISTINCT {column} FROM {{t}}{table}")
                assert rows == started, (table, column)
    types = query(
        pg,
        "SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = '"
        + pg.dataset_name
        + "' AND (column_name LIKE '%\\_date' OR column_name LIKE '%\\_at' OR column_name LIKE '%\\_time')"
        " AND table_name IN ('backfills', 'datasets', 'backfill_status_changes')",
    )
    assert types == [("timestamp with time zone",)]
