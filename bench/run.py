"""cja-sync benchmark: request counts, rate-limit behaviour, big-org cost, demo time.

    .venv/bin/python bench/run.py                      # every row (P4 takes minutes)
    .venv/bin/python bench/run.py --rows P1,P2,P3,P5   # skip the maximal org
    .venv/bin/python bench/run.py --rows P4 --p4-connections 200   # a smaller "maximal" org
    .venv/bin/python bench/run.py --rows P4 --profile  # also py-spy the P4 sync (speedscope file)
    .venv/bin/python bench/run.py --rows P6R --p6-without-stats  # Postgres readers after a first sync
    .venv/bin/python bench/run.py --rows P4,P6         # the maximal org into DuckDB, then Postgres
    .venv/bin/python bench/run.py --rows P7            # four orgs at 12 req / 6 s each, one warehouse

Every simulator runs in its own process (bench/sim.py). See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

import requests  # noqa: E402

RESULTS: list[dict[str, Any]] = []


def row(rid: str, scenario: str, figure: str, target: str, ok: bool | None, detail: str = "") -> None:
    r = {
        "row": rid,
        "scenario": scenario,
        "figure": figure,
        "target": target,
        "result": "PASS" if ok else ("FAIL" if ok is not None else "n/a"),
        "detail": detail,
    }
    RESULTS.append(r)
    print(f"  [{r['result']}] {rid} {scenario}: {figure} (target {target}) {detail}", flush=True)


# ----------------------------------------------------------------------------- simulator process


class Sim:
    def __init__(self, workdir: Path, **opts: Any) -> None:
        args = [PY, str(HERE / "sim.py"), "--port", "0"]
        for k, v in opts.items():
            args += [f"--{k.replace('_', '-')}", str(v)]
        self.log = open(workdir / f"sim-{os.getpid()}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.line = self.proc.stdout.readline().strip()
        if not self.line.startswith("base_url="):
            raise RuntimeError(f"simulator did not start: {self.line!r}")
        self.info = dict(p.split("=", 1) for p in self.line.split())
        self.base = self.info["base_url"]

    def admin(self, action: str, body: dict[str, Any] | None = None) -> Any:
        r = requests.post(f"{self.base}/__admin/{action}", json=body or {}, timeout=120)
        r.raise_for_status()
        return r.json()

    def get(self, what: str) -> Any:
        r = requests.get(f"{self.base}/__admin/{what}", timeout=600)
        r.raise_for_status()
        return r.json()

    def rss_mb(self) -> float:
        return _rss_mb(self.proc.pid, "VmHWM")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ----------------------------------------------------------------------------- in-process syncs


def settings(sim: Sim, **kw: Any) -> Any:
    from cja_source.configuration import load_settings

    explicit = {
        "base_url": sim.info["base_url"],
        "token_url": sim.info["token_url"],
        "page_size": 1000,
        "requests_per_window": 1_000_000,  # throttle off unless a row turns it on
        "window_seconds": 1,
        "max_concurrency": 8,
        "backfills": "auto",
        "credentials": {k: sim.info[k] for k in ("client_id", "client_secret", "org_id")},
    }
    explicit.update(kw)
    return load_settings(explicit)


def endpoint_of(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/ims/token/v3"):
        return "token"
    if path.endswith("/backfills"):
        return "backfills"
    if path.endswith("/configurationSettings"):
        return "configurationSettings"
    if path.endswith("/data/connections"):
        return "list"
    return "get"


def sync(
    sim: Sim, workdir: Path, name: str, **kw: Any
) -> tuple[dict[str, Any], list[tuple[float, float, str, Any]]]:
    """One run_sync in this process; returns the summary and every HTTP request the client sent
    as (start, end, endpoint, status), from a wrapper around its requests.Session.send."""
    from cja_source import make_client
    from cja_sync.sync import RunOptions, run_sync

    cfg = settings(sim, **kw)
    client = make_client(cfg)
    log: list[tuple[float, float, str, Any]] = []
    orig = client.session.send

    def send(req: Any, **k: Any) -> Any:
        t0 = time.monotonic()
        status: Any = "error"
        try:
            resp = orig(req, **k)
            status = resp.status_code
            return resp
        finally:
            log.append((t0, time.monotonic(), endpoint_of(req.url), status))

    client.session.send = send  # type: ignore[method-assign]
    opts = RunOptions(
        duckdb_path=str(workdir / f"{name}.duckdb"),
        pipelines_dir=str(workdir / "pipelines"),
        pipeline_name=name,
    )
    summary = run_sync(cfg, opts, client)
    return summary, log


def data_requests(summary: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in (summary.get("requests") or {}).items()}


# ----------------------------------------------------------------------------- P1 / P2


def naive_count(truth: dict[str, Any], n_conn: int) -> tuple[int, int, int]:
    """(naive requests, pairs, pairs with backfills): API default page size 10, one backfills
    call per (connection, dataset) pair, ceil(backfills/10) pages per pair (one even when empty)."""
    per_pair: collections.Counter[str] = collections.Counter()
    for b in truth["backfills"].values():
        per_pair[f"{b['connectionId']}/{b['dataSetId']}"] += 1
    pairs = list(truth["datasets"].keys())
    naive = math.ceil(n_conn / 10) + sum(max(1, math.ceil(per_pair.get(p, 0) / 10)) for p in pairs)
    return naive, len(pairs), sum(1 for p in pairs if per_pair.get(p, 0) > 0)


def p1_p2(args: argparse.Namespace, workdir: Path, rows: set[str]) -> None:
    n = args.connections
    scenarios = [("auto", "on"), ("auto", "off"), ("endpoint", "on")]
    for mode, inline in scenarios:
        label = f"{mode}, inline backfills {inline}"
        sim = Sim(workdir, connections=n, rate_limit="off", inline_backfills=inline, seed=args.seed)
        try:
            truth = sim.get("truth")
            naive, pairs, pairs_bf = naive_count(truth, n)
            list_pages = math.ceil(n / 1000)
            name = f"p12_{mode}_{inline}"
            s1, _ = sync(sim, workdir, name, backfills=mode)
            req = data_requests(s1)
            lb = req.get("list", 0) + req.get("backfills", 0)
            complete_inline = mode != "endpoint" and inline == "on"
            # A first sync in auto mode asks for inline lists and pages the listing by size: the
            # first page holds 300 connections (a 1,000 x 100 org's page would not fit in 1 GB),
            # later pages are sized from it (cja_source/listing.py). Endpoint mode pages by 1,000.
            first_pages = list_pages if mode == "endpoint" else 1 + math.ceil(max(0, n - 300) / 1000)
            target = first_pages if complete_inline else first_pages + pairs_bf
            other = {k: v for k, v in req.items() if k not in ("list", "backfills")}
            if "P1" in rows:
                row(
                    "P1",
                    f"first full sync, {n} conns, {label}",
                    f"{lb} list+backfills requests (list {req.get('list', 0)}, "
                    f"backfills {req.get('backfills', 0)}); "
                    f"naive {naive}; ratio {naive / max(lb, 1):.1f}x fewer",
                    f"<= {target} ("
                    + (
                        "list pages"
                        if complete_inline
                        else f"{first_pages} list pages + {pairs_bf} pairs with backfills"
                    )
                    + ")",
                    lb <= target,
                    f"[{pairs} pairs; other: {other}; rows {s1['rows'].get('backfills')} backfills]",
                )
            if "P2" not in rows:
                continue
            s2, _ = sync(sim, workdir, name, backfills=mode)
            r2 = data_requests(s2)
            data2 = sum(v for k, v in r2.items() if k != "token")
            ok = data2 <= list_pages and r2.get("token", 0) <= 1
            row(
                "P2",
                f"re-sync, nothing changed, {label}",
                f"{data2} data requests ({r2})",
                f"<= {list_pages} list + <= 1 token, 0 backfills",
                ok,
            )
            # change k backfill statuses, each in a different pair
            by_pair: dict[str, str] = {}
            for b in truth["backfills"].values():
                by_pair.setdefault(f"{b['connectionId']}/{b['dataSetId']}", b["id"])
            flip = {
                "COMPLETED": "FAILED",
                "FAILED": "COMPLETED",
                "IN_PROGRESS": "COMPLETED",
                "IN_QUEUE": "IN_PROGRESS",
            }
            changed = list(by_pair.items())[:: max(1, len(by_pair) // args.k)][: args.k]
            for _pair, bid in changed:
                sim.admin(
                    "set_backfill_status",
                    {"backfillId": bid, "status": flip[truth["backfills"][bid]["status"]]},
                )
            s3, _ = sync(sim, workdir, name, backfills=mode)
            r3 = data_requests(s3)
            # a re-sync never asks for inline lists: the k changed pairs cost k calls (the target)
            want_bf = args.k
            ok = (
                r3.get("backfills", 0) == want_bf
                and r3.get("list", 0) <= list_pages
                and r3.get("token", 0) <= 1
            )
            row(
                "P2",
                f"re-sync, k={args.k} changed pairs, {label}",
                f"{r3.get('backfills', 0)} backfill calls, {r3.get('list', 0)} list ({r3})",
                f"== {want_bf} backfill calls, <= {list_pages} list",
                ok,
                f"[pairs: {s3.get('backfill_pairs')}]",
            )
        finally:
            sim.stop()


# ----------------------------------------------------------------------------- P3


def p3(args: argparse.Namespace, workdir: Path) -> None:
    n, W, N = args.p3_connections, 6.0, 12
    sim = Sim(
        workdir,
        connections=n,
        rate_limit=f"{N}/{W:g}",
        latency_ms="500-2000",
        inline_backfills="off",
        seed=args.seed,
    )
    try:
        sim.admin("reset_counters")
        t0 = time.monotonic()
        summary, log = sync(
            sim,
            workdir,
            "p3",
            backfills="auto",
            requests_per_window=N,
            window_seconds=W,
            max_concurrency=args.p3_concurrency,
        )
        wall = time.monotonic() - t0
        counters = sim.get("counters")
    finally:
        sim.stop()
    server_429 = sum(d.get("429", 0) for d in counters.values())
    client_429 = sum(1 for e in log if e[3] == 429)
    data = sorted(e for e in log if e[2] != "token")  # the token endpoint is not rate-limited
    bf = [e for e in data if e[2] == "backfills"]
    if len(bf) < 2:
        row("P3", f"{n} conns, 12/6 s, 500-2000 ms", f"only {len(bf)} backfill calls", "needs >= 2", None)
        return
    t_first, t_last = bf[0][0], bf[-1][0]
    span = t_last - t_first
    in_phase = sum(1 for e in data if t_first <= e[0] <= t_last)
    held = sum(1 for e in data if t_first - W < e[0] < t_first)  # earlier requests still in the window
    ideal = W * (math.ceil((in_phase + held) / N) - 1)  # fastest legal client: N starts per window
    share = ideal / span if span > 0 else 1.0
    starts = [e[0] for e in data]
    peak = max(sum(1 for u in starts if s <= u < s + W) for s in starts)
    rate = (in_phase - 1) / span if span else 0
    ok = server_429 == 0 and share >= 0.9
    row(
        "P3",
        f"backfill phase, {n} conns, inline off, 12 req/6 s, 500-2000 ms latency, "
        f"max_concurrency {args.p3_concurrency}",
        f"{server_429} x 429 (client saw {client_429}); {in_phase} requests in {span:.1f} s = "
        f"{share:.0%} of allowed rate "
        f"(ideal {ideal:.1f} s; raw {rate:.2f}/s vs 2.00/s)",
        "0 x 429, >= 90 %",
        ok,
        f"[peak {peak} starts in any 6 s; whole sync {wall:.1f} s; requests {summary.get('requests')}]",
    )


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
            sample.append((time.monotonic() - t0, _rss_mb(p.pid)))
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
        f"  P4 simulator up in {time.monotonic() - t0:.0f} s "
        f"({sim.info.get('generate_seconds')} s generating), "
        f"RSS {_rss_mb(sim.proc.pid):.0f} MB",
        flush=True,
    )
    try:
        common = [
            "--sim-line",
            sim.line,
            "--inline",
            args.p4_inline,
            "--concurrency",
            str(args.p4_concurrency),
        ]
        floor, fwall, frss, ferr = _child(
            [PY, str(HERE / "p4_child.py"), "floor", "--workdir", str(workdir / "p4f"), *common],
            args.p4_timeout,
        )
        print(f"  P4 floor: {fwall:.1f} s, peak RSS {frss:.0f} MB, {json.dumps(floor)}", flush=True)
        if floor is None:
            print(ferr, flush=True)
        samples: list[tuple[float, float]] = []
        res, wall, rss, err = _child(
            [PY, str(HERE / "p4_child.py"), "sync", "--workdir", str(workdir / "p4s"), *common],
            args.p4_timeout,
            samples,
        )
        print(f"  P4 sync: {wall:.1f} s, peak RSS {rss:.0f} MB, {json.dumps(res)}", flush=True)
        if res is None:
            print(err, flush=True)
        timeline = " ".join(f"{t:.0f}s:{m:.0f}" for t, m in samples[:: max(1, len(samples) // 15)])
        print(f"  P4 sync RSS timeline (s:MB): {timeline}", flush=True)
        if args.profile:
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
        if "P6" in args.rows.upper() and res is not None:
            from p6_postgres import p6_maximal

            sync_cmd = [PY, str(HERE / "p4_child.py"), "sync", "--workdir", str(workdir / "p6s"), *common]
            p6_maximal(args, workdir, _child, sync_cmd, wall, rss, row)
        sim_rss = sim.rss_mb()
    finally:
        sim.stop()
    label = f"{n} conns x {d} datasets, inline {args.p4_inline}"
    bfs = (res or {}).get("rows", {}).get("backfills") if res else None
    if res is None or floor is None:
        row(
            "P4",
            f"maximal org ({label})",
            f"sync {'killed/failed' if res is None else 'ok'} after {wall:.0f} s, peak RSS {rss:.0f} MB; "
            f"floor {fwall:.0f} s",
            "<= 2.5x floor, < 600 MB",
            False,
            f"[{(err or ferr).strip().splitlines()[-1:]}]",
        )
        return
    ratio = wall / max(fwall, 0.01)
    row(
        "P4",
        f"maximal org full sync ({label}, {bfs} backfills)",
        f"{wall:.1f} s = {ratio:.1f}x floor ({fwall:.1f} s); peak RSS {rss:.0f} MB (floor {frss:.0f} MB)",
        "<= 2.5x floor, < 600 MB",
        ratio <= 2.5 and rss < 600,
        f"[dlt steps {res.get('steps')}; floor steps {floor.get('steps')}; "
        f"list page {floor.get('list_page_mb')} MB; "
        f"simulator peak RSS {sim_rss:.0f} MB]",
    )


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
        default="P1,P2,P3,P4,P5,P6,P6R,P7",
        help="comma list of P1..P7 (P6: maximal org into Postgres, needs P4; P6R: Postgres readers)",
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
