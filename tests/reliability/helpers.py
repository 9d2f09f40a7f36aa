"""Plain helpers for the fault-injection matrix, imported explicitly: the distinctive credential,
settings scaled down in time, and what a warehouse holds after a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cja_source.configuration import CJASourceConfiguration
from cja_source.simulator.settings import settings_for, settings_values

from ..helpers import FAST, query

CLIENT_ID = "rel-client-5b1e"
CLIENT_SECRET = "rel-SECRET-q8Zx3vT7wK2m"  # distinctive: must never appear anywhere we write
ORG_ID = "REL0A1B2C3D4E5F6A7B8C9D0@AdobeOrg"
CREDS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "org_id": ORG_ID}
HOOKED_CLI = Path(__file__).with_name("hooked_cli.py")
REPO = Path(__file__).resolve().parents[2]

# Time scaled down: the service's 12 requests / 6 s becomes 12 / 0.6 s.
WINDOW = 0.6
LIMIT = 12


def rel_values(sim: Any, **overrides: Any) -> dict[str, Any]:
    """settings_values(sim) with FAST and pages of 10 under the test's own overrides."""
    return settings_values(sim, **{**FAST, "page_size": 10, **overrides})


def rel_settings(sim: Any, **overrides: Any) -> CJASourceConfiguration:
    return settings_for(sim, **{**FAST, "page_size": 10, **overrides})


def runs(opts: Any) -> list[tuple[Any, ...]]:
    """sync_runs as (status, error), oldest first."""
    return query(opts, "SELECT status, error FROM {t}sync_runs ORDER BY started_at")


def data_tables(opts: Any) -> set[str]:
    if not Path(opts.duckdb_path).exists():
        return set()
    names = query(
        opts, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{opts.dataset_name}'"
    )
    return {n for (n,) in names if not n.startswith("_dlt") and n != "sync_runs"}


def snapshot(opts: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows, for 'unchanged' checks."""
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
