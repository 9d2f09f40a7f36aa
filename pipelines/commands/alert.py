"""`cja-sync alert`, and what `run` adds: the heartbeat after every run, `run --alert` after it.
Exit 4 when a sink could not be reached (one line per sink on stderr); the others still got theirs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..alerts.send import AlertRound, alert_round, failed_sync_round, heartbeat
from ..options import EXIT_ALERT, EXIT_OK, RunOptions, options_from_args
from ..text import visible


def run_alert(args: argparse.Namespace) -> int:
    opts = options_from_args(args, pipeline_name="cja_alert")
    org_ids = None
    if args.org:
        from .health import org_id_of

        org_ids = [org_id_of(args.org)]
    result = alert_round(opts, org_ids)
    print_round(result, args.json)
    return EXIT_ALERT if result.failed else EXIT_OK


def alert_after_run(opts: RunOptions, org_ids: list[str] | None, as_json: bool) -> int:
    """`run --alert` after a run that synced: the same round as `alert` (quiet with `--json`,
    whose stdout is the run's summary)."""
    result = alert_round(opts, org_ids)
    print_round(result, as_json, quiet=as_json)
    return EXIT_ALERT if result.failed else EXIT_OK


def alert_failed_sync(org_id: str, org: str | None, error: str, at: str | None) -> None:
    """`run --alert` after a failed sync: `status: failed` to every sink; a sink that fails here
    is one more line on stderr (the run's own exit code, 1, stands)."""
    print_round(failed_sync_round(org_id, org, error, at), False, quiet=True, kept=False)


def ping_heartbeat(succeeded: bool) -> None:
    """The heartbeat after a run; a ping that fails is a warning, never a failed run."""
    reason = heartbeat(succeeded)
    if reason:
        print(f"cja-sync: warning: heartbeat ping failed: {visible(reason)}", file=sys.stderr)


def print_round(result: AlertRound, as_json: bool, quiet: bool = False, kept: bool = True) -> None:
    """What went where (stdout, unless `quiet`), then one stderr line per sink that failed
    (`kept`: the delivery state keeps what it missed)."""
    if not quiet:
        if as_json:
            print(json.dumps({"sent": [_as_dict(o) for o in result.outcomes]}, sort_keys=True))
        elif not result.outcomes:
            print("nothing new to alert on")
        for o in result.outcomes if not as_json else ():
            if o.reason is None:
                what = f"{o.new} new, {o.resolved} resolved"
                what += f", {o.reminded} still holding (reminder)" if o.reminded else ""
                print(f"sent to {o.sink}: org {visible(o.label)}: {what}")
    for o in result.failed:
        later = "; it gets what it missed at the next cja-sync alert" if kept else ""
        print(
            f"cja-sync: alert to {o.sink} failed for org {visible(o.label)}: {visible(o.reason)}{later}",
            file=sys.stderr,
        )


def _as_dict(o: Any) -> dict[str, Any]:
    return {
        "org_id": o.org_id,
        "org": o.org,
        "sink": o.sink,
        "new": o.new,
        "resolved": o.resolved,
        "reminded": o.reminded,
        "delivered": o.reason is None,
        "reason": o.reason,
    }
