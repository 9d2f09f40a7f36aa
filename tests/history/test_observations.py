"""What the syncs keep over time (issue 14): numDailyEvents per sync and ingestion_drops, backfill
status changes bracketed by syncs, and `health --new`; simulator over HTTP, real warehouses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cja_sync.commands.cli import main
from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query


def _connections_with_events(sim: Any) -> list[str]:
    """Every connection at a steady 1000 events a day: a known baseline."""
    cids = sorted(sim.truth().connections)
    for cid in cids:
        sim.set_daily_events(cid, 1000)
    return cids


def _drops(opts: Any) -> list[tuple[Any, ...]]:
    return query(
        opts,
        "SELECT connection_id, baseline_median, latest_num_daily_events, drop_pct "
        "FROM {t}ingestion_drops ORDER BY connection_id",
    )


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_volume_cut_by_90_percent_is_the_only_drop(
    make_sim: Any, duckdb_opts: Any, pg_opts: Any, warehouse: str
) -> None:
    sim = make_sim(seed=5, connections=6)
    cids = _connections_with_events(sim)
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    cfg = fast_settings(sim)
    for _ in range(4):
        run_sync(cfg, opts)
    assert _drops(opts) == []  # a steady org
    assert query(opts, "SELECT COUNT(*), COUNT(DISTINCT observed_at) FROM {t}connection_volume_history") == [
        (4 * len(cids), 4)
    ]
    sim.set_daily_events(cids[0], 100)
    sim.set_daily_events(cids[1], 600)  # -40 %: under the 50 % threshold
    run_sync(cfg, opts)
    assert _drops(opts) == [(cids[0], 1000.0, 100, 90.0)]
    if warehouse == "duckdb":
        # a connection that stops sending events counts; the cut one stays listed
        sim.set_daily_events(cids[2], 0)
        run_sync(cfg, opts)
        assert [r[0] for r in _drops(opts)] == sorted([cids[0], cids[2]])
        # one point per sync, each tied to the load that wrote it
        loads = query(
            opts,
            "SELECT COUNT(DISTINCT v._dlt_load_id) FROM {t}connection_volume_history AS v "
            "JOIN {t}sync_runs AS r ON r.started_at = v.observed_at AND r.status = 'succeeded'",
        )
        assert loads == [(6,)]
        _check_report(opts, [cids[2], cids[0]])


def _check_report(opts: Any, dropped: list[str]) -> None:
    """The dashboard: drops first in the trend, with their whole series, and in the drops table."""
    out = Path(opts.duckdb_path).parent / "report.html"
    assert (
        main(
            [
                "report",
                "--duckdb-path",
                opts.duckdb_path,
                "--pipelines-dir",
                str(opts.pipelines_dir),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    page = out.read_text(encoding="utf-8")
    figs = json.loads(
        re.search(r'<script id="report-figures" type="application/json">(.*?)</script>', page, re.S)[1]
    )
    trend = figs["chart-volume-trend"]["data"]
    assert [t["meta"] for t in trend[:2]] == dropped
    assert trend[0]["y"] == [1000] * 5 + [0] and trend[1]["y"] == [1000] * 4 + [100, 100]
    assert len(trend) == 6  # drops, then the largest of the rest
    drops_table = page[page.index('id="drops"') : page.index('id="slow-backfills"')]
    assert all(cid in drops_table for cid in dropped)


def test_backfill_completion_is_bracketed_by_two_syncs(make_sim: Any, duckdb_opts: Any) -> None:
    sim = make_sim(seed=5, connections=6)
    truth = sim.truth()
    running = sorted(b for b, v in truth.backfills.items() if v["status"] == "IN_PROGRESS")
    assert running
    opts = duckdb_opts()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    # first seen open: from_status NULL; finished ones from before the first sync are not changes
    firsts = query(
        opts, "SELECT DISTINCT to_status FROM {t}backfill_status_changes WHERE from_status IS NULL"
    )
    assert {s for (s,) in firsts} <= {"IN_PROGRESS", "IN_QUEUE"}
    before = query(opts, "SELECT COUNT(*) FROM {t}backfill_status_changes")[0][0]
    sim.set_backfill_status(running[0], "COMPLETED")
    run_sync(cfg, opts)
    starts = [s for (s,) in query(opts, "SELECT started_at FROM {t}sync_runs ORDER BY started_at")]
    rows = query(
        opts,
        "SELECT backfill_id, from_status, to_status, previous_observed_at, observed_at "
        "FROM {t}backfill_status_changes WHERE from_status IS NOT NULL",
    )
    assert rows == [(running[0], "IN_PROGRESS", "COMPLETED", starts[0], starts[1])]
    assert query(opts, "SELECT COUNT(*) FROM {t}backfill_status_changes")[0][0] == before + 1
    [(low, high, age)] = query(
        opts,
        "SELECT completed_hours_min, completed_hours_max, age_hours FROM {t}backfill_durations "
        f"WHERE backfill_id = '{running[0]}'",
    )
    assert low is not None and low <= high <= age + 0.01


def _health(opts: Any, capsys: Any, *args: str) -> tuple[int, dict[str, Any]]:
    where = ["--destination", opts.destination, "--dataset-name", opts.dataset_name]
    if opts.destination == "duckdb":
        where += ["--duckdb-path", opts.duckdb_path]
    code = main(["health", *where, "--pipelines-dir", str(opts.pipelines_dir), *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_health_new_alerts_only_on_what_is_new(
    make_sim: Any,
    duckdb_opts: Any,
    pg_opts: Any,
    capsys: pytest.CaptureFixture[str],
    warehouse: str,
) -> None:
    sim = make_sim(seed=3, connections=12)
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    cfg = fast_settings(sim)
    run_sync(cfg, opts)
    run_sync(cfg, opts)  # idle
    code, report = _health(opts, capsys, "--fail-on", "failed")
    assert code == 3 and report["conditions"]["failed"]  # old problems remain
    code, report = _health(opts, capsys, "--new", "--fail-on", "failed,stuck,stale,validation,drop")
    assert code == 0 and not any(report["new"].values())
    # a new FAILED backfill on a dataset with no problem so far
    shown = {(r["connection_id"], r["data_set_id"]) for r in report["datasets"]}
    cid, dsid = next(k for k in sorted(sim.truth().datasets) if k not in shown)
    sim.add_backfill(cid, dsid, status="FAILED")
    run_sync(cfg, opts)
    code, report = _health(opts, capsys, "--new", "--fail-on", "failed,stuck,stale")
    assert code == 3 and report["failing"] == ["failed"]
    assert report["new"]["failed"] == [f"{cid}/{dsid}"]


def test_history_tables_exist_after_a_first_sync_with_nothing_to_record(
    make_sim: Any, duckdb_opts: Any
) -> None:
    sim = make_sim(seed=5, connections=2)
    for bid, b in sim.truth().backfills.items():
        if b["status"] in ("IN_PROGRESS", "IN_QUEUE"):
            sim.set_backfill_status(bid, "COMPLETED")
    opts = duckdb_opts()
    run_sync(fast_settings(sim), opts)
    # every backfill was finished before the first sync: no change to record, the table typed anyway
    assert (
        query(opts, "SELECT backfill_id, from_status, to_status, observed_at FROM {t}backfill_status_changes")
        == []
    )
    assert query(opts, "SELECT COUNT(*) FROM {t}ingestion_drops") == [(0,)]
    assert query(opts, "SELECT COUNT(*) FROM {t}health_alerts WHERE condition = '_recorded'") == [(1,)]
