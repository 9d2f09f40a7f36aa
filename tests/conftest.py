"""Fixtures: a simulator per test, warehouses under tmp_path, the real Postgres server, and
os.environ restored after every test. Plain helpers live in tests/helpers.py."""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _isolate_from_the_developer() -> None:
    """A developer's own settings must not steer the tests: their environment (dlt's SOURCES__,
    DESTINATION__, ... and CJA_SYNC__) is dropped, dlt's global folder (~/.dlt: secrets, pipelines)
    is a fresh one, and the project folder dlt reads holds the repository's example config.toml but
    never a secrets.toml that sits beside it (real credentials, or org blocks that would turn every
    run into a fleet run). A test that wants a `.dlt` of its own points DLT_PROJECT_DIR at it."""
    prefixes = ("SOURCES__", "DESTINATION__", "CJA_SYNC__", "NORMALIZE__", "EXTRACT__", "LOAD__", "RUNTIME__")
    for key in list(os.environ):
        if key.startswith(prefixes) or key in ("DLT_PROJECT_DIR", "DLT_DATA_DIR"):
            del os.environ[key]
    home = Path(tempfile.mkdtemp(prefix="cja-tests-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    (home / "project" / ".dlt").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / ".dlt" / "config.toml", home / "project" / ".dlt")
    os.environ["DLT_PROJECT_DIR"] = str(home / "project")
    os.environ["DLT_DATA_DIR"] = str(home / "dlt")


_isolate_from_the_developer()
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")

from .helpers import DEMO_CONNECTIONS, PG_URL, SETTINGS_PREFIXES, DemoRun, quiet_main  # noqa: E402 - the log level is set before anything imports dlt


@pytest.fixture(autouse=True)
def restore_environ() -> Iterator[None]:
    """Whatever a test puts in os.environ (dlt reads its settings from there) ends with the test."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Any]]:
    from cja_source.simulator import SimConfig, Simulator

    started: list[Any] = []

    def make(**kw: Any) -> Any:
        kw.setdefault("seed", 1)
        kw.setdefault("connections", 40)
        kw.setdefault("rate_limit", None)
        sim = Simulator(SimConfig(**kw)).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def duckdb_opts(tmp_path: Path) -> Callable[..., Any]:
    from cja_sync.run.sync import RunOptions

    def make(**kw: Any) -> Any:
        kw.setdefault("duckdb_path", str(tmp_path / "warehouse.duckdb"))
        kw.setdefault("pipelines_dir", str(tmp_path / "pipelines"))
        return RunOptions(destination="duckdb", **kw)

    return make


def _postgres_reachable() -> bool:
    import psycopg2

    try:
        psycopg2.connect(PG_URL, connect_timeout=3).close()
        return True
    except psycopg2.Error:
        return False


@pytest.fixture
def pg_opts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """RunOptions for a fresh schema in the real Postgres; in CI a missing server is a failure."""
    import psycopg2

    from cja_sync.run.sync import RunOptions

    if not _postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (CI=true: Postgres tests must run)")
        pytest.skip("PostgreSQL is not reachable")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", PG_URL)
    schemas: list[str] = []

    def make(**kw: Any) -> Any:
        name = kw.pop("dataset_name", None) or f"cja_t_{uuid.uuid4().hex[:10]}"
        schemas.append(name)
        kw.setdefault("pipelines_dir", str(tmp_path / "pipelines_pg"))
        return RunOptions(destination="postgres", dataset_name=name, **kw)

    yield make
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in schemas:
            for suffix in ("", "_staging"):
                cur.execute(f'DROP SCHEMA IF EXISTS "{name}{suffix}" CASCADE')
    conn.close()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The README's `cja-sync demo` (40 connections, ./cja_demo.duckdb), run once per test run:
    eight syncs take ~20 s, and the docs' examples, the demo's own test and the readers all read it.
    The first worker to ask runs it in a directory the workers share, under a lock the other waits
    on; a test that writes copies the file first."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one run's workers
    home = shared / "demo_home"
    args = ("demo", "--connections", DEMO_CONNECTIONS, "--pipelines-dir", str(home / "pipelines"))
    result = home / "demo_run.json"
    with open(shared / "demo_home.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not result.exists():
                home.mkdir(exist_ok=True)
                with pytest.MonkeyPatch.context() as mp:
                    for name in list(os.environ):
                        if name.startswith(SETTINGS_PREFIXES):
                            mp.delenv(name)
                    mp.chdir(home)
                    code, out, err = quiet_main(list(args))
                result.write_text(json.dumps({"code": code, "out": out, "err": err}))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    ran = json.loads(result.read_text())
    assert ran["code"] == 0, ran["err"]
    assert (home / "cja_demo.duckdb").is_file(), ran["out"]
    return DemoRun(home, args, ran["code"], ran["out"], ran["err"])
