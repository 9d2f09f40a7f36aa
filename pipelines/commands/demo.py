"""`cja-sync demo`: the built-in simulated org, synced into ./cja_demo.duckdb. No credentials, no network."""

from __future__ import annotations

import argparse

from cja_source.simulator import SimConfig, Simulator
from cja_source.simulator.settings import settings_for

from ..options import EXIT_OK, options_from_args
from ..run.sync import run_sync
from .progress import Progress
from .summary import print_summary


def run_demo(args: argparse.Namespace) -> int:
    sim_cfg = SimConfig(seed=args.seed, connections=args.connections)
    with Simulator(sim_cfg) as sim:
        cfg = settings_for(sim)
        opts = options_from_args(args)
        summary = run_sync(cfg, opts, listener=Progress() if opts.progress else None)
    print_summary(summary, args.json)
    if not args.json:
        _print_health(args)
    return EXIT_OK


def _print_health(args: argparse.Namespace) -> None:
    try:
        from .health import print_health_for_demo
    except ImportError:  # health views not installed in this build
        return
    print_health_for_demo(args)
