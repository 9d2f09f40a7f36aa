"""Fixtures for the fault-injection matrix: a simulator with a distinctive credential, settings
scaled down in time, the CLI in-process and as a subprocess, and a guard that fails any test
whose output, logs, pipeline directory or warehouse file holds the client secret or a token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CLIENT_ID = "rel-client-5b1e"
CLIENT_SECRET = "rel-SECRET-q8Zx3vT7wK2m"  # distinctive: must never appear anywhere we write
ORG_ID = "REL0A1B2C3D4E5F6A7B8C9D0@AdobeOrg"
CREDS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "org_id": ORG_ID}
HOOKED_CLI = Path(__file__).with_name("hooked_cli.py")
REPO = Path(__file__).resolve().parents[2]

# Time scaled down: the service's 12 requests / 6 s becomes 12 / 0.6 s.
WINDOW = 0.6
LIMIT = 12
FAST = {"backoff_base": 0.02, "max_attempts": 6, "page_size": 10}


@dataclass
class Guard:
    """What must stay secret, and text produced outside pytest's capture (subprocess output)."""

    secrets: set[str] = field(default_factory=lambda: {CLIENT_SECRET})
    sims: list[Any] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def issued_tokens(self) -> set[str]:
        out: set[str] = set()
        for sim in self.sims:
            with sim.gateway._lock:
                out.update(sim.gateway._tokens)
        return out


def _leaks(blob: bytes, secrets: set[str]) -> list[str]:
    return [s[:6] + "…" for s in secrets if s.encode() in blob]


@pytest.fixture(autouse=True)
def guard(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Iterator[Guard]:
    g = Guard()
    yield g
    secrets = g.secrets | g.issued_tokens()
    assert len(secrets) > 1 or not g.sims or not any(s.count("token", 200) for s in g.sims)
    out, err = capfd.readouterr()
    found = {}
    for name, text in (
        ("stdout", out),
        ("stderr", err),
        ("log", caplog.text),
        *(("subprocess", t) for t in g.texts),
    ):
        leaks = _leaks(text.encode(), secrets)
        if leaks:
            found[name] = leaks
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink():
            leaks = _leaks(path.read_bytes(), secrets)
            if leaks:
                found[str(path.relative_to(tmp_path))] = leaks
    assert not found, f"a secret or token was written: {found}"


@pytest.fixture
def rsim(guard: Guard) -> Iterator[Callable[..., Any]]:
    """A simulator with the distinctive credential, rate limit off unless asked for."""
    from cja_source.simulator import SimConfig, Simulator

    def make(**kw: Any) -> Any:
        kw.setdefault("seed", 7)
        kw.setdefault("connections", 30)
        kw.setdefault("rate_limit", None)
        kw.setdefault("max_datasets_per_connection", 4)
        sim = Simulator(SimConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_id=ORG_ID, **kw))
        sim.start()
        guard.sims.append(sim)
        return sim

    yield make
    for sim in guard.sims:
        sim.stop()


def settings_values(sim: Any, creds: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "base_url": sim.base_url,
        "token_url": sim.token_url,
        "requests_per_window": 10_000,
        "window_seconds": 1.0,
        **FAST,
        "credentials": {**CREDS, **(creds or {})},
        **kw,
    }


@pytest.fixture
def rsettings() -> Callable[..., Any]:
    from cja_source.configuration import load_settings

    def make(sim: Any, creds: dict[str, str] | None = None, **kw: Any) -> Any:
        return load_settings(settings_values(sim, creds, **kw))

    return make


def env_for(values: dict[str, Any]) -> dict[str, str]:
    """The settings as dlt environment variables."""
    env: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                env[f"SOURCES__CJA__{key.upper()}__{sub.upper()}"] = str(v)
        else:
            env[f"SOURCES__CJA__{key.upper()}"] = str(value)
    return env


@dataclass
class Cli:
    """`cja-sync run` against one warehouse under tmp_path, in-process or as a subprocess."""

    tmp_path: Path
    guard: Guard
    monkeypatch: pytest.MonkeyPatch
    capfd: pytest.CaptureFixture[str]

    @property
    def duckdb_path(self) -> str:
        return str(self.tmp_path / "warehouse.duckdb")

    @property
    def pipelines_dir(self) -> str:
        return str(self.tmp_path / "pipelines")

    def args(self, *extra: str) -> list[str]:
        return ["run", "--duckdb-path", self.duckdb_path, "--pipelines-dir", self.pipelines_dir, *extra]

    def opts(self, **kw: Any) -> Any:
        from cja_sync.sync import RunOptions

        return RunOptions(duckdb_path=self.duckdb_path, pipelines_dir=self.pipelines_dir, **kw)

    def run(self, values: dict[str, Any], *extra: str) -> tuple[int, str, str]:
        """In-process `cja-sync run`: (exit code, stdout, stderr)."""
        from cja_sync.cli import main

        for key in [k for k in os.environ if k.startswith("SOURCES__CJA__")]:
            self.monkeypatch.delenv(key)
        for key, value in env_for(values).items():
            self.monkeypatch.setenv(key, value)
        self.capfd.readouterr()
        code = main(self.args(*extra))
        out, err = self.capfd.readouterr()
        self.guard.texts.append(out + err)
        return code, out, err

    def subprocess_env(self, values: dict[str, Any], **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
        env.update(env_for(values))
        env.update(
            HOME=str(self.tmp_path / "home"),  # anything dlt writes globally lands here and is scanned
            PYTHONPATH=str(REPO),
            RUNTIME__DLTHUB_TELEMETRY="false",
            **extra,
        )
        return env

    def spawn(
        self, values: dict[str, Any], *extra: str, cwd: Path | None = None, **env: str
    ) -> subprocess.Popen[str]:
        (self.tmp_path / "home").mkdir(exist_ok=True)
        return subprocess.Popen(
            [sys.executable, str(HOOKED_CLI), *self.args(*extra)],
            env=self.subprocess_env(values, **env),
            cwd=str(cwd or self.tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def collect(self, proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
        out, err = proc.communicate(timeout=timeout)
        self.guard.texts.append(out + err)
        return proc.returncode, out, err


@pytest.fixture
def cli(
    tmp_path: Path, guard: Guard, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Cli:
    return Cli(tmp_path, guard, monkeypatch, capfd)


def runs(opts: Any) -> list[tuple[Any, ...]]:
    """sync_runs as (status, error), oldest first."""
    from ..conftest import query

    return query(opts, "SELECT status, error FROM {t}sync_runs ORDER BY started_at")


def data_tables(opts: Any) -> set[str]:
    from ..conftest import query

    if not Path(opts.duckdb_path).exists():
        return set()
    names = query(
        opts, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{opts.dataset_name}'"
    )
    return {n for (n,) in names if not n.startswith("_dlt") and n != "sync_runs"}


def snapshot(opts: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows, for 'unchanged' checks."""
    from ..conftest import query

    out = {}
    for table in sorted(data_tables(opts)):
        cols = [
            c
            for (c,) in query(
                opts,
                "SELECT column_name FROM information_schema.columns "
                f"WHERE table_schema = '{opts.dataset_name}' AND table_name = '{table}' ORDER BY column_name",
            )
        ]
        select = ", ".join(f'"{c}"' for c in cols)
        out[table] = sorted(map(repr, query(opts, f"SELECT {select} FROM {{t}}{table}")))
    return out
