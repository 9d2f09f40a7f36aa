"""`cja-sync demo` tells the whole story (issue 24): a week of daily syncs replayed in seconds, so the
history tables and views have data, and charts with too few points say so instead of empty axes."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from cja_sync.report.history import history_figures
from cja_sync.report.sparse import has_values, or_note

from .helpers import DemoRun, quiet_main


def _one(db: Path, sql: str) -> Any:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def test_demo_replays_a_week_into_a_new_warehouse(demo_run: DemoRun, tmp_path: Path) -> None:
    db = demo_run.file
    out = demo_run.out
    assert out.count(": succeeded in ") == 1  # one summary, the last sync's, not one per day
    assert "replayed 8 daily syncs" in out
    assert _one(db, "SELECT COUNT(DISTINCT observed_at) FROM cja.connection_volume_history") >= 7
    assert _one(db, "SELECT COUNT(*) FROM cja.ingestion_drops") >= 1
    assert _one(db, "SELECT COUNT(*) FROM cja.backfill_durations WHERE completed_hours_max IS NOT NULL") >= 1
    assert _one(db, "SELECT COUNT(*) FROM cja.backfill_status_changes WHERE from_status IS NOT NULL") >= 1
    statuses = _one(db, "SELECT LIST(DISTINCT to_status ORDER BY to_status) FROM cja.backfill_status_changes")
    assert {"IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED"} <= set(statuses)
    assert _one(db, "SELECT COUNT(*) FROM cja.connection_changes") >= 1
    # a day apart on the simulator's clock, the last one now
    runs, first, last = _one(db, "SELECT COUNT(*), MIN(started_at), MAX(started_at) FROM cja.sync_runs")
    assert runs == 8 and last - first == timedelta(days=7)

    # a second demo into the same file (a copy, with its pipelines directory) adds one sync (a
    # second week would interleave with the first)
    copy = tmp_path / db.name
    shutil.copyfile(db, copy)
    shutil.copytree(demo_run.home / "pipelines", tmp_path / "pipelines")
    into = ["--duckdb-path", str(copy), "--pipelines-dir", str(tmp_path / "pipelines")]
    code, out, err = quiet_main([*demo_run.args[:3], *into, "--json"])
    assert code == 0, err
    assert json.loads(out)["status"] == "succeeded"  # the one JSON object
    assert _one(copy, "SELECT COUNT(*) FROM cja.sync_runs") == 9


def _point(cid: str, at: str, n: int) -> dict[str, Any]:
    return {"connection_id": cid, "connection_name": "Web", "observed_at": at, "num_daily_events": n}


def test_history_charts_of_one_sync_say_not_enough_syncs() -> None:
    one = {
        "drops": [],
        "trend_ids": ["dg_a"],
        "trend_points": [_point("dg_a", "2026-01-01", 5)],
        "completion_counts": {"completed": [0] * 11, "exceeding": [0] * 11},
        "exceeding_p90": [],
    }
    figs = history_figures(one)
    for fig in figs.values():
        assert fig["data"] == [] and fig["layout"]["xaxis"] == {"visible": False}
        assert "Not enough syncs yet" in fig["layout"]["annotations"][0]["text"]
    two = {**one, "trend_points": [*one["trend_points"], _point("dg_a", "2026-01-02", 6)]}
    trend = history_figures(two)["chart-volume-trend"]
    assert [t["y"] for t in trend["data"]] == [[5, 6]]


def test_a_chart_of_zeros_becomes_a_note() -> None:
    zeros = {"data": [{"type": "bar", "y": [0, 0]}], "layout": {"title": {"text": "Open backfills"}}}
    noted = or_note(zeros, "No open backfills at the last sync.")
    assert noted["data"] == [] and noted["layout"]["title"]["text"] == "Open backfills"
    bars = {"data": [{"type": "bar", "orientation": "h", "x": [0, 2], "y": ["a", "b"]}], "layout": {}}
    assert has_values(bars) and or_note(bars, "unused") is bars
