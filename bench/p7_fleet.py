"""P7: a fleet of four orgs, each its own simulator at 12 requests / 6 s with 500-2,000 ms latency,
synced by one `run_fleet` into one DuckDB file. Each org's client has its own budget, so the
fleet should use four times one org's rate: the figure is P3's per-org share of the allowed rate
during that org's backfill phase (the fastest legal client's time over the actual span), and the
fleet's whole-phase rate against 4 x 2 requests/s."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

ORGS = 4
N, W = 12, 6.0


def p7(args: Any, workdir: Path, sim_cls: Any, settings: Any, row: Any) -> None:
    from harness import log_requests

    from cja_source import make_client
    from cja_sync.run.fleet import run_fleet
    from cja_sync.run.sync import RunOptions

    n = args.p3_connections
    sims = {
        f"org{i}": sim_cls(
            workdir,
            connections=n,
            rate_limit=f"{N}/{W:g}",
            latency_ms="500-2000",
            inline_backfills="off",
            seed=args.seed + i,
            org_id=f"FLEET{i:020d}@AdobeOrg",
            client_id=f"fleet-{i}",
        )
        for i in range(ORGS)
    }
    logs: dict[str, list[tuple[float, float, str, Any]]] = {}
    try:
        fleet = {
            name: settings(sim, requests_per_window=N, window_seconds=W, max_concurrency=args.p3_concurrency)
            for name, sim in sims.items()
        }
        clients = {
            name: log_requests(make_client(cfg), logs.setdefault(name, [])) for name, cfg in fleet.items()
        }
        opts = RunOptions(duckdb_path=str(workdir / "p7.duckdb"), pipelines_dir=str(workdir / "p7"))
        t0 = time.monotonic()
        result = run_fleet(fleet, opts, max_parallel=ORGS, clients=clients)
        wall = time.monotonic() - t0
        server_429 = sum(sum(d.get("429", 0) for d in s.get("counters").values()) for s in sims.values())
    finally:
        for sim in sims.values():
            sim.stop()
    shares, in_phase_total, first, last = [], 0, math.inf, 0.0
    phases: list[str] = []
    windows: list[tuple[float, float]] = []
    starts: list[float] = []
    for log in logs.values():
        data = sorted(e for e in log if e[2] != "token")
        bf = [e for e in data if e[2] == "backfills"]
        if len(bf) < 2:
            continue
        t_first, t_last = bf[0][0], bf[-1][0]
        in_phase = sum(1 for e in data if t_first <= e[0] <= t_last)
        held = sum(1 for e in data if t_first - W < e[0] < t_first)
        ideal = W * (math.ceil((in_phase + held) / N) - 1)
        shares.append(ideal / (t_last - t_first) if t_last > t_first else 1.0)
        in_phase_total += in_phase
        windows.append((t_first, t_last))
        starts += [e[0] for e in data]
        phases.append(f"{t_first - t0:.0f}-{t_last - t0:.0f} s")
        first, last = min(first, t_first), max(last, t_last)
    if len(shares) < ORGS or result.failed:
        row("P7", f"{ORGS} orgs, 12/6 s each", f"failed: {result.failed}", "all orgs synced", False)
        return
    # the orgs differ in size: the fleet's rate counts while every org is in its backfill phase
    lo, hi = max(w[0] for w in windows), min(w[1] for w in windows)
    together = sum(1 for u in starts if lo <= u < hi)
    fleet_share = together / ((hi - lo) * ORGS * N / W) if hi - lo >= 2 * W else 0.0
    ok = server_429 == 0 and min(shares) >= 0.9 and fleet_share >= 0.9
    row(
        "P7",
        f"fleet backfill phase, {ORGS} orgs x {n} conns, 12 req/6 s each, 500-2000 ms, one DuckDB file",
        f"{server_429} x 429; per-org share of allowed rate min {min(shares):.0%} "
        f"(all {', '.join(f'{s:.0%}' for s in shares)}); while all {ORGS} were in it ({hi - lo:.0f} s): "
        f"{together} requests = {fleet_share:.0%} of {ORGS} x 2/s",
        "0 x 429, >= 90 % of 4 x allowed rate",
        ok,
        f"[backfill phases {', '.join(phases)}; all phases {in_phase_total} requests in "
        f"{last - first:.0f} s; whole fleet {wall:.1f} s]",
    )
