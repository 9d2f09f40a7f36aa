"""P6: `health` and `report` on Postgres right after the reference org's first sync.

A server with autovacuum off (the test server's case, and any server between autovacuum passes)
has no statistics on freshly loaded tables; the sync ANALYZEs what it wrote. With
`--p6-without-stats` the row also wipes those statistics (superuser needed) and times the same
commands again, to show what the ANALYZE buys."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

PG_URL = os.environ.get("CJA_BENCH_POSTGRES_URL", "postgresql://postgres:postgres@127.0.0.1:5432/test")


def p6(args: Any, workdir: Path, sim_cls: Any, settings: Any, row: Any, py: str) -> None:
    import psycopg2

    from cja_sync.run.sync import RunOptions, run_sync

    try:
        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except psycopg2.Error as exc:
        row("P6r", "Postgres health after a first sync", "no server", "-", None, str(exc).splitlines()[0])
        return
    os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = PG_URL
    dataset = f"cja_bench_{uuid.uuid4().hex[:8]}"
    sim = sim_cls(workdir, connections=args.connections, rate_limit="off", seed=args.seed)
    try:
        opts = RunOptions(destination="postgres", dataset_name=dataset, pipelines_dir=str(workdir / "p6"))
        t0 = time.monotonic()
        run_sync(settings(sim), opts)
        sync_s = time.monotonic() - t0
        autovacuum = _sql("SHOW autovacuum")[0][0]
        health_s, report_s = _time_readers(py, dataset, workdir, args.p6_timeout)
        ok = health_s is not None and report_s is not None and health_s < 30 and report_s < 60
        row(
            "P6r",
            f"{args.connections} conns, first Postgres sync (autovacuum {autovacuum})",
            f"health {_fmt(health_s)}, report {_fmt(report_s)}",
            "health < 30 s, report < 60 s",
            ok,
            f"(sync {sync_s:.0f} s)",
        )
        if args.p6_without_stats:
            _wipe_statistics(dataset)
            health_s, report_s = _time_readers(py, dataset, workdir, args.p6_timeout)
            row(
                "P6b",
                "same, statistics wiped (what a sync without ANALYZE leaves)",
                f"health {_fmt(health_s)}, report {_fmt(report_s)}",
                "for comparison",
                None,
            )
    finally:
        sim.stop()
        for suffix in ("", "_staging"):
            _sql(f'DROP SCHEMA IF EXISTS "{dataset}{suffix}" CASCADE', fetch=False)


def _time_readers(py: str, dataset: str, workdir: Path, timeout: float) -> tuple[float | None, float | None]:
    exe = str(Path(py).parent / "cja-sync")
    target = ["--destination", "postgres", "--dataset-name", dataset, "--pipelines-dir", str(workdir / "p6r")]
    out = []
    for cmd in ([exe, "health", *target], [exe, "report", *target, "--out", str(workdir / "p6.html")]):
        t0 = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            out.append(None)
            continue
        out.append(time.monotonic() - t0 if done.returncode in (0, 3) else None)
    return out[0], out[1]


def _wipe_statistics(dataset: str) -> None:
    rels = (
        "(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = '{dataset}')"
    )
    _sql(f"DELETE FROM pg_statistic WHERE starelid IN {rels}", fetch=False)
    _sql(f"UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid IN {rels}", fetch=False)


def _sql(statement: str, fetch: bool = True) -> list[tuple[Any, ...]]:
    import psycopg2

    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if fetch else []
    finally:
        conn.close()


def _fmt(seconds: float | None) -> str:
    return "timed out/failed" if seconds is None else f"{seconds:.1f} s"


def p6_sync(args: Any, child: Any, cmd: list[str]) -> tuple[dict[str, Any] | None, float, float, str]:
    """P6: the maximal org's first sync into a fresh Postgres schema, in a child process like P4's
    DuckDB sync; (result, wall s, peak RSS MB, stderr tail), result None without a server."""
    import psycopg2

    try:
        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except psycopg2.Error as exc:
        return None, 0.0, 0.0, "no server: " + str(exc).splitlines()[0]
    dataset = f"cja_bench_{uuid.uuid4().hex[:8]}"
    os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = PG_URL
    os.environ["CJA_BENCH_PG_DATASET"] = dataset
    try:
        res, wall, rss, err = child(cmd, args.p4_timeout * 2)
    finally:
        del os.environ["CJA_BENCH_PG_DATASET"]
        for suffix in ("", "_staging"):
            _sql(f'DROP SCHEMA IF EXISTS "{dataset}{suffix}" CASCADE', fetch=False)
    print(f"  P6 Postgres sync: {wall:.1f} s, peak RSS {rss:.0f} MB, {res}", flush=True)
    return res, wall, rss, err


def p6_row(
    runs: list[tuple[dict[str, Any] | None, float, float, str]],
    duck_walls: list[float],
    duck_rss: float,
    row: Any,
) -> None:
    """P6's row: the median Postgres sync against the median DuckDB sync of the same rounds."""
    ok = [r for r in runs if r[0] is not None]
    if len(ok) < len(runs) or not ok:
        err = next((r[3] for r in runs if r[0] is None), "no run")
        row(
            "P6",
            "maximal org into Postgres",
            "failed or no server",
            "<= 1.5x DuckDB time",
            False,
            f"[{err[-300:]}]",
        )
        return
    wall = statistics.median(r[1] for r in ok)
    duck_wall = statistics.median(duck_walls)
    ratio = wall / max(duck_wall, 0.01)
    row(
        "P6",
        "maximal org first sync into Postgres, beside P4's DuckDB sync",
        f"{wall:.1f} s = {ratio:.2f}x DuckDB ({duck_wall:.1f} s), medians of {len(ok)} rounds; peak RSS "
        f"{max(r[2] for r in ok):.0f} MB (DuckDB {duck_rss:.0f} MB)",
        "<= 1.5x DuckDB time",
        ratio <= 1.5,
        f"[last round: dlt steps {(ok[-1][0] or {}).get('steps')}]",
    )
