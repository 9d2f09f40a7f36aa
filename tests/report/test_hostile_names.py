"""Names that try to break the output (simulator `hostile_names`), synced into DuckDB and Postgres:
the report draws every chart in Chromium and obeys none of them; `health` prints none raw."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator import SimConfig, Simulator
from cja_sync.commands.cli import main
from cja_sync.run.sync import RunOptions, run_sync

from ..helpers import query
from .test_report import CHART_IDS, _chromium, _figures, _settings, assert_figures_match_views

CONNECTIONS = 30  # > len(HOSTILE_NAMES): several connections share each name


def _sync(opts: RunOptions) -> RunOptions:
    with Simulator(SimConfig(seed=7, connections=CONNECTIONS, rate_limit=None, hostile_names=True)) as sim:
        run_sync(_settings(sim), opts)
    return opts


@pytest.fixture(scope="module")
def hostile_duckdb(tmp_path_factory: pytest.TempPathFactory) -> RunOptions:
    base = tmp_path_factory.mktemp("hostile")
    return _sync(
        RunOptions(destination="duckdb", duckdb_path=str(base / "w.duckdb"), pipelines_dir=str(base / "p"))
    )


@pytest.fixture(params=["duckdb", "postgres"])
def hostile(request: pytest.FixtureRequest) -> Iterator[RunOptions]:
    if request.param == "duckdb":
        yield request.getfixturevalue("hostile_duckdb")
    else:
        make: Callable[..., Any] = request.getfixturevalue("pg_opts")
        yield _sync(make())


def _args(opts: RunOptions) -> list[str]:
    return [
        "--destination",
        opts.destination,
        "--duckdb-path",
        opts.duckdb_path,
        "--dataset-name",
        opts.dataset_name,
        "--pipelines-dir",
        str(opts.pipelines_dir),
    ]


def test_fixture_stores_the_hostile_names(hostile_duckdb: RunOptions) -> None:
    names = {r[0] for r in query(hostile_duckdb, "SELECT name FROM {t}connections")}
    assert len(names) < CONNECTIONS  # shared names
    assert "<!--<script>" in names and any(len(n or "") > 100_000 for n in names)
    assert any("\x1b" in (n or "") for n in names)


def test_health_prints_no_raw_control_character(
    hostile: RunOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["health", *_args(hostile), "--all"]) == 0
    out = capsys.readouterr().out
    raw = {
        hex(ord(c))
        for c in out
        if c != "\n" and (unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in "\u202a\u202b\u202d\u202e")
    }
    assert raw == set()
    assert "\\e]0;retitled\\x07" in out and "\\u202eevil.exe" in out
    # NUL is stored as U+FFFD on both warehouses (the client replaces it where bodies are parsed)
    assert "nul\ufffdbyte" in out
    assert max(len(line) for line in out.splitlines()) < 300  # the 100 KB name is cut


def test_report_draws_every_chart_and_obeys_no_name(
    hostile: RunOptions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hostile.html"
    assert main(["report", *_args(hostile), "--out", str(out)]) == 0, capsys.readouterr().err
    figs = _figures(out)  # the figure JSON parses back whole
    assert_figures_match_views(figs, hostile)
    text = out.read_text(encoding="utf-8")
    script = re.search(r'<script id="report-figures" type="application/json">(.*?)</script>', text, re.S)
    assert script and not re.search(r"[<>&\u2028\u2029]", script.group(1))
    worst = figs["chart-worst"]
    ids = worst["data"][0]["customdata"]
    ticks = worst["layout"]["yaxis"]["ticktext"]
    # one bar per connection, and no two labels alike although names repeat
    assert len(set(ids)) == len(ids) == min(25, CONNECTIONS) and len(set(ticks)) == len(ticks)
    assert f"({len(ids)} of {CONNECTIONS})" in worst["layout"]["title"]["text"]
    _open_in_chromium(out, tmp_path)


def _open_in_chromium(path: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}).new_page()
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-charts-ready=true]", timeout=30_000)
            seen = page.evaluate(
                """ids => ({
                    pwned: window.__cja_pwned === undefined ? null : String(window.__cja_pwned),
                    scripts: document.scripts.length,
                    injected: document.querySelectorAll(
                        'svg[onload], img[onerror], a[href*="evil"], [href^="javascript"], b, i').length,
                    // HTML links and plotly's SVG links (xlink:href) alike
                    links: Array.from(document.querySelectorAll('a[*|href]')).map(a => a.outerHTML),
                    bold: document.querySelectorAll('.main-svg tspan[style*="bold"]').length,
                    charts: ids.map(id => {
                        const gd = document.getElementById(id);
                        return gd && gd._fullLayout
                            ? gd.querySelectorAll('.barlayer .point path').length : -1;
                    }),
                    ticks: Array.from(document.querySelectorAll('#chart-worst .ytick text')).map(
                        t => t.textContent),
                })""",
                CHART_IDS,
            )
        finally:
            browser.close()
    assert problems == []
    assert seen["pwned"] is None and seen["scripts"] == 3 and seen["injected"] == 0, seen
    assert seen["links"] == [] and seen["bold"] == 0, seen
    assert all(n > 0 for n in seen["charts"]), seen["charts"]
    # the markup in names is shown as text, e.g. the link's tag itself
    assert any('<a href="https://evil.example/">' in t for t in seen["ticks"]), seen["ticks"]
    assert len(set(seen["ticks"])) == len(seen["ticks"]) == min(25, CONNECTIONS)
