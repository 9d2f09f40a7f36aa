"""Row P4: the maximal org, a full sync against the floor (plain requests + Arrow + DuckDB), each
in a child process so its peak RSS is its own."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from harness import HERE, PY, ROOT, Sim, row, rss_mb

# ----------------------------------------------------------------------------- P4


def _child(
    cmd: list[str], timeout: float, sample: list[tuple[float, float]] | None = None
) -> tuple[dict[str, Any] | None, float, float, str]:
    """Run cmd, return (last-line JSON, wall s, peak RSS MB from wait4, stderr tail)."""
    err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - read back after the child exits
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT)
    out_lines: list[str] = []

    def reader() -> None:
        assert p.stdout is not None
        for line in p.stdout:
            out_lines.append(line)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    killed = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if sample is not None:
            sample.append((time.monotonic() - t0, rss_mb(p.pid)))
        if time.monotonic() - t0 > timeout and not killed:
            p.kill()
            killed = True
        time.sleep(0.25)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    th.join(5)
    err.seek(0)
    tail = err.read()[-2000:]
    result = None
    for line in reversed(out_lines):
        if line.startswith("{"):
            result = json.loads(line)
            break
    if killed:
        tail = f"KILLED after {timeout:.0f} s\n" + tail
    return result, wall, ru.ru_maxrss / 1024, tail


def p4(args: argparse.Namespace, workdir: Path) -> None:
    n, d = args.p4_connections, args.p4_datasets
    t0 = time.monotonic()
    sim = Sim(
        workdir,
        connections=n,
        datasets_per_connection=d,
        rate_limit="off",
        inline_backfills=args.p4_inline,
        seed=args.seed,
    )
    print(
        f"  P4 simulator up in {time.monotonic() - t0:.0f} s (generating the org included), "
        f"RSS {rss_mb(sim.proc.pid):.0f} MB",
        flush=True,
    )
    try:
        common = [
            "--sim-line",
            sim.address.line(),
            "--inline",
            args.p4_inline,
            "--concurrency",
            str(args.p4_concurrency),
        ]
        rounds = _rounds(args, workdir, common)
        sim_rss = sim.rss_mb()
    finally:
        sim.stop()
    label = f"{n} conns x {d} datasets, inline {args.p4_inline}"
    failed = [r for r in rounds if r["sync"] is None or r["floor"] is None]
    if failed:
        bad = failed[0]
        row(
            "P4",
            f"maximal org ({label})",
            f"sync {'killed/failed' if bad['sync'] is None else 'ok'} after {bad['wall']:.0f} s, peak RSS "
            f"{bad['rss']:.0f} MB; floor {bad['fwall']:.0f} s",
            "<= 2.5x floor, < 600 MB",
            False,
            f"[{(bad['err'] or bad['ferr']).strip().splitlines()[-1:]}]",
        )
        return
    # the host's speed drifts by up to ~25 % over minutes: each sync is set against the floor run
    # just before it, and the row shows the median round and the highest peak RSS of all rounds
    ratios = sorted(r["wall"] / max(r["fwall"], 0.01) for r in rounds)
    ratio = statistics.median(ratios)
    wall = statistics.median(r["wall"] for r in rounds)
    fwall = statistics.median(r["fwall"] for r in rounds)
    rss = max(r["rss"] for r in rounds)
    res, floor = rounds[-1]["sync"], rounds[-1]["floor"]
    bfs = res.get("rows", {}).get("backfills")
    spread = ", ".join(f"{x:.2f}" for x in ratios)
    row(
        "P4",
        f"maximal org full sync ({label}, {bfs} backfills)",
        f"{wall:.1f} s = {ratio:.1f}x floor ({fwall:.1f} s), median of {len(rounds)} rounds ({spread}); "
        f"peak RSS {rss:.0f} MB (floor {max(r['frss'] for r in rounds):.0f} MB)",
        "<= 2.5x floor, < 600 MB",
        ratio <= 2.5 and rss < 600,
        f"[last round: dlt steps {res.get('steps')}; publish {res.get('published')}; "
        f"floor steps {floor.get('steps')}; "
        f"list page {floor.get('list_page_mb')} MB; simulator peak RSS {sim_rss:.0f} MB]",
    )


def _rounds(args: argparse.Namespace, workdir: Path, common: list[str]) -> list[dict[str, Any]]:
    """`--p4-rounds` times: the floor, then the sync (then P6's Postgres sync when asked)."""
    rounds: list[dict[str, Any]] = []
    postgres: list[tuple[dict[str, Any] | None, float, float, str]] = []
    want_p6 = "P6" in args.rows.upper()
    for k in range(max(1, args.p4_rounds)):
        floor, fwall, frss, ferr = _child(
            [PY, str(HERE / "p4_child.py"), "floor", "--workdir", str(workdir / "p4f"), *common],
            args.p4_timeout,
        )
        print(f"  P4 floor {k + 1}: {fwall:.1f} s, peak RSS {frss:.0f} MB, {json.dumps(floor)}", flush=True)
        if floor is None:
            print(ferr, flush=True)
        samples: list[tuple[float, float]] = []
        shutil.rmtree(workdir / "p4s", ignore_errors=True)
        res, wall, rss, err = _child(
            [PY, str(HERE / "p4_child.py"), "sync", "--workdir", str(workdir / "p4s"), *common],
            args.p4_timeout,
            samples,
        )
        print(f"  P4 sync {k + 1}: {wall:.1f} s, peak RSS {rss:.0f} MB, {json.dumps(res)}", flush=True)
        if res is None:
            print(err, flush=True)
        if k == 0:
            timeline = " ".join(f"{t:.0f}s:{m:.0f}" for t, m in samples[:: max(1, len(samples) // 15)])
            print(f"  P4 sync RSS timeline (s:MB): {timeline}", flush=True)
        rounds.append(
            dict(floor=floor, fwall=fwall, frss=frss, ferr=ferr, sync=res, wall=wall, rss=rss, err=err)
        )
        if res is None or floor is None:
            break
        if want_p6:
            from p6_postgres import p6_sync

            shutil.rmtree(workdir / "p6s", ignore_errors=True)
            sync_cmd = [PY, str(HERE / "p4_child.py"), "sync", "--workdir", str(workdir / "p6s"), *common]
            postgres.append(p6_sync(args, _child, sync_cmd))
    if args.profile:
        _profile(args, workdir, common)
    if want_p6 and rounds[-1]["sync"] is not None:
        from p6_postgres import p6_row

        p6_row(postgres, [r["wall"] for r in rounds], max(r["rss"] for r in rounds), row)
    return rounds


def _profile(args: argparse.Namespace, workdir: Path, common: list[str]) -> None:
    """The P4 sync once more under py-spy; the speedscope file is kept in bench/out/ (not in git)."""
    prof = workdir / "p4.speedscope.json"
    cmd = [
        str(Path(PY).parent / "py-spy"),
        "record",
        "--format",
        "speedscope",
        "--rate",
        "25",
        "--subprocesses",
        "-o",
        str(prof),
        "--",
        PY,
        str(HERE / "p4_child.py"),
        "sync",
        "--workdir",
        str(workdir / "p4p"),
        *common,
    ]
    _pres, pwall, _prss, perr = _child(cmd, args.p4_timeout * 1.5)
    keep = HERE / "out"
    keep.mkdir(exist_ok=True)
    if prof.exists():
        shutil.copy(prof, keep / "p4.speedscope.json")
        print(f"  P4 profile ({pwall:.0f} s under py-spy): {keep / 'p4.speedscope.json'}", flush=True)
    else:
        print(f"  P4 profile failed: {perr[-500:]}", flush=True)
