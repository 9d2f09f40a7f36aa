"""`cja-sync health` exit codes, output and the demo's summary, called in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator import SimConfig, Simulator
from cja_source.simulator.settings import settings_for
from cja_sync.commands.cli import build_parser, main
from cja_sync.commands.health import LEGEND
from cja_sync.run.sync import run_sync
from tests.health_helpers import duckdb_options


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """A synced warehouse; `health` creates the views if the sync did not."""
    opts = duckdb_options(tmp_path_factory.mktemp("health_cli"))
    with Simulator(SimConfig(seed=3, connections=40, rate_limit=None)) as sim:
        run_sync(settings_for(sim, page_size=100), opts)
    yield ["--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir)]


def health(args: list[str], *more: str) -> int:
    return main(["health", *args, *more])


def test_prints_table_worst_first(warehouse: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert health(warehouse) == 0
    out = capsys.readouterr().out
    assert "STATUS" in out and "CONNECTION" in out and "DATASET" in out
    lines = [line.split()[0] for line in out.splitlines()[out.splitlines().index(_header(out)) + 1 :]]
    statuses = [s for s in lines if s in ("STUCK", "FAILED", "IN_PROGRESS")]
    assert statuses == sorted(statuses, key=["STUCK", "FAILED", "IN_PROGRESS"].index)
    assert statuses[0] == "STUCK"


def _header(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("STATUS"))


@pytest.mark.parametrize("condition", ["stuck", "failed", "stale", "validation"])
def test_fail_on_condition_present_exits_3(warehouse: list[str], condition: str) -> None:
    assert health(warehouse, "--fail-on", condition) == 3


def test_fail_on_condition_absent_exits_0(
    warehouse: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # no open backfill in the org is older than ~11 years
    monkeypatch.setenv("SOURCES__CJA__HEALTH__STUCK_AFTER_HOURS", "100000")
    assert health(warehouse, "--fail-on", "stuck", "--json") == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert report["conditions"]["stuck"] is False and report["failing"] == []
    assert report["orgs"][0]["stuck_after_hours"] == 100000
    monkeypatch.delenv("SOURCES__CJA__HEALTH__STUCK_AFTER_HOURS")
    assert health(warehouse, "--fail-on", "stuck") == 3  # back to the default threshold


def test_unknown_fail_on_exits_2(warehouse: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert health(warehouse, "--fail-on", "stuck,nonsense") == 2
    assert "nonsense" in capsys.readouterr().err


def test_no_successful_sync_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "none.duckdb"
    assert health(["--duckdb-path", str(path), "--pipelines-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"cja-sync: no successful sync in {path.resolve()}; run cja-sync run first"
    assert not path.exists()


def test_demo_summary_is_short(
    warehouse: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cja_sync.commands.health import print_health_for_demo

    opts = duckdb_options(tmp_path)
    with Simulator(SimConfig(seed=4, connections=30, rate_limit=None)) as sim:
        run_sync(
            settings_for(sim, page_size=100), opts.__class__(**{**opts.__dict__, "pipeline_name": "cja_demo"})
        )
    args = build_parser().parse_args(
        ["demo", "--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir)]
    )
    print_health_for_demo(args)
    out = capsys.readouterr().out
    assert "Health of" in out
    lines = out.splitlines()
    table = lines[lines.index(_header(out)) + 1 : lines.index(LEGEND)]
    assert len(table) == 10
    assert "datasets shown, worst first" in out


def test_limit_all_and_legend(warehouse: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert health(warehouse, "--json") == 0
    total = len(json.loads(capsys.readouterr().out)["datasets"])
    assert total > 25  # the default limit bites

    def table(*more: str) -> tuple[list[str], str]:
        assert health(warehouse, *more) == 0
        out = capsys.readouterr().out
        lines = out.splitlines()
        return lines[lines.index(_header(out)) + 1 : lines.index(LEGEND)], out

    rows, out = table()
    assert len(rows) == 25 and f"25 of {total} datasets shown, worst first" in out
    rows, out = table("--limit", "3")
    assert len(rows) == 3 and f"3 of {total} datasets shown" in out
    rows, out = table("--all")
    assert len(rows) == total and "datasets shown" not in out
    assert "C/F/P/Q: the dataset's backfills completed/failed/in progress/queued" in out
    assert health(warehouse, "--limit", "0") == 2
    assert "--limit" in capsys.readouterr().err
