"""Each org of a fleet is judged by its own thresholds: a `[sources.cja.orgs.<name>.health]` value
decides for that org only, in the views, in `health --org` and on the fleet page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cja_sync.commands.cli import main
from tests.fleet.conftest import ORGS, run_args
from tests.helpers import query


@pytest.mark.parametrize("warehouse", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_per_org_stuck_threshold_decides_for_that_org_only(
    two_orgs: dict[str, Any],
    duckdb_opts: Callable[..., Any],
    pg_opts: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    warehouse: str,
) -> None:
    monkeypatch.setenv("SOURCES__CJA__ORGS__EMEA__HEALTH__STUCK_AFTER_HOURS", "24")
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    hours = {"emea": 24.0, "us": 168.0}
    expected = {ORGS[n]["org_id"]: sorted(two_orgs[n].truth().stuck_backfills(h)) for n, h in hours.items()}
    assert len(expected[ORGS["emea"]["org_id"]]) > len(two_orgs["emea"].truth().stuck_backfills(168))
    # org by org, so that the org synced last cannot decide for the other
    synced: set[str] = set()
    for name in ("emea", "us", "emea", "us"):
        assert main([*run_args(opts), "--org", name]) == 0
        capsys.readouterr()
        synced.add(ORGS[name]["org_id"])
        rows = query(opts, "SELECT org_id, backfill_id, stuck_after_hours FROM {t}stuck_backfills")
        for org_id in synced:
            assert sorted(b for o, b, _ in rows if o == org_id) == expected[org_id]
        assert {(o, h) for o, _, h in rows} <= {(ORGS[n]["org_id"], h) for n, h in hours.items()}
    settings = query(opts, "SELECT org_id, stuck_after_hours FROM {t}health_settings ORDER BY org_id")
    assert settings == sorted((ORGS[n]["org_id"], h) for n, h in hours.items())

    where = ["--destination", opts.destination, "--dataset-name", opts.dataset_name, "--json"]
    where += ["--pipelines-dir", str(opts.pipelines_dir)]
    if warehouse == "duckdb":
        where += ["--duckdb-path", opts.duckdb_path]
    for name, h in hours.items():
        main(["health", *where, "--org", name])
        report = json.loads(capsys.readouterr().out)
        org = report["orgs"][0]
        assert (org["org_id"], org["stuck_after_hours"]) == (ORGS[name]["org_id"], h)
        assert org["backfills_stuck"] == len(expected[ORGS[name]["org_id"]])
