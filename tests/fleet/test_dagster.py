"""The shipped Dagster definitions, run in-process the way Dagster's own tests do
(`materialize`): one partition per org, each its own run, both orgs exact in one warehouse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fleet.conftest import ORGS
from tests.helpers import query
from tests.truth_compare import assert_matches_truth

dagster = pytest.importorskip("dagster")


def test_dagster_definitions_sync_each_org_as_its_own_partition(
    two_orgs: dict[str, Any], duckdb_opts: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cja_sync.orchestration.dagster_defs import ASSET, CJAWarehouse, build_definitions

    opts = duckdb_opts()
    warehouse = CJAWarehouse(
        duckdb_path=opts.duckdb_path, pipelines_dir=opts.pipelines_dir, turn_wait_seconds=60
    )
    defs = build_definitions(warehouse=warehouse)
    job = defs.resolve_job_def("cja_fleet_sync")
    assert sorted(job.partitions_def.get_partition_keys()) == ["emea", "us"]
    asset_def = defs.resolve_assets_def(ASSET)
    assert asset_def.op.retry_policy is not None and asset_def.op.retry_policy.max_retries == 3

    # a wrong secret fails that partition's run with its one-line reason, and nothing else
    monkeypatch.setenv("SOURCES__CJA__ORGS__EMEA__CREDENTIALS__CLIENT_SECRET", "wrong")
    failed = dagster.materialize([asset_def], partition_key="emea", raise_on_error=False)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None and "org emea:" in failure.message and "client_secret" in failure.message
    monkeypatch.setenv(
        "SOURCES__CJA__ORGS__EMEA__CREDENTIALS__CLIENT_SECRET", two_orgs["emea"].cfg.client_secret
    )

    for name in ("emea", "us"):
        result = dagster.materialize([asset_def], partition_key=name)
        assert result.success
        meta = result.asset_materializations_for_node(ASSET)[0].metadata
        assert meta["org_id"].value == ORGS[name]["org_id"]
    for name, org in ORGS.items():
        assert_matches_truth(opts, two_orgs[name].truth(), org["org_id"])
    runs = query(opts, "SELECT org_id, status, count(*) FROM {t}sync_runs GROUP BY 1, 2 ORDER BY 1, 2")
    assert runs == [
        (ORGS["emea"]["org_id"], "failed", 1),
        (ORGS["emea"]["org_id"], "succeeded", 1),
        (ORGS["us"]["org_id"], "succeeded", 1),
    ]
