"""Rows P8-P10: what the hourly run costs on the maximal org when little or nothing changed.

P8: a first sync, then a re-sync with nothing changed, each in a child process (wall, peak RSS,
rows handed to dlt); on Postgres also the rows the idle re-sync wrote, counted by the server
(`pg_stat_user_tables`: inserted + updated + deleted tuples, over the dataset and its staging
dataset). P9: `cja-sync report` and `cja-sync health` of that warehouse as processes (peak RSS).
P10: 1 % of the connections changed through the simulator's admin routes, then a re-sync."""

from __future__ import annotations

import argparse
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from harness import HERE, PY, Sim, row
from p4 import _child
from p6_postgres import PG_URL, _sql

# tables whose rows an idle run writes by design: its own run record, one volume point per
# connection, and health_alerts (its redesign is another issue): shown apart
BY_DESIGN = ("sync_runs", "connection_volume_history", "health_alerts")


def _sync(args: argparse.Namespace, common: list[str], workdir: Path) -> tuple[Any, float, float, str]:
    return _child(
        [PY, str(HERE / "p4_child.py"), "sync", "--workdir", str(workdir), *common], args.p4_timeout
    )


def _written_rows(dataset: str) -> dict[str, int]:
    rows = _sql(
        "SELECT schemaname, relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
        f"WHERE schemaname IN ('{dataset}', '{dataset}_staging')"
    )
    return {f"{'staging.' if s.endswith('_staging') else ''}{t}": int(n) for s, t, n in rows}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: n - before.get(t, 0) for t, n in sorted(after.items()) if n - before.get(t, 0)}


def _change_connections(sim: Sim, duckdb_path: Path, share: float) -> int:
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM cja.connections ORDER BY id").fetchall()]
    chosen = ids[:: max(1, round(1 / share))]
    for k, cid in enumerate(chosen):
        sim.admin("modify_connection", {"connectionId": cid, "fields": {"description": f"changed {k}"}})
    return len(chosen)


def p8_p10(args: argparse.Namespace, workdir: Path) -> None:
    n, d = args.p4_connections, args.p4_datasets
    sim = Sim(
        workdir,
        connections=n,
        datasets_per_connection=d,
        rate_limit="off",
        inline_backfills="on",
        seed=args.seed,
    )
    label = f"{n} conns x {d} datasets"
    common = ["--sim-line", sim.address.line(), "--inline", "on", "--concurrency", str(args.p4_concurrency)]
    try:
        wd = workdir / "p8"
        shutil.rmtree(wd, ignore_errors=True)
        first, fwall, frss, ferr = _sync(args, common, wd)
        idle, iwall, irss, ierr = _sync(args, common, wd)
        print(f"  P8 first {fwall:.1f} s {frss:.0f} MB; idle {iwall:.1f} s {irss:.0f} MB", flush=True)
        if first is None or idle is None:
            row("P8", f"idle re-sync ({label})", "sync failed", "-", False, (ferr or ierr)[-300:])
            return
        # run_sync's own wall (the child's imports, ~3 s on this host, are the same in both)
        sync_first, sync_idle = first["wall_seconds"], idle["wall_seconds"]
        ratio = sync_idle / max(sync_first, 0.01)
        written = {t: v for t, v in idle["rows"].items() if v}
        row(
            "P8",
            f"idle re-sync of the maximal org, DuckDB ({label})",
            f"{sync_idle:.1f} s = {ratio:.2f}x the first sync ({sync_first:.1f} s, {frss:.0f} MB); "
            f"peak RSS {irss:.0f} MB",
            "<= 0.25x first sync, < 300 MB",
            ratio <= 0.25 and irss < 300,
            f"[processes: {iwall:.1f} s vs {fwall:.1f} s = {iwall / max(fwall, 0.01):.2f}x; "
            f"rows handed to dlt: {written}; dlt steps {idle.get('steps')}]",
        )
        _p9(args, wd / "p4_sync.duckdb", workdir)
        _p8_postgres(args, common, workdir, label)
        changed = _change_connections(sim, wd / "p4_sync.duckdb", 0.01)
        res, cwall, crss, cerr = _sync(args, common, wd)
        if res is None:
            row("P10", f"re-sync, {changed} connections changed", "sync failed", "-", False, cerr[-300:])
            return
        row(
            "P10",
            f"re-sync with 1 % of connections changed ({changed} of {n}), DuckDB",
            f"{res['wall_seconds']:.1f} s = {res['wall_seconds'] / max(sync_first, 0.01):.2f}x the first "
            f"sync; peak RSS {crss:.0f} MB",
            "for comparison with P8",
            None,
            f"[rows handed to dlt: { {t: v for t, v in res['rows'].items() if v} }]",
        )
    finally:
        sim.stop()


