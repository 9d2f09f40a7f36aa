"""`cja-sync run` over several orgs into one warehouse.

The API side is embarrassingly parallel (each org has its own credential, token and 12 requests /
6 s budget); the warehouse takes one writer. So this process takes the warehouse lock once for the
whole fleet and hands out turns: each org extracts concurrently, and every step that touches the
warehouse (snapshot, load, settle, publish) waits for the turn, in whatever order orgs get there.
It also holds each org's run lock, so an org that another process is syncing (a Dagster worker, a
cron job) is skipped with that reason. One org's failure is recorded and reported; the others go
on."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cja_source.client import CJAClient
from cja_source.configuration import CJASourceConfiguration
from cja_source.errors import CJAError
from cja_source.fleet_config import load_fleet
from cja_source.version import __version__

from .duckdb_file import publish_synced
from .errors import as_cja_error
from .identity import pipeline_name_for, target_of
from .locks import fleet_locks
from .options import EXIT_FAILED, EXIT_OK, RunOptions, options_from_args
from .pipeline_factory import make_pipeline
from .summary import print_summary
from .sync import run_sync
from .text import visible


def run_fleet(
    fleet: dict[str, CJASourceConfiguration],
    opts: RunOptions,
    max_parallel: int | None = None,
    clients: dict[str, CJAClient] | None = None,
) -> dict[str, Any]:
    """Sync every org of `fleet`; returns {"status", "orgs": {name: summary}, "failed": [names]}.
    A failed org's summary holds `status: failed` and its one-line `error`. Raises CJAError only
    when the warehouse itself cannot be locked (another writer holds it). `clients` (by org name)
    replace the clients made from the settings (the benchmark counts their requests)."""
    parallel = max(1, int(max_parallel or min(c.max_parallel_orgs for c in fleet.values())))
    target = target_of(opts)
    first_org = str(next(iter(fleet.values())).credentials.org_id)
    lock_name = pipeline_name_for(target, first_org, "cja_lock")
    lock_pipeline = make_pipeline(replace(opts, pipeline_name=lock_name))
    turn = threading.Lock()
    started = datetime.now(UTC)
    org_ids = {name: str(cfg.credentials.org_id) for name, cfg in fleet.items()}
    with (
        fleet_locks(target, lock_pipeline, org_ids, opts.wait) as refused,
        ThreadPoolExecutor(parallel, "cja-org") as pool,
    ):
        futures = {
            name: pool.submit(_one_org, name, cfg, opts, turn, (clients or {}).get(name))
            for name, cfg in fleet.items()
            if name not in refused
        }
        # an org another run holds: not run, not recorded in sync_runs (that run records itself)
        orgs = {
            name: futures[name].result()
            if name in futures
            else {"org": name, "status": "failed", "error": refused[name], "org_id": org_ids[name]}
            for name in fleet
        }
        failed = [name for name, s in orgs.items() if s["status"] != "succeeded"]
        # one copy of the DuckDB file for the whole fleet, once its orgs are through
        published = publish_synced(lock_pipeline, opts) if len(failed) < len(fleet) else {}
    return {
        **published,
        "status": "failed" if failed else "succeeded",
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "destination": opts.destination,
        "dataset": opts.dataset_name,
        "failed": failed,
        "orgs": orgs,
    }


def _one_org(
    name: str,
    cfg: CJASourceConfiguration,
    opts: RunOptions,
    turn: threading.Lock,
    client: CJAClient | None,
) -> dict[str, Any]:
    # a progress line per org would interleave on one terminal: the fleet prints summaries instead
    org_opts = replace(opts, pipeline_name=None, progress=False, publish_file=False)
    try:
        summary = run_sync(cfg, org_opts, client, turn=turn)
    except CJAError as exc:
        summary = {"status": "failed", "error": exc.message, "org_id": cfg.credentials.org_id}
    except Exception as exc:  # noqa: BLE001 - one org's bug must not take the fleet down
        summary = {"status": "failed", "error": as_cja_error(exc).message, "org_id": cfg.credentials.org_id}
    return {"org": name, **summary}


def run_fleet_command(args: argparse.Namespace) -> int:
    """`cja-sync run` when orgs are configured: a summary per org, then which failed (exit 1)."""
    fleet = load_fleet(only=args.org)
    result = run_fleet(fleet, options_from_args(args))
    if args.json:
        print(json.dumps({"version": __version__, **result}, default=str, sort_keys=True))
    else:
        for name, summary in result["orgs"].items():
            if summary["status"] == "succeeded":
                print(f"[{name}]", end=" ")
                print_summary(summary, False)
            else:
                print(f"[{name}] failed (org {summary['org_id']}): {visible(summary['error'])}")
        ok = len(result["orgs"]) - len(result["failed"])
        line = f"fleet: {ok} of {len(result['orgs'])} orgs synced"
        print(line + (f"; failed: {', '.join(result['failed'])}" if result["failed"] else ""))
        if result.get("notice"):
            print(f"note: {result['notice']}")
    for name in result["failed"]:
        print(f"cja-sync: org {name}: {visible(result['orgs'][name]['error'])}", file=sys.stderr)
    return EXIT_FAILED if result["failed"] else EXIT_OK
