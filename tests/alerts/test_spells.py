"""health_alerts of 0.2.0/0.3.0 (every condition of each of the latest two syncs) read by `--new`
before any sync migrated it, then migrated to spells: `--new` answers the same on both sides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from cja_sync.run.sync import RunOptions
from cja_sync.warehouse.health_alerts import ensure_table, new_conditions
from cja_sync.warehouse.pipeline import make_pipeline

ORG = "ORG0000000000000000000000@AdobeOrg"


def _old_warehouse(path: Path) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    t1 = t0 + timedelta(hours=1)
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE SCHEMA cja")
        db.execute(
            "CREATE TABLE cja.sync_runs (run_id TEXT, org_id TEXT, status TEXT, started_at TIMESTAMPTZ, "
            "finished_at TIMESTAMPTZ)"
        )
        db.execute(
            "INSERT INTO cja.sync_runs VALUES ('r0', ?, 'succeeded', ?, ?), ('r1', ?, 'succeeded', ?, ?)",
            [ORG, t0, t0, ORG, t1, t1],
        )
        db.execute(
            "CREATE TABLE cja.health_alerts (run_id TEXT NOT NULL, org_id TEXT NOT NULL, "
            "observed_at TIMESTAMPTZ NOT NULL, condition TEXT NOT NULL, subject TEXT NOT NULL)"
        )
        rows: list[tuple[Any, ...]] = [
            ("r0", ORG, t0, "_recorded", ""),
            ("r0", ORG, t0, "failed", "c1/d1"),
            ("r0", ORG, t0, "drop", "c9"),
            ("r1", ORG, t1, "_recorded", ""),
            ("r1", ORG, t1, "failed", "c1/d1"),
            ("r1", ORG, t1, "stale", "c2/d2"),
        ]
        db.executemany("INSERT INTO cja.health_alerts VALUES (?, ?, ?, ?, ?)", rows)


def test_new_is_the_same_before_and_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    opts = RunOptions(duckdb_path=str(path), pipelines_dir=str(tmp_path / "p"), pipeline_name="t")
    pipeline = make_pipeline(opts, in_place=True)
    expected = {"failed": [], "stuck": [], "stale": ["c2/d2"], "validation": [], "drop": []}
    assert new_conditions(pipeline) == expected  # the old table, read as it is
    with pipeline.sql_client() as sql, sql.begin_transaction():
        ensure_table(sql)
    assert new_conditions(pipeline) == expected
    with duckdb.connect(str(path), read_only=True) as db:
        spells = db.sql(
            "SELECT condition, subject, opened_run_id, closed_run_id FROM cja.health_alerts ORDER BY 1, 2"
        ).fetchall()
        tables = {t for (t,) in db.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    # c1/d1 held at both syncs: opened by the earlier one; c9's drop closed before r1 is gone
    assert spells == [
        ("_recorded", "", "r1", None),
        ("failed", "c1/d1", "r0", None),
        ("stale", "c2/d2", "r1", None),
    ]
    assert "health_alerts_0_3" not in tables
