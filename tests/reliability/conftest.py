"""Fixtures for the fault-injection matrix: a simulator with a distinctive credential, the CLI
in-process and as a subprocess, and a guard that fails any test whose output, logs, pipeline
directory or warehouse file holds the client secret or a token. Plain helpers: helpers.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cja_source.simulator.process import SimulatorProcess

from ..helpers import env_for
from .helpers import CLIENT_ID, CLIENT_SECRET, HOOKED_CLI, ORG_ID, REPO


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


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[Callable[..., SimulatorProcess]]:
    """A simulator in its own process with the distinctive credential: for tests of timing, where
    one in pytest's interpreter would see our stalls as network jitter."""
    started: list[SimulatorProcess] = []

    def make(**opts: Any) -> SimulatorProcess:
        credential = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "org_id": ORG_ID}
        log = tmp_path / f"simulator-{len(started)}.log"
        started.append(SimulatorProcess(log, cwd=REPO, seed=7, **credential, **opts))
        return started[-1]

    yield make
    for sim in started:
        sim.stop()


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
        from cja_sync.run.sync import RunOptions

        return RunOptions(duckdb_path=self.duckdb_path, pipelines_dir=self.pipelines_dir, **kw)

    def run(self, values: dict[str, Any], *extra: str) -> tuple[int, str, str]:
        """In-process `cja-sync run`: (exit code, stdout, stderr)."""
        from cja_sync.commands.cli import main

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
            # a test's own working directory is also where dlt looks for its `.dlt` (tests/conftest.py)
            env=self.subprocess_env(values, **({"DLT_PROJECT_DIR": str(cwd)} if cwd else {}), **env),
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
