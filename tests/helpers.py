"""Plain helpers for the tests, imported explicitly: settings pointing at a simulator (as values or
as dlt environment variables), the Postgres server's address, and SQL against a test warehouse."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cja_source.configuration import CJASourceConfiguration
from cja_source.simulator.settings import settings_for

PG_URL = os.environ.get("CJA_TEST_POSTGRES", "postgresql://postgres:postgres@127.0.0.1:5432/test")

# Retries fast and no client-side throttle: the simulator runs without a rate limit unless a test
# turns it on, and small pages make a 40-connection org take several.
FAST = {
    "page_size": 25,
    "backoff_base": 0.02,
    "max_attempts": 6,
    "requests_per_window": 10_000,
    "window_seconds": 1.0,
}


def fast_settings(sim: Any, **overrides: Any) -> CJASourceConfiguration:
    """settings_for(sim) with FAST under the test's own overrides."""
    return settings_for(sim, **{**FAST, **overrides})


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


DEMO_CONNECTIONS = "40"
# what the machine's environment could set for the examples: dropped around the demo
SETTINGS_PREFIXES = ("SOURCES__", "DESTINATION__", "CJA_SYNC__", "CJA_WRITER", "CJA_DUCKDB")


@dataclass(frozen=True)
class DemoRun:
    """`cja-sync demo` as run by the `demo_run` fixture: its arguments, exit code and output."""

    home: Path
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def file(self) -> Path:
        return self.home / "cja_demo.duckdb"


def quiet_main(args: list[str]) -> tuple[int, str, str]:
    """`cja-sync ARGS` in this process: (exit code, stdout, stderr)."""
    from cja_sync.commands.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()
