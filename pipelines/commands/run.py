"""`cja-sync run`: one org's sync, or the fleet's when orgs are configured; the summary printed
(text, or one JSON object with --json), exit 1 naming each org that failed."""

from __future__ import annotations

import argparse
import json
import sys

from cja_source.configuration import load_settings
from cja_source.fleet_config import configured_org_names, load_fleet
from cja_source.version import __version__

from ..options import EXIT_FAILED, EXIT_OK, options_from_args
from ..run.fleet import run_fleet
from ..run.sync import run_sync
from ..text import visible
from .progress import Progress
from .summary import print_summary


def run_command(args: argparse.Namespace) -> int:
    opts = options_from_args(args)
    if args.org or configured_org_names():
        return _fleet(args)
    summary = run_sync(load_settings(), opts, listener=Progress() if opts.progress else None)
    print_summary(summary, args.json)
    return EXIT_OK


def _fleet(args: argparse.Namespace) -> int:
    """A summary per org, then which failed (exit 1)."""
    result = run_fleet(load_fleet(only=args.org), options_from_args(args))
    if args.json:
        print(json.dumps({"version": __version__, **result.as_dict()}, default=str, sort_keys=True))
    else:
        for name, summary in result.orgs.items():
            if summary.succeeded:
                print(f"[{name}]", end=" ")
                print_summary(summary, False)
            else:
                print(f"[{name}] failed (org {summary.org_id}): {visible(summary.error or '')}")
        ok = len(result.orgs) - len(result.failed)
        line = f"fleet: {ok} of {len(result.orgs)} orgs synced"
        print(line + (f"; failed: {', '.join(result.failed)}" if result.failed else ""))
        if result.notice:
            print(f"note: {result.notice}")
    for name in result.failed:
        print(f"cja-sync: org {name}: {visible(result.orgs[name].error or '')}", file=sys.stderr)
    return EXIT_FAILED if result.failed else EXIT_OK
