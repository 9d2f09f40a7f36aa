"""`cja-sync health` and the report show the data views a problem hits and the orphan counts,
equal to the impact views and to the simulator's truth; names are escaped."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator import SimConfig, Simulator
from cja_sync.commands.cli import main
from cja_sync.report import read_report_data, render_html
from cja_sync.run.sync import RunOptions, run_sync
from cja_sync.warehouse.reading import open_for_reading

from ..helpers import fast_settings, query
from .compare import impact_truth


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunOptions, dict[str, Any]]]:
    base = tmp_path_factory.mktemp("impact_output")
    opts = RunOptions(destination="duckdb", duckdb_path=str(base / "w.duckdb"), pipelines_dir=str(base / "p"))
    with Simulator(SimConfig(seed=5, connections=40, rate_limit=None)) as sim:
        run_sync(fast_settings(sim, page_size=100, data_view_components=True), opts)
        truth = impact_truth(sim)
    yield opts, truth


def _args(opts: RunOptions) -> list[str]:
    return ["health", "--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir)]


def test_health_json_names_the_data_views_hit(synced, capsys: pytest.CaptureFixture[str]) -> None:
    opts, truth = synced
    assert main([*_args(opts), "--json"]) == 0
    impact = json.loads(capsys.readouterr().out)["impact"]
    hit = {(r["connection_id"], r["data_view_id"]) for r in impact["connections"]}
    attention = {
        r[0] for r in query(opts, "SELECT connection_id FROM {t}connection_health WHERE severity >= 3")
    }
    assert hit == {(c, dv) for c, dv in truth["feeds"] if c in attention} and hit
    read = {(r["data_set_id"], r["data_view_id"]) for r in impact["datasets"]}
    want = query(
        opts,
        "SELECT data_set_id, data_view_id FROM {t}dataset_impact WHERE health_status IN ('FAILED', 'STUCK') "
        "OR is_stale",
    )
    assert read == set(want) and read
    (org,) = impact["orphans"]
    assert org["orphan_connections"] == len(truth["orphan_connections"]) > 0
    assert org["orphan_data_views"] == len(truth["orphan_data_views"]) > 0


def test_health_text_lists_them(synced, capsys: pytest.CaptureFixture[str]) -> None:
    opts, truth = synced
    assert main([*_args(opts), "--all"]) == 0
    out = capsys.readouterr().out
    assert "data views fed by connections needing attention" in out
    assert "data views whose components read a problem dataset" in out
    assert f"{len(truth['orphan_connections'])} connections feed no data view" in out
    name = query(opts, "SELECT data_view_name FROM {t}connection_impact WHERE severity >= 3 LIMIT 1")[0][0]
    assert name[:30] in out


def test_report_has_the_impact_section(synced, tmp_path: Path) -> None:
    opts, truth = synced
    page = render_html(read_report_data(open_for_reading(opts)))
    section = page[page.index('<section class="table" id="impact">') :]
    section = section[: section.index("</section>")]
    assert f'<div class="n">{len(truth["orphan_connections"])}</div>' in section
    assert f'<div class="n">{len(truth["orphan_data_views"])}</div>' in section
    names = query(opts, "SELECT DISTINCT data_view_name FROM {t}connection_impact WHERE severity >= 3")
    assert names and all(html.escape(n) in section for (n,) in names[:8])


def test_alert_items_name_the_data_views_fed(synced, monkeypatch: pytest.MonkeyPatch) -> None:
    from ..alerts.conftest import Receiver

    opts, truth = synced
    receiver = Receiver()
    try:
        for key, value in receiver.env("webhook").items():
            monkeypatch.setenv(key, value)
        args = ["alert", "--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir)]
        assert main(args) == 0
        [request] = receiver.take("webhook")
        items = [i for group in request.json()["new"].values() for i in group if i.get("connection_id")]
        assert items
        for item in items:
            fed = {dv for c, dv in truth["feeds"] if c == item["connection_id"]}
            assert {v["id"] for v in item["data_views"]} == fed
        assert any(item["data_views"] for item in items)
    finally:
        receiver.stop()
