"""`cja-sync report`: exit codes, figures equal to the views, and the file rendered offline in
headless Chromium (Debian's /usr/bin/chromium driven by playwright; tests/report/install_chromium.sh)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cja_source.configuration import CJASourceConfiguration
from cja_source.simulator import SimConfig, Simulator
from cja_source.simulator.settings import settings_for
from cja_sync.commands.cli import main
from cja_sync.run.sync import RunOptions, run_sync

from ..helpers import fast_settings, query

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHART_IDS = ["chart-backfills-over-time", "chart-open-backfill-ages", "chart-ingestion-ages", "chart-worst"]
HISTORY_CHART_IDS = ["chart-volume-trend", "chart-completion-times"]


def _settings(sim: Simulator) -> CJASourceConfiguration:
    return settings_for(sim, page_size=50, requests_per_window=10_000, window_seconds=1.0)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunOptions]:
    """A warehouse after two syncs with one configuration change between them."""
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    base = tmp_path_factory.mktemp("report")
    opts = RunOptions(
        destination="duckdb", duckdb_path=str(base / "warehouse.duckdb"), pipelines_dir=str(base / "p")
    )
    with Simulator(SimConfig(seed=5, connections=60, rate_limit=None)) as sim:
        cfg = _settings(sim)
        run_sync(cfg, opts)
        sim.modify_connection(sim.connection_ids()[0], dataRetentionMonths=2)
        run_sync(cfg, opts)
    yield opts


def _args(opts: RunOptions) -> list[str]:
    return ["--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir)]


def _write_report(opts: RunOptions, out: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["report", *_args(opts), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(out.resolve())
    return Path(printed)


def _figures(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script id="report-figures" type="application/json">(.*?)</script>', text, re.S)
    assert found
    return json.loads(found.group(1))


def _summary(opts: Any) -> dict[str, Any]:
    cols = (
        "connections, connections_unhealthy, datasets, streaming_datasets, datasets_stale, datasets_stuck, "
        "datasets_failed, backfills_total, backfills_completed, backfills_failed, backfills_in_progress, "
        "backfills_in_queue, backfills_stuck, validation_errors"
    )
    (row,) = query(opts, f"SELECT {cols} FROM {{t}}org_health_summary")
    return dict(zip([c.strip() for c in cols.split(",")], row, strict=True))


def _expected_worst(opts: Any, limit: int = 25) -> list[tuple[Any, ...]]:
    return query(
        opts,
        "SELECT connection_id, datasets_stuck, datasets_failed, datasets_in_progress, datasets_healthy, "
        "datasets_no_backfills, datasets_stale FROM {t}connection_health ORDER BY severity DESC, "
        "datasets_stuck + datasets_failed + datasets_stale DESC, validation_errors DESC, connection_name, "
        f"connection_id LIMIT {limit}",
    )


def assert_figures_match_views(figs: dict[str, Any], opts: Any) -> None:
    """Every chart's numbers against the views, queried here independently of pipelines/report/."""
    s = _summary(opts)
    assert s["backfills_stuck"] > 0 and s["datasets_stale"] > 0 and s["backfills_failed"] > 0
    by_name = {name: {t["meta"]: t for t in fig["data"]} for name, fig in figs.items()}
    timeline = by_name["chart-backfills-over-time"]
    assert sum(timeline["COMPLETED"]["y"]) == s["backfills_completed"]
    assert sum(timeline["FAILED"]["y"]) == s["backfills_failed"]
    assert sum(timeline["IN_PROGRESS"]["y"]) == s["backfills_in_progress"]
    assert sum(timeline["IN_QUEUE"]["y"]) == s["backfills_in_queue"]
    ages = by_name["chart-open-backfill-ages"]
    assert (
        sum(ages["stuck"]["y"])
        == s["backfills_stuck"]
        == query(opts, "SELECT count(*) FROM {t}stuck_backfills")[0][0]
    )
    assert (
        sum(ages["within"]["y"]) + sum(ages["stuck"]["y"])
        == s["backfills_in_progress"] + s["backfills_in_queue"]
    )
    ingest = by_name["chart-ingestion-ages"]
    assert (
        sum(ingest["stale"]["y"])
        == s["datasets_stale"]
        == query(opts, "SELECT count(*) FROM {t}stale_datasets")[0][0]
    )
    assert sum(ingest["fresh"]["y"]) + sum(ingest["stale"]["y"]) == s["streaming_datasets"]
    worst = by_name["chart-worst"]
    expected = list(reversed(_expected_worst(opts)))  # drawn bottom-up: the worst is the last category
    assert worst["STUCK"]["customdata"] == [r[0] for r in expected]
    for i, status in enumerate(("STUCK", "FAILED", "IN_PROGRESS", "HEALTHY", "NO_BACKFILLS", "STALE")):
        assert worst[status]["x"] == [r[i + 1] for r in expected], status


