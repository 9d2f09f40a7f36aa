"""The CLI as the alert tests drive it: settings of a simulator in the environment, every output
kept for the token scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator.settings import settings_values
from cja_sync.commands.cli import main

from ..helpers import FAST, env_for


class Cli:
    """`cja-sync <command>` on one warehouse; `outputs` keeps every stdout and stderr."""

    def __init__(self, opts: Any, capsys: pytest.CaptureFixture[str]) -> None:
        self.opts, self.capsys = opts, capsys
        self.outputs: list[str] = []

    def where(self) -> list[str]:
        args = ["--destination", self.opts.destination, "--dataset-name", self.opts.dataset_name]
        args += ["--pipelines-dir", str(self.opts.pipelines_dir)]
        if self.opts.destination == "duckdb":
            args += ["--duckdb-path", self.opts.duckdb_path]
        return args

    def __call__(self, command: str, *args: str) -> tuple[int, str, str]:
        extra = ["--no-progress"] if command == "run" else []
        code = main([command, *self.where(), *extra, *args])
        captured = self.capsys.readouterr()
        self.outputs += [captured.out, captured.err]
        return code, captured.out, captured.err

    def health_new(self, *args: str) -> dict[str, Any]:
        code, out, _ = self("health", "--new", "--json", *args)
        assert code in (0, 3)
        return dict(json.loads(out)["new"])


def use_sim(monkeypatch: pytest.MonkeyPatch, sim: Any, **overrides: Any) -> None:
    """`[sources.cja]` of `sim` in the environment, as `cja-sync run` reads it."""
    for key, value in env_for(settings_values(sim, **{**FAST, **overrides})).items():
        monkeypatch.setenv(key, value)


def subjects(new: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """A webhook payload's `new` (items) as `health --new --json` lists it (subjects)."""
    return {condition: [item["subject"] for item in items] for condition, items in new.items()}


def files_holding(root: Path, token: str) -> list[str]:
    """Files under `root` whose bytes hold `token`."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and token.encode() in path.read_bytes():
            found.append(str(path))
    return found


def text_cells_holding(sql_rows: list[tuple[Any, ...]], token: str) -> list[tuple[Any, ...]]:
    return [row for row in sql_rows if any(token in str(cell) for cell in row)]
