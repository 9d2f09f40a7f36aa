"""Rows and bytes per sync of the history tables (issue 14), measured on the reference org in a
fresh Postgres schema: one first sync, then `--syncs` re-syncs with `--changes` backfills finishing
before each. Prints rows/sync and bytes/row per table and a year of hourly syncs extrapolated.

    .venv/bin/python bench/history_storage.py            # needs the local test Postgres
"""

from __future__ import annotations

import argparse
import os
import uuid
from typing import Any

import psycopg2

from cja_source.configuration import load_settings
from cja_source.simulator import SimConfig, Simulator
from cja_sync.run.sync import RunOptions, run_sync

URL = os.environ.get("CJA_BENCH_POSTGRES_URL", "postgresql://postgres:postgres@127.0.0.1:5432/test")
TABLES = ("connection_volume_history", "backfill_status_changes", "health_alerts")
SYNCS_PER_YEAR = 24 * 365


def sizes(conn: Any, schema: str) -> dict[str, tuple[int, int]]:
    out = {}
    with conn.cursor() as cur:
        for t in TABLES:
            cur.execute(f'SELECT count(*), pg_total_relation_size(\'"{schema}".{t}\') FROM "{schema}".{t}')
            out[t] = cur.fetchone()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--syncs", type=int, default=6)
    ap.add_argument("--changes", type=int, default=3)
    args = ap.parse_args()
    os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = URL
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    schema = f"cja_bench_history_{uuid.uuid4().hex[:6]}"
    conn = psycopg2.connect(URL)
    conn.autocommit = True
    with Simulator(SimConfig(seed=42, connections=573, rate_limit=None)) as sim:
        cfg = load_settings(
            {
                "base_url": sim.base_url,
                "token_url": sim.token_url,
                "page_size": 1000,
                "requests_per_window": 10_000,
                "window_seconds": 1.0,
                "credentials": {
                    "client_id": "cja-demo",
                    "client_secret": "cja-demo-secret",
                    "org_id": "DEMO0000000000000000000@AdobeOrg",
                },
            }
        )
        opts = RunOptions(destination="postgres", dataset_name=schema, pipelines_dir=f"/tmp/{schema}")
        try:
            run_sync(cfg, opts)
            first = sizes(conn, schema)
            open_ids = sorted(b for b, v in sim.truth().backfills.items() if v["status"] == "IN_PROGRESS")
            for i in range(args.syncs):
                for bid in open_ids[i * args.changes : (i + 1) * args.changes]:
                    sim.set_backfill_status(bid, "COMPLETED")
                run_sync(cfg, opts)
            last = sizes(conn, schema)
        finally:
            with conn.cursor() as cur:
                for name in (schema, f"{schema}_staging"):
                    cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    for t in TABLES:
        rows = (last[t][0] - first[t][0]) / args.syncs
        per_row = last[t][1] / max(1, last[t][0])
        print(
            f"{t}: first sync {first[t][0]} rows; then {rows:g} rows/sync, {per_row:.0f} bytes/row; "
            f"a year of hourly syncs at that rate: {rows * SYNCS_PER_YEAR / 1e6:.2f} M rows, "
            f"{rows * SYNCS_PER_YEAR * per_row / 1e9:.2f} GB"
        )


if __name__ == "__main__":
    main()