def test_no_successful_sync_exits_1_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "h.html"
    code = main(["report", "--duckdb-path", str(tmp_path / "none.duckdb"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "no successful sync" in err
    assert not out.exists() and not (tmp_path / "none.duckdb").exists()


def test_report_figures_equal_the_views(
    synced: RunOptions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_report(synced, tmp_path / "sub" / "health.html", capsys)
    text = path.read_text(encoding="utf-8")
    # self-contained: no external script, stylesheet, image or font
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)
    assert "Plotly.newPlot" in text and "data_retention_months" in text
    assert_figures_match_views(_figures(path), synced)


def test_report_on_postgres(make_sim, pg_opts, tmp_path, capsys) -> None:
    opts = pg_opts()
    run_sync(fast_settings(make_sim(connections=15)), opts)
    out = tmp_path / "pg.html"
    code = main(
        [
            "report",
            "--destination",
            "postgres",
            "--dataset-name",
            opts.dataset_name,
            "--pipelines-dir",
            str(opts.pipelines_dir),
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert_figures_match_views(_figures(out), opts)


# ----- in the browser -----


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing (CI=true): run tests/report/install_chromium.sh first")
    pytest.skip("chromium is not installed (tests/report/install_chromium.sh)")


def test_report_renders_offline_in_chromium(
    synced: RunOptions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    path = _write_report(synced, tmp_path / "health.html", capsys)
    problems: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            offline=True,
        )
        try:
            page = context.new_page()
            page.on(
                "console", lambda m: m.type in ("error", "warning") and problems.append(f"{m.type}: {m.text}")
            )
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-charts-ready=true]", timeout=30_000)
            drawn = page.evaluate(
                """ids => ids.map(id => {
                    const gd = document.getElementById(id);
                    return {
                        id: id,
                        plotted: !!(gd && gd._fullLayout),
                        svg: gd ? gd.querySelectorAll('svg.main-svg').length : 0,
                        bars: gd ? gd.querySelectorAll('.barlayer .point path').length : 0,
                        markers: gd ? gd.querySelectorAll('.scatterlayer .point').length : 0,
                        traces: gd ? gd.data.map(
                            t => ({meta: t.meta, x: t.x, y: t.y, customdata: t.customdata})) : [],
                    };
                })""",
                CHART_IDS,
            )
            history_plotted = page.evaluate(
                "ids => ids.map(id => !!(document.getElementById(id) || {})._fullLayout)", HISTORY_CHART_IDS
            )
            tiles = page.evaluate(
                """() => Object.fromEntries(Array.from(document.querySelectorAll('.tile')).map(
                    t => [t.dataset.field, Number(t.querySelector('.n').textContent)]))"""
            )
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"report screenshot: {shot}")
        finally:
            context.close()
    assert problems == []
    assert requests == [path.as_uri()], requests
    assert history_plotted == [True] * len(HISTORY_CHART_IDS)  # the trend and completion times (issue 14)
    for chart in drawn:
        assert chart["plotted"] and chart["svg"] > 0, chart["id"]
        assert chart["bars"] > 0, chart["id"]
    # the numbers plotly drew are the views' numbers
    assert_figures_match_views({c["id"]: {"data": c["traces"]} for c in drawn}, synced)
    assert next(c for c in drawn if c["id"] == "chart-worst")["markers"] > 0
    s = _summary(synced)
    assert tiles["connections"] == s["connections"]
    assert tiles["stuck backfills"] == s["backfills_stuck"]
    assert tiles["stale datasets"] == s["datasets_stale"]
    assert tiles["failed datasets"] == s["datasets_failed"]


def test_report_json(synced: RunOptions, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "h.html"
    assert main(["report", *_args(synced), "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    s = _summary(synced)
    assert printed["path"] == str(out.resolve()) and printed["bytes"] == out.stat().st_size
    assert printed["counts"]["connections"] == s["connections"]
    assert printed["counts"]["backfills"] == s["backfills_total"]
    assert printed["counts"]["changes"] > 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as readable as any file the user writes


def test_report_write_error_is_one_line(
    synced: RunOptions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where --out wants a folder
    assert main(["report", *_args(synced), "--out", str(blocker / "h.html")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cja-sync: cannot write the report to"), lines
    assert lines[0].endswith("; choose another --out") and list(tmp_path.iterdir()) == [blocker]
