"""Rows P1-P3: requests of a first sync and of re-syncs, and the rate limit under latency."""

from __future__ import annotations

import argparse
import collections
import math
import time
from pathlib import Path
from typing import Any

from harness import Sim, data_requests, row, sync

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
                    f"[{pairs} pairs; other: {other}; rows {s1.rows.get('backfills')} backfills]",
                )
            if "P2" not in rows:
                continue
            s2, _ = sync(sim, workdir, name, backfills=mode)
            r2 = data_requests(s2)
            # the data view listing is P8's (a page per 1,000 data views, asked every sync)
            data2 = sum(v for k, v in r2.items() if k not in ("token", "dataviews"))
            ok = data2 <= list_pages and r2.get("token", 0) <= 1
            row(
                "P2",
                f"re-sync, nothing changed, {label}",
                f"{data2} data requests ({r2})",
                f"<= {list_pages} list + <= 1 token, 0 backfills",
                ok,
            )
            _flip_backfills(sim, truth, args.k)
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
                f"[pairs: {s3.backfill_pairs}]",
            )
        finally:
            sim.stop()


def _flip_backfills(sim: Sim, truth: dict[str, Any], k: int) -> None:
    """Change k backfill statuses, each in a different pair."""
    by_pair: dict[str, str] = {}
    for b in truth["backfills"].values():
        by_pair.setdefault(f"{b['connectionId']}/{b['dataSetId']}", b["id"])
    flip = {
        "COMPLETED": "FAILED",
        "FAILED": "COMPLETED",
        "IN_PROGRESS": "COMPLETED",
        "IN_QUEUE": "IN_PROGRESS",
    }
    changed = list(by_pair.items())[:: max(1, len(by_pair) // k)][:k]
    for _pair, bid in changed:
        sim.admin(
            "set_backfill_status",
            {"backfillId": bid, "status": flip[truth["backfills"][bid]["status"]]},
        )


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
        f"[peak {peak} starts in any 6 s; whole sync {wall:.1f} s; requests {summary.requests}]",
    )
