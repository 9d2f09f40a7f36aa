"""`cja-sync demo`: the built-in simulated org, synced into ./cja_demo.duckdb. No credentials, no network.

A new warehouse gets a week of daily syncs replayed in seconds (demo_story.py), so that volume
history, drops, status changes and durations have data; a warehouse that already exists gets one
more sync at the wall clock, since a second week replayed into the same days would interleave its
syncs with the first's."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cja_source.simulator import SimConfig, Simulator
from cja_source.simulator.settings import settings_for

from ..options import EXIT_OK, RunOptions, options_from_args
from ..run.record import RunSummary
from ..run.sync import run_sync
from .demo_story import DAYS, replay
from .progress import Progress
from .summary import print_summary

UNTHROTTLED = 100_000


def run_demo(args: argparse.Namespace) -> int:
    opts = options_from_args(args)
    story = _replays(opts)
    start = datetime.now(UTC) - timedelta(days=DAYS) if story else None
    # no rate limit, simulated or kept by the client: a replayed day asks for the backfill lists of
    # hundreds of changed pairs, and the API's 12 requests per 6 s would make seconds of the demo minutes
    sim_cfg = SimConfig(seed=args.seed, connections=args.connections, now=start, rate_limit=None)
    with Simulator(sim_cfg) as sim:
        cfg = settings_for(sim, requests_per_window=UNTHROTTLED, window_seconds=1.0)
        progress = Progress() if opts.progress else None

        days = iter(range(DAYS, -1, -1) if story else [0])

        def sync() -> RunSummary:
            # the working file is published once, after the last day, as a fleet does after its last org
            last = next(days) == 0
            day_opts = opts if last else replace(opts, publish_file=False)
            return run_sync(cfg, day_opts, listener=progress, clock=(lambda: sim.now) if story else None)

        summary = replay(sim, args.seed, sync) if story else sync()
    if story and not args.json:
        print(f"cja-sync demo: replayed {DAYS + 1} daily syncs of a simulated week; the last one:")
    print_summary(summary, args.json)
    if not args.json:
        _print_health(args)
    return EXIT_OK


def _replays(opts: RunOptions) -> bool:
    """A week replayed only into a warehouse without syncs (see the module's note)."""
    if opts.destination != "duckdb":
        return True
    return not Path(opts.duckdb_path or "").exists()


def _print_health(args: argparse.Namespace) -> None:
    try:
        from .health import print_health_for_demo
    except ImportError:  # health views not installed in this build
        return
    print_health_for_demo(args)
