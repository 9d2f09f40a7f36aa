"""A fleet speaks in its own names: `health` labels orgs with their `[sources.cja.orgs.<name>]`
names, and an org's credential problems name that org's block, not `[sources.cja]`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from cja_sync.commands.cli import main
from tests.fleet.conftest import ORGS, run_args


def _health_args(opts: Any) -> list[str]:
    return ["health", "--duckdb-path", opts.duckdb_path, "--pipelines-dir", str(opts.pipelines_dir)]


def test_health_of_two_orgs_names_them_as_configured(
    two_orgs: dict[str, Any],
    duckdb_opts: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    opts = duckdb_opts()
    assert main(run_args(opts)) == 0
    capsys.readouterr()
    assert main([*_health_args(opts), "--all"]) == 0
    out = capsys.readouterr().out
    for name, org in ORGS.items():
        assert f"Health of {name} ({org['org_id']}) as of " in out, out
    table = out.splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("ORG "))
    rows = table[header + 1 : next(i for i, line in enumerate(table) if line.startswith("C/F/P/Q:"))]
    assert rows and {row.split()[0] for row in rows} == set(ORGS), rows

    # one org shown: no column that says the same on every line
    assert main([*_health_args(opts), "--all", "--org", "emea"]) == 0
    out = capsys.readouterr().out
    assert f"Health of emea ({ORGS['emea']['org_id']})" in out and "\nORG " not in out

    # a reader whose configuration does not know the orgs labels them by IMS org id
    for key in [k for k in os.environ if k.startswith("SOURCES__CJA__ORGS__")]:
        monkeypatch.delenv(key)
    assert main([*_health_args(opts), "--all"]) == 0
    out = capsys.readouterr().out
    first = next(line for line in out.splitlines() if line.startswith("ORG "))
    assert "Health of emea" not in out and f"Health of {ORGS['emea']['org_id']} as of" in out
    assert first.split()[0] == "ORG"


def test_a_wrong_secret_names_the_orgs_own_block(
    two_orgs: dict[str, Any],
    duckdb_opts: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOURCES__CJA__ORGS__EMEA__CREDENTIALS__CLIENT_SECRET", "not-the-secret")
    assert main(run_args(duckdb_opts())) == 1
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if line.startswith("cja-sync: org emea: "))
    assert "check sources.cja.orgs.emea.credentials.client_id, client_secret and scopes" in line, line
    assert "not-the-secret" not in err


def test_a_missing_secret_names_the_orgs_own_block(
    two_orgs: dict[str, Any], duckdb_opts: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cja_source.errors import ConfigurationError
    from cja_source.fleet_config import load_fleet

    monkeypatch.delenv("SOURCES__CJA__ORGS__US__CREDENTIALS__CLIENT_SECRET")
    with pytest.raises(ConfigurationError) as raised:
        load_fleet()
    message = raised.value.message
    expected = "org us: missing setting sources.cja.orgs.us.credentials.client_secret"
    assert message.startswith(expected), message
    assert "SOURCES__CJA__ORGS__US__CREDENTIALS__CLIENT_SECRET" in message, message
