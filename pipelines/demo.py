"""`cja-sync demo`: the built-in simulated org, synced into ./cja_demo.duckdb. No credentials, no network."""

from __future__ import annotations

import argparse

from cja_source.simulator import SimConfig, Simulator
from cja_source.simulator.settings import settings_for

from .options import EXIT_OK, options_from_args
from .summary import print_summary
from .sync import run_sync


def run_demo(args: argparse.Namespace) -> int:
    sim_cfg = SimConfig(seed=args.seed, connections=args.connections)
    with Simulator(sim_cfg) as sim:
        cfg = settings_for(sim)
        summary = run_sync(cfg, options_from_args(args))
    print_summary(summary, args.json)
    if not args.json:
        _print_health(args)
    return EXIT_OK


def _print_health(args: argparse.Namespace) -> None:
    try:
        from .health_cli import print_health_for_demo
    except ImportError:  # health views not installed in this build
        return
    print_health_for_demo(args)
