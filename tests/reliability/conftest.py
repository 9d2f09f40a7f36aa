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
import requests

from cja_source.simulator.settings import SimAddress

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


class SimProcess:
    """`cja-sync simulate` in a process of its own, with the distinctive credential. A simulator in
    the test's process shares its interpreter lock, so any stall of ours delays the moment the
    simulated gateway counts a request, as no network would; timing tests need one outside."""

    def __init__(self, tmp_path: Path, **opts: Any) -> None:
        args = [sys.executable, "-m", "cja_source.simulator", "--port", "0", "--seed", "7"]
        args += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--org-id", ORG_ID]
        for k, v in opts.items():
            args += [f"--{k.replace('_', '-')}", str(v)]
        self._log = open(tmp_path / "simulator.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=REPO)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("base_url="):
            self.stop()
            raise RuntimeError(f"simulator did not start: {line!r}")
        self.address = SimAddress.from_line(line)

    def get(self, what: str) -> Any:
        r = requests.get(f"{self.address.base_url}/__admin/{what}", timeout=60)
        r.raise_for_status()
        return r.json()

    def admin(self, action: str, body: dict[str, Any]) -> Any:
        r = requests.post(f"{self.address.base_url}/__admin/{action}", json=body, timeout=60)
        r.raise_for_status()
        return r.json()

    def count(self, status: int | None = None) -> int:
        """Data requests (the token endpoint aside), of one status when given."""
        return sum(
            n
            for endpoint, by_status in self.get("counters").items()
            if endpoint != "token"
            for s, n in by_status.items()
            if status is None or s == str(status)
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[Callable[..., SimProcess]]:
    started: list[SimProcess] = []

    def make(**opts: Any) -> SimProcess:
        workdir = tmp_path / f"sim{len(started)}"
        workdir.mkdir()
        started.append(SimProcess(workdir, **opts))
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
