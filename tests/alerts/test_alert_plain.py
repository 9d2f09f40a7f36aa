"""`cja-sync alert` on the warehouse of a plain dlt pipeline (`finish_sync`): no `cja-sync run` ever
published that file, so the alert state goes into it, in place, and no working file appears."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
import pytest

from cja_source import cja_source
from cja_sync import finish_sync
from cja_sync.run.sync import RunOptions
from cja_sync.warehouse.duckdb_file import working_path

from ..helpers import fast_settings, query
from .conftest import Receiver
from .helpers import Cli


def test_alert_writes_a_plain_pipelines_file_in_place(
    make_sim: Any, receiver: Receiver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sim = make_sim(seed=3, connections=6)
    path = tmp_path / "plain.duckdb"
    cfg = fast_settings(sim)
    pipeline = dlt.pipeline(
        "plain",
        destination=dlt.destinations.duckdb(str(path)),
        dataset_name="cja",
        pipelines_dir=str(tmp_path / "p"),
    )
    pipeline.run(cja_source(cfg))
    finish_sync(pipeline, cfg)
    opts = RunOptions(duckdb_path=str(path), pipelines_dir=str(tmp_path / "readers"))
    cli = Cli(opts, capsys)
    assert cli("alert")[0] == 0
    assert sorted(r.path.split("/")[1] for r in receiver.take()) == ["slack", "teams", "webhook"]
    assert cli("alert")[0] == 0 and receiver.take() == []
    assert not working_path(path).exists()
    assert query(opts, "SELECT COUNT(*) FROM {t}alert_deliveries WHERE delivered_at IS NOT NULL") == [(3,)]
