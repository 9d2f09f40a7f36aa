"""`cja-sync run` over several orgs into one warehouse.

The API side is embarrassingly parallel (each org has its own credential, token and 12 requests /
6 s budget); the warehouse takes one writer. So this process takes the warehouse lock once for the
whole fleet and hands out turns: each org extracts concurrently, and every step that touches the
warehouse (snapshot, load, settle, publish) waits for the turn, in whatever order orgs get there.
It also holds each org's run lock, so an org that another process is syncing (a Dagster worker, a
cron job) is skipped with that reason. One org's failure is recorded and reported; the others go
on."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from cja_source.client import CJAClient
from cja_source.configuration import CJASourceConfiguration
from cja_source.errors import CJAError

from ..errors import as_cja_error
from ..options import RunOptions
from ..warehouse.duckdb_file import publish_synced
from ..warehouse.pipeline import make_pipeline
from .identity import pipeline_name_for, target_of
from .locks import fleet_locks
from .record import FAILED, SUCCEEDED, FleetSummary, RunSummary
from .sync import run_sync


def run_fleet(
    fleet: dict[str, CJASourceConfiguration],
    opts: RunOptions,
    max_parallel: int | None = None,
    clients: dict[str, CJAClient] | None = None,
) -> FleetSummary:
    """Sync every org of `fleet`; returns each org's record by name. A failed org's record holds
    its one-line `error`. Raises CJAError only when the warehouse itself cannot be locked (another
    writer holds it). `clients` (by org name) replace the clients made from the settings (the
    benchmark counts their requests)."""
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
            else RunSummary.refused(name, org_ids[name], refused[name])
            for name in fleet
        }
        result = FleetSummary(
            status=SUCCEEDED if all(s.succeeded for s in orgs.values()) else FAILED,
            started_at=started.isoformat(),
            finished_at="",
            destination=opts.destination,
            dataset=opts.dataset_name,
            orgs=orgs,
        )
        # one copy of the DuckDB file for the whole fleet, once its orgs are through
        if len(result.failed) < len(fleet):
            result.published, result.notice = publish_synced(lock_pipeline, opts)
    result.finished_at = datetime.now(UTC).isoformat()
    return result


def _one_org(
    name: str,
    cfg: CJASourceConfiguration,
    opts: RunOptions,
    turn: threading.Lock,
    client: CJAClient | None,
) -> RunSummary:
    # one progress line per org would interleave on a terminal: the fleet's caller prints records
    org_opts = replace(opts, pipeline_name=None, progress=False, publish_file=False)
    org_id = str(cfg.credentials.org_id)
    try:
        summary = run_sync(cfg, org_opts, client, turn=turn)
    except CJAError as exc:
        return RunSummary.refused(name, org_id, exc.message)
    except Exception as exc:  # noqa: BLE001 - one org's bug must not take the fleet down
        return RunSummary.refused(name, org_id, as_cja_error(exc).message)
    summary.org = name
    return summary
