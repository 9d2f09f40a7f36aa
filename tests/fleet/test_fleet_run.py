"""`cja-sync run` over two orgs into one warehouse: both exact, each run scoped to its own org,
and one org's failure reported without stopping the other."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cja_sync.commands.cli import main
from tests.fleet.conftest import ORGS, run_args
from tests.helpers import query
from tests.truth_compare import assert_matches_truth

EMEA, US = ORGS["emea"]["org_id"], ORGS["us"]["org_id"]


def test_fleet_run_makes_both_orgs_exact_in_one_duckdb_file_and_scopes_deletions(
    two_orgs: dict[str, Any], duckdb_opts: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    opts = duckdb_opts()
    assert main(run_args(opts)) == 0
    assert "fleet: 2 of 2 orgs synced" in capsys.readouterr().out
    assert set(two_orgs["emea"].connection_ids()).isdisjoint(two_orgs["us"].connection_ids())
    for name, org in ORGS.items():
        assert_matches_truth(opts, two_orgs[name].truth(), org["org_id"])

    where = ["--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir), "--json"]
    assert main(["health", *where]) == 0
    fleet = json.loads(capsys.readouterr().out)
    assert [o["org_id"] for o in fleet["orgs"]] == [EMEA, US]
    assert main(["health", *where, "--org", "us"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert [o["org_id"] for o in one["orgs"]] == [US]
    assert {r["org_id"] for r in one["datasets"] + one["validation"]} <= {US}
    assert len(one["datasets"]) < len(fleet["datasets"])

    page = Path(opts.duckdb_path).with_name("fleet.html")
    assert main(["report", *where[:4], "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    fleet_table = html.split('id="fleet"', 1)[1].split("</table>", 1)[0]
    assert fleet_table.count("<tr data-org=") == 2 and EMEA in fleet_table and US in fleet_table

    # a run of one org alone must not take the other org's rows for deleted in source
    gone = two_orgs["emea"].connection_ids()[0]
    two_orgs["emea"].delete_connection(gone)
    assert main([*run_args(opts), "--org", "emea"]) == 0
    assert_matches_truth(opts, two_orgs["emea"].truth(), EMEA)
    assert_matches_truth(opts, two_orgs["us"].truth(), US)
    deleted = query(opts, "SELECT org_id, id FROM {t}connections WHERE deleted_in_source_at IS NOT NULL")
    assert deleted == [(EMEA, gone)]
    runs = query(opts, "SELECT org_id, status, count(*) FROM {t}sync_runs GROUP BY 1, 2 ORDER BY 1, 2")
    assert runs == [(EMEA, "succeeded", 2), (US, "succeeded", 1)]


def test_wrong_secret_fails_one_org_and_leaves_the_other_synced_in_postgres(
    two_orgs: dict[str, Any],
    pg_opts: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    opts = pg_opts()
    monkeypatch.setenv("SOURCES__CJA__ORGS__EMEA__CREDENTIALS__CLIENT_SECRET", "not-the-secret")
    assert main(run_args(opts)) == 1
    out, err = capsys.readouterr()
    assert "fleet: 1 of 2 orgs synced; failed: emea" in out
    reason = [line for line in err.splitlines() if line.startswith("cja-sync: org emea: ")]
    assert len(reason) == 1 and "client_secret" in reason[0] and "not-the-secret" not in err
    assert_matches_truth(opts, two_orgs["us"].truth(), US)
    assert query(opts, "SELECT count(*) FROM {t}connections WHERE org_id = '" + EMEA + "'") == [(0,)]
    failed = query(opts, "SELECT org_id, status FROM {t}sync_runs WHERE status <> 'succeeded'")
    assert failed == [(EMEA, "failed")]

    monkeypatch.setenv(
        "SOURCES__CJA__ORGS__EMEA__CREDENTIALS__CLIENT_SECRET", two_orgs["emea"].cfg.client_secret
    )
    assert main(run_args(opts)) == 0
    for name, org in ORGS.items():
        assert_matches_truth(opts, two_orgs[name].truth(), org["org_id"])


def test_unknown_org_name_is_a_usage_error(
    two_orgs: dict[str, Any], duckdb_opts: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*run_args(duckdb_opts()), "--org", "apac"]) == 2
    assert "no org named 'apac': configured orgs are emea, us" in capsys.readouterr().err
