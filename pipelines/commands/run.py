"""`cja-sync run`: one org's sync, or the fleet's when orgs are configured; the summary printed
(text, or one JSON object with --json), exit 1 naming each org that failed."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from cja_source.configuration import load_settings
from cja_source.errors import CJAError
from cja_source.fleet_config import configured_org_names, load_fleet
from cja_source.version import __version__

from ..options import EXIT_FAILED, EXIT_OK, options_from_args
from ..run.fleet import run_fleet
from ..run.sync import run_sync
from ..text import visible
from .alert import alert_after_run, alert_failed_sync, ping_heartbeat
from .progress import Progress
from .summary import print_summary


def run_command(args: argparse.Namespace) -> int:
    opts = options_from_args(args)
    if args.org or configured_org_names():
        return _fleet(args)
    org_id = ""
    try:
        cfg = load_settings()
        org_id = str(cfg.credentials.org_id)
        summary = run_sync(cfg, opts, listener=Progress() if opts.progress else None)
    except CJAError as exc:
        # the heartbeat's /fail and the failed-sync alert, then the run's own one line (cli.py); a
        # signal ends the run at once (a scheduler's timeout): the heartbeat notices the silence
        if not getattr(exc, "signum", 0):
            _after_failure(args, org_id, exc.message)
        raise
    print_summary(summary, args.json)
    ping_heartbeat(True)
    if getattr(args, "alert", False):
        return alert_after_run(opts, [summary.org_id], args.json)
    return EXIT_OK


def _after_failure(args: argparse.Namespace, org_id: str, error: str) -> None:
    """/fail to the heartbeat, and with --alert the failed sync to the sinks. When the settings
    themselves cannot be read, neither can be sent: the run's own line already says why."""
    try:
        ping_heartbeat(False)
        if getattr(args, "alert", False):
            alert_failed_sync(org_id, None, error, datetime.now(UTC).isoformat())
    except CJAError:
        pass


def _fleet(args: argparse.Namespace) -> int:
    """A summary per org, then which failed (exit 1)."""
    opts = options_from_args(args)
    result = run_fleet(load_fleet(only=args.org), opts)
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
    ping_heartbeat(not result.failed)
    code = EXIT_OK
    if getattr(args, "alert", False):
        for name in result.failed:
            failed = result.orgs[name]
            alert_failed_sync(failed.org_id, name, failed.error or "failed", result.finished_at)
        synced = [s.org_id for s in result.orgs.values() if s.succeeded]
        if synced:
            code = alert_after_run(opts, synced, args.json)
    for name in result.failed:
        print(f"cja-sync: org {name}: {visible(result.orgs[name].error or '')}", file=sys.stderr)
    return EXIT_FAILED if result.failed else code