def _p9(args: argparse.Namespace, duckdb_path: Path, workdir: Path) -> None:
    exe = str(Path(PY).parent / "cja-sync")
    target = ["--duckdb-path", str(duckdb_path), "--pipelines-dir", str(workdir / "p9")]
    figures = {}
    for name, cmd in (
        ("report", [exe, "report", *target, "--out", str(workdir / "p9.html")]),
        ("health", [exe, "health", *target, "--all"]),
    ):
        _res, wall, rss, err = _child(cmd, args.p4_timeout)
        # a command that failed says so in its one line on stderr ("cja-sync: report failed: ...")
        ok = "cja-sync:" not in err and (name != "report" or (workdir / "p9.html").is_file())
        figures[name] = (wall, rss, ok)
        print(f"  P9 {name}: {wall:.1f} s, peak RSS {rss:.0f} MB {err[-200:].strip()}", flush=True)
    failed = [name for name, (_w, _r, ok) in figures.items() if not ok]
    row(
        "P9",
        "report and health of the maximal org (DuckDB)",
        f"report {figures['report'][1]:.0f} MB ({figures['report'][0]:.1f} s), "
        f"health {figures['health'][1]:.0f} MB ({figures['health'][0]:.1f} s)"
        + (f"; FAILED: {', '.join(failed)}" if failed else ""),
        "report < 400 MB",
        figures["report"][1] < 400 and not failed,
    )


def _p8_postgres(args: argparse.Namespace, common: list[str], workdir: Path, label: str) -> None:
    import psycopg2

    try:
        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except psycopg2.Error as exc:
        row("P8pg", "idle re-sync into Postgres", "no server", "-", None, str(exc).splitlines()[0])
        return
    dataset = f"cja_bench_{uuid.uuid4().hex[:8]}"
    os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = PG_URL
    os.environ["CJA_BENCH_PG_DATASET"] = dataset
    wd = workdir / "p8pg"
    try:
        first, fwall, _frss, ferr = _sync(args, common, wd)
        time.sleep(1.5)  # the server publishes a backend's counters when it is idle
        before = _written_rows(dataset)
        idle, iwall, irss, ierr = _sync(args, common, wd)
        time.sleep(1.5)
        delta = _delta(before, _written_rows(dataset))
        if first is None or idle is None:
            row("P8pg", "idle re-sync into Postgres", "sync failed", "-", False, (ferr or ierr)[-300:])
            return
        apart = {t: n for t, n in delta.items() if t.removeprefix("staging.") in BY_DESIGN}
        counted = sum(n for t, n in delta.items() if t not in apart)
        row(
            "P8pg",
            f"idle re-sync of the maximal org, Postgres ({label})",
            f"{counted} rows written (dataset + staging, {', '.join(BY_DESIGN)} aside: {apart}); "
            f"{idle['wall_seconds']:.1f} s = {idle['wall_seconds'] / max(first['wall_seconds'], 0.01):.2f}x "
            f"the first sync; peak RSS {irss:.0f} MB",
            "< 2,000 rows",
            counted < 2000,
            f"[written per table: {delta}]",
        )
    finally:
        os.environ.pop("CJA_BENCH_PG_DATASET", None)
        for suffix in ("", "_staging"):
            _sql(f'DROP SCHEMA IF EXISTS "{dataset}{suffix}" CASCADE', fetch=False)
