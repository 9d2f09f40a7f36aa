"""cja-sync benchmark: request counts, rate-limit behaviour, big-org cost, demo time.

    .venv/bin/python bench/run.py                      # every row (P4 takes minutes)
    .venv/bin/python bench/run.py --rows P1,P2,P3,P5   # skip the maximal org
    .venv/bin/python bench/run.py --rows P4 --p4-connections 200   # a smaller "maximal" org
    .venv/bin/python bench/run.py --rows P4 --profile  # also py-spy the P4 sync (speedscope file)
    .venv/bin/python bench/run.py --rows P6R --p6-without-stats  # Postgres readers after a first sync
    .venv/bin/python bench/run.py --rows P4,P6         # the maximal org into DuckDB, then Postgres
    .venv/bin/python bench/run.py --rows P7            # four orgs at 12 req / 6 s each, one warehouse
    .venv/bin/python bench/run.py --rows P8,P9,P10     # the maximal org re-synced idle / 1 % changed
    .venv/bin/python bench/run.py --rows P11           # data views and their components, first and re-syncs

Every simulator runs in its own process (`cja-sync simulate`). See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import PY, RESULTS, Sim, row, settings
from p1_p3 import p1_p2, p3
from p4 import p4

# ----------------------------------------------------------------------------- P5


def p5(args: argparse.Namespace, workdir: Path) -> None:
    d = workdir / "p5"
    d.mkdir()
    exe = Path(PY).parent / "cja-sync"
    cmd = [str(exe), "demo", "--duckdb-path", str(d / "demo.duckdb"), "--pipelines-dir", str(d / "pipelines")]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=d)
    wall = time.monotonic() - t0
    row(
        "P5",
        "cja-sync demo (fresh DuckDB file and pipelines dir)",
        f"{wall:.1f} s (exit {p.returncode})",
        "< 30 s",
        p.returncode == 0 and wall < 30,
        "" if p.returncode == 0 else p.stderr[-300:],
    )


# ----------------------------------------------------------------------------- main


def print_table() -> None:
    cols = ("row", "result", "scenario", "figure", "target")
    widths = {c: max(len(c), *(len(r[c]) for r in RESULTS)) for c in cols}
    line = " | ".join(c.ljust(widths[c]) for c in cols)
    print("\n" + line + "\n" + "-+-".join("-" * widths[c] for c in cols))
    for r in RESULTS:
        print(" | ".join(r[c].ljust(widths[c]) for c in cols))
    met = [r["row"] for r in RESULTS if r["result"] == "PASS"]
    missed = [r["row"] for r in RESULTS if r["result"] == "FAIL"]
    print(f"\ntargets met: {', '.join(met) or 'none'}; not met: {', '.join(missed) or 'none'}")


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GB RAM, Python {sys.version.split()[0]}, {sys.platform}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--rows",
        default="P1,P2,P3,P4,P5,P6,P6R,P7,P8,P9,P10,P11",
        help="comma list of P1..P11 (P6: maximal org into Postgres, needs P4; P6R: Postgres readers; "
        "P8-P10: re-syncs of the maximal org and its readers; P11: data views and components)",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--connections", type=int, default=573, help="P1/P2 org size (reference org: 573)")
    ap.add_argument("--k", type=int, default=5, help="P2: changed pairs")
    ap.add_argument("--p3-connections", type=int, default=20, help="P3 org size (20 -> ~105 backfill calls)")
    ap.add_argument("--p3-concurrency", type=int, default=10)
    ap.add_argument("--p4-connections", type=int, default=1000)
    ap.add_argument("--p4-datasets", type=int, default=100)
    ap.add_argument("--p4-inline", default="on", choices=("on", "off"))
    ap.add_argument("--p4-concurrency", type=int, default=8)
    ap.add_argument(
        "--p4-rounds", type=int, default=3, help="P4 (and P6): floor and sync this many times, alternately"
    )
    ap.add_argument("--p4-timeout", type=float, default=600, help="kill a P4 child after this many seconds")
    ap.add_argument("--profile", action="store_true", help="P4: also record the sync with py-spy")
    ap.add_argument("--p6-timeout", type=float, default=600, help="P6: give up on a reader after this")
    ap.add_argument(
        "--p6-without-stats", action="store_true", help="P6: also time readers without statistics"
    )
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    rows = {r.strip().upper() for r in args.rows.split(",") if r.strip()}
    workdir = Path(tempfile.mkdtemp(prefix="cja-bench-"))
    print(f"machine: {machine()}\nwork dir: {workdir}", flush=True)
    try:
        if rows & {"P1", "P2"}:
            p1_p2(args, workdir, rows)
        if "P3" in rows:
            p3(args, workdir)
        if "P4" in rows:
            p4(args, workdir)
        if "P5" in rows:
            p5(args, workdir)
        if "P6R" in rows:
            from p6_postgres import p6

            p6(args, workdir, Sim, settings, row, PY)
        if "P7" in rows:
            from p7_fleet import p7

            p7(args, workdir, Sim, settings, row)
        if rows & {"P8", "P9", "P10"}:
            from p8_p10 import p8_p10

            p8_p10(args, workdir)
        if "P11" in rows:
            from p11_data_views import p11

            p11(args, workdir)
    finally:
        if RESULTS:
            print_table()
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": machine(), "rows": RESULTS}, indent=1))
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r["result"] != "FAIL" for r in RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
