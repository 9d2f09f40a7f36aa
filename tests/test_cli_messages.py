"""The CLI's promises: one line on stderr naming the cause and the fix for every failure,
"cannot open the warehouse" told from "no sync yet", --version, help for every option."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator.settings import settings_values
from cja_source.version import __version__
from cja_sync.commands.cli import build_parser, main

from .helpers import PG_URL, env_for

# the process as a user starts it, with one third-party package made unimportable when asked
LAUNCH = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    if name: sys.modules[name] = None\n"
    "from cja_sync.commands.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, hide: str = "") -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCH, hide, *args],
        cwd=cwd,
        env={**full_env, "DLT_PROJECT_DIR": str(cwd), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# settings that would reach no API: a test that sees its line first proves nothing was asked
CREDENTIALS_OF_NOWHERE = env_for(
    {
        "base_url": "http://127.0.0.1:9",
        "token_url": "http://127.0.0.1:9/ims",
        "credentials": {"client_id": "x", "client_secret": "s", "org_id": "A@AdobeOrg"},
    }
)


def sim_env(sim: Any) -> dict[str, str]:
    return env_for(settings_values(sim))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----- configuration files -----


def test_broken_secrets_toml_keeps_dlts_line_and_column(tmp_path: Path) -> None:
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text('[sources.cja.credentials]\nclient_secret = "unclosed\n')
    for debug in ((), ("--debug",)):
        code, _, err = cli("run", *debug, cwd=tmp_path)
        assert code == 2, err
        last = err.strip().splitlines()[-1] if debug else one_line(err)
        assert "secrets.toml" in last and "line 2 col 25" in last, last


def test_secrets_toml_that_is_a_directory_exits_2(tmp_path: Path, make_sim: Callable[..., Any]) -> None:
    (tmp_path / ".dlt" / "secrets.toml").mkdir(parents=True)
    for command in ("run", "health"):
        code, _, err = cli(command, cwd=tmp_path, env=sim_env(make_sim(connections=3)))
        assert code == 2, err
        line = one_line(err)
        assert ".dlt/secrets.toml is not a file" in line and "replace it" in line, line


# ----- drivers and warehouses -----


def test_missing_postgres_driver_names_the_extra(tmp_path: Path, make_sim: Callable[..., Any]) -> None:
    env = {**sim_env(make_sim(connections=3)), "DESTINATION__POSTGRES__CREDENTIALS": PG_URL}
    for command in ("run", "health", "report"):
        code, _, err = cli(command, "--destination", "postgres", cwd=tmp_path, env=env, hide="psycopg2")
        assert code == 2, err
        line = one_line(err)
        assert line.startswith("cja-sync: the postgres destination needs ") and "psycopg2" in line, line
        assert line.endswith(", which is not installed: pip install 'cja-sync[postgres]'"), line


@pytest.mark.parametrize(
    ("dsn", "problem"),
    [
        (None, "is not set"),
        ("", "is not a connection string"),
        ("not a dsn", "is not a connection string"),
        ("postgresql://someone@localhost/test", "lacks password"),
    ],
)
def test_missing_or_unparsable_postgres_dsn_names_the_setting(
    tmp_path: Path, dsn: str | None, problem: str
) -> None:
    # before: 640 characters of dlt's lookup keys, or SQLAlchemy's "Could not parse ... URL"
    env = {} if dsn is None else {"DESTINATION__POSTGRES__CREDENTIALS": dsn}
    env.update(CREDENTIALS_OF_NOWHERE)  # the DSN is checked before anything is asked of the API
    for command in ("run", "health"):
        code, _, err = cli(command, "--destination", "postgres", cwd=tmp_path, env=env)
        assert code == 2, err
        line = one_line(err)
        assert len(line) <= 220, line
        assert line.startswith(f"cja-sync: DESTINATION__POSTGRES__CREDENTIALS {problem}: "), line
        assert "postgresql://user:password@host:5432/database" in line, line


def test_bad_duckdb_path_is_one_line_with_the_fix(tmp_path: Path, make_sim: Callable[..., Any]) -> None:
    bad = tmp_path / "no" / "such" / "dir" / "w.duckdb"
    code, _, err = cli("run", "--duckdb-path", str(bad), cwd=tmp_path, env=sim_env(make_sim(connections=3)))
    assert code == 1
    line = one_line(err)
    assert "cannot open the DuckDB warehouse" in line and "check --duckdb-path" in line, line


def test_readers_beside_the_demo_name_its_file(
    tmp_path: Path,
    make_sim: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a synced file where `cja-sync demo` puts its own (the demo itself takes longer than a test may)
    monkeypatch.chdir(tmp_path)
    pipelines = ["--pipelines-dir", str(tmp_path / "p")]
    for command in ("health", "report"):
        assert main([command, *pipelines]) == 1
        line = one_line(capsys.readouterr().err)
        assert line.endswith("cja_sync.duckdb; run cja-sync run first"), line
    for key, value in sim_env(make_sim(connections=3)).items():
        monkeypatch.setenv(key, value)
    assert main(["run", "--duckdb-path", "cja_demo.duckdb", *pipelines]) == 0
    capsys.readouterr()
    for command in ("health", "report", "dbt"):
        assert main([command, *pipelines]) == 1
        line = one_line(capsys.readouterr().err)
        assert line == (
            f"cja-sync: no warehouse at {tmp_path.resolve() / 'cja_sync.duckdb'}; the demo's is "
            f"{tmp_path.resolve() / 'cja_demo.duckdb'}: add --duckdb-path cja_demo.duckdb"
        ), line
    assert main(["health", "--duckdb-path", "cja_demo.duckdb", *pipelines]) == 0
    assert "Health of " in capsys.readouterr().out


@pytest.mark.parametrize("command", ["health", "report"])
def test_cannot_open_is_not_no_sync(tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dir.duckdb").mkdir()
    (tmp_path / "junk.duckdb").write_text("not a DuckDB file\n")
    out = str(tmp_path / "h.html")
    for path, cause in (("dir.duckdb", "it is not a file"), ("junk.duckdb", "not a valid DuckDB database")):
        args = ["--duckdb-path", str(tmp_path / path), "--pipelines-dir", str(tmp_path / "p"), "--out", out]
        assert main([command, *args[: 4 if command == "health" else 6]]) == 1
        line = one_line(capsys.readouterr().err)
        assert line.startswith("cja-sync: cannot open the warehouse") and cause in line, line
        assert "no successful sync" not in line and "check --duckdb-path" in line
    assert not Path(out).exists()


@pytest.mark.parametrize("command", ["health", "report"])
def test_postgres_down_is_not_no_sync(tmp_path: Path, command: str) -> None:
    env = {
        "DESTINATION__POSTGRES__CREDENTIALS": f"postgresql://postgres:postgres@127.0.0.1:{_free_port()}/test"
    }
    code, _, err = cli(command, "--destination", "postgres", cwd=tmp_path, env=env)
    assert code == 1
    line = one_line(err)
    assert "cannot open the warehouse postgres dataset cja" in line and "Connection refused" in line, line
    assert "server is up" in line


# ----- polish -----


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"cja-sync {__version__}"


def test_every_option_has_help_and_the_real_pipelines_dir_default() -> None:
    from dlt.common.pipeline import get_dlt_pipelines_dir

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.option_strings}"
        for name, sub in subparsers.choices.items()
        for action in sub._actions
        if action.option_strings and not action.help
    ]
    assert missing == []
    pipelines_dir = next(
        a for a in subparsers.choices["run"]._actions if "--pipelines-dir" in a.option_strings
    )
    assert f"(default {get_dlt_pipelines_dir()})" in pipelines_dir.help


def test_run_summary_shows_the_version(
    make_sim: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in sim_env(make_sim(connections=3)).items():
        monkeypatch.setenv(key, value)
    args = ["run", "--duckdb-path", str(tmp_path / "w.duckdb"), "--pipelines-dir", str(tmp_path / "p")]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith(f"cja-sync {__version__}: succeeded in ")
    assert main([*args, "--json"]) == 0
    assert f'"version": "{__version__}"' in capsys.readouterr().out


def test_locked_duckdb_says_who_holds_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print(1); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "1"
        assert main(["health", "--duckdb-path", str(path), "--pipelines-dir", str(tmp_path / "p")]) == 1
    finally:
        holder.kill()
        holder.wait()
    line = one_line(capsys.readouterr().err)
    assert "cannot open the warehouse" in line and "Could not set lock" in line and "try again" in line, line


def test_unexpected_errors_name_the_command_and_show_no_raw_control_character() -> None:
    from cja_sync.errors import as_cja_error

    error = as_cja_error(RuntimeError("first line\n\x1b]0;retitled\x07 second line"), "report")
    assert error.message == "report failed: RuntimeError: first line \\e]0;retitled\\x07 second line"
    assert as_cja_error(ValueError("x")).message == "sync failed: ValueError: x"


def test_log_lines_show_control_characters(tmp_path: Path) -> None:
    code = (
        "import logging\n"
        "from cja_sync.commands.cli import main\n"
        "main(['health', '--duckdb-path', 'none.duckdb'])  # sets up logging, then exits 1\n"
        "logging.getLogger('cja_sync').warning('name %s', '\\x1b]0;retitled\\x07')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.stderr.splitlines()[-1] == "cja-sync: name \\e]0;retitled\\x07", proc.stderr
