"""`cja-sync dbt`: build the shipped dbt package's models and run its tests on the warehouse of the
other commands; exit 3 with one line per failing test naming the test and the table."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from cja_source.version import __version__

from ..options import EXIT_HEALTH, EXIT_OK, options_from_args
from ..run.dbt import DbtOutcome, run_dbt
from ..text import visible


def run_dbt_command(args: argparse.Namespace) -> int:
    outcome = run_dbt(options_from_args(args), fresh_sync_hours=args.fresh_hours)
    if args.json:
        print(json.dumps({"version": __version__, **asdict(outcome)}, default=str, sort_keys=True))
    else:
        for line in command_lines(outcome):
            print(visible(line))
    return EXIT_OK if outcome.passed else EXIT_HEALTH


def command_lines(outcome: DbtOutcome) -> list[str]:
    """A summary, then one line per failing test."""
    state = "passed" if outcome.passed else f"{len(outcome.failures)} failing"
    head = (
        f"dbt: {outcome.models} models built in schema {outcome.models_schema}, "
        f"{outcome.tests} tests, {state} ({outcome.seconds:.1f} s)"
    )
    return [head, *outcome.failures]
