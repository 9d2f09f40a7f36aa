"""Shared fixtures: a simulator per test, settings pointing at it, warehouses under tmp_path,
and the real Postgres server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")

PG_URL = os.environ.get("CJA_TEST_POSTGRES", "postgresql://postgres:postgres@127.0.0.1:5432/test")
DEFAULT_CREDS = {
    "client_id": "cja-demo",
    "client_secret": "cja-demo-secret",
    "org_id": "DEMO0000000000000000000@AdobeOrg",
}


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
def settings_for() -> Callable[..., Any]:
    from cja_source.configuration import load_settings

    def make(sim: Any, creds: dict[str, str] | None = None, **kw: Any) -> Any:
        explicit = {
            "base_url": sim.base_url,
            "token_url": sim.token_url,
            "page_size": 25,
            "backoff_base": 0.02,
            "max_attempts": 6,
            # the simulator runs without a rate limit unless a test turns it on
            "requests_per_window": 10_000,
            "window_seconds": 1.0,
            "credentials": {**DEFAULT_CREDS, **(creds or {})},
            **kw,
        }
        return load_settings(explicit)

    return make


@pytest.fixture
def duckdb_opts(tmp_path: Path) -> Callable[..., Any]:
    from cja_sync.sync import RunOptions

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
def pg_opts(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """RunOptions for a fresh schema in the real Postgres; in CI a missing server is a failure."""
    import psycopg2

    from cja_sync.sync import RunOptions

    if not _postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (CI=true: Postgres tests must run)")
        pytest.skip("PostgreSQL is not reachable")
    os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = PG_URL
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


def query(opts: Any, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL against the warehouse of `opts`; `{t}` in the text becomes the qualified table prefix."""
    if opts.destination == "duckdb":
        import duckdb

        with duckdb.connect(opts.duckdb_path, read_only=True) as db:
            return db.sql(sql.format(t=f"{opts.dataset_name}.")).fetchall()
    import psycopg2

    conn = psycopg2.connect(PG_URL)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.format(t=f'"{opts.dataset_name}".'))
            return cur.fetchall()
    finally:
        conn.close()


def table_exists(opts: Any, table: str) -> bool:
    sql = (
        "SELECT count(*) FROM information_schema.tables "
        f"WHERE table_schema = '{opts.dataset_name}' AND table_name = '{table}'"
    )
    if opts.destination == "duckdb" and not Path(opts.duckdb_path).exists():
        return False
    return query(opts, sql)[0][0] == 1
