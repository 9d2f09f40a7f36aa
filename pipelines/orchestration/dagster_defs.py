"""Dagster definitions for a fleet: one partition per configured org, each partition run one
`cja-sync` sync of that org. `dagster dev -m cja_sync.orchestration.dagster_defs`.

- Retries: Dagster's RetryPolicy (an org's transient failure, or a warehouse turn that waited
  too long, is retried with backoff by Dagster, not by us).
- No overlap of two runs of one org: the org's run lock lives in the warehouse (a file beside
  DuckDB, an advisory lock on Postgres) and is held for the whole run, so a second run on any
  worker fails at once (and is retried), or waits `org_wait_seconds` first; the README's
  `tag_concurrency_limits` on `dagster/partition` keeps Dagster from launching it at all.
- Workers extract side by side; each warehouse step takes the warehouse's writer lock in turn
  (a file lock beside DuckDB, an advisory lock on Postgres, which every worker machine sees)."""

# no `from __future__ import annotations`: Dagster reads the annotations of an asset's parameters

from typing import Any

from dagster import (
    AssetExecutionContext,
    Backoff,
    ConfigurableResource,
    Definitions,
    Failure,
    MaterializeResult,
    RetryPolicy,
    RunRequest,
    ScheduleEvaluationContext,
    StaticPartitionsDefinition,
    asset,
    define_asset_job,
    schedule,
)

from cja_source.errors import (
    AuthenticationError,
    CJAError,
    ConfigurationError,
    EmptyListingError,
    PermissionDeniedError,
)
from cja_source.fleet_config import DEFAULT_ORG, configured_org_names, load_fleet

from ..options import RunOptions
from ..run.record import RunSummary
from ..run.sync import run_sync

ASSET = "cja_org_metadata"
PERMANENT = (AuthenticationError, ConfigurationError, PermissionDeniedError, EmptyListingError)


class CJAWarehouse(ConfigurableResource):  # type: ignore[type-arg]
    """Where every org of the fleet lands (one dataset; rows carry org_id)."""

    destination: str = "duckdb"
    duckdb_path: str = "cja_sync.duckdb"
    dataset_name: str = "cja"
    pipelines_dir: str | None = None
    # how long one warehouse step waits for another worker's step before the attempt fails
    turn_wait_seconds: float = 1800.0
    # how long a run waits for another run of its org before the attempt fails (0: fail at once
    # and leave the next attempt to the RetryPolicy)
    org_wait_seconds: float = 0.0

    def options(self) -> RunOptions:
        return RunOptions(
            destination=self.destination,
            duckdb_path=self.duckdb_path,
            dataset_name=self.dataset_name,
            pipelines_dir=self.pipelines_dir,
            wait=self.org_wait_seconds,
        )


def build_definitions(
    org_names: list[str] | None = None,
    warehouse: CJAWarehouse | None = None,
    cron: str = "0 * * * *",
    retries: int = 3,
) -> Definitions:
    """Definitions over `org_names` (default: the `[sources.cja.orgs.*]` blocks, or the single
    `[sources.cja]` org)."""
    names = org_names or configured_org_names() or [DEFAULT_ORG]
    partitions = StaticPartitionsDefinition(names)

    @asset(
        name=ASSET,
        partitions_def=partitions,
        retry_policy=RetryPolicy(max_retries=retries, delay=60, backoff=Backoff.EXPONENTIAL),
        description="CJA connections, datasets and backfills of one IMS org, synced by cja-sync",
    )
    def cja_org_metadata(context: AssetExecutionContext, cja_warehouse: CJAWarehouse) -> MaterializeResult:  # type: ignore[type-arg]
        name = context.partition_key
        try:
            cfg = load_fleet(only=[name])[name]
            summary = run_sync(cfg, cja_warehouse.options(), turn_wait=cja_warehouse.turn_wait_seconds)
        except CJAError as exc:
            # the one-line reason is what the Dagster UI shows; no traceback of our internals. A
            # wrong secret or setting fails the same way on every attempt: not retried.
            raise Failure(
                description=f"org {name}: {exc.message}", allow_retries=not isinstance(exc, PERMANENT)
            ) from None
        return MaterializeResult(metadata=_metadata(summary))

    job = define_asset_job("cja_fleet_sync", selection=[ASSET])

    @schedule(job=job, cron_schedule=cron, name="cja_fleet_hourly")
    def every_org(context: ScheduleEvaluationContext) -> list[RunRequest]:
        stamp = context.scheduled_execution_time.isoformat()
        return [RunRequest(run_key=f"{name}:{stamp}", partition_key=name) for name in names]

    return Definitions(
        assets=[cja_org_metadata],
        jobs=[job],
        schedules=[every_org],
        resources={"cja_warehouse": warehouse or CJAWarehouse()},
    )


def _metadata(summary: RunSummary) -> dict[str, Any]:
    rows = summary.rows
    return {
        "org_id": summary.org_id,
        "run_id": summary.run_id,
        "duration_seconds": float(summary.duration_seconds or 0.0),
        "connections": int(rows.get("connections", 0)),
        "datasets": int(rows.get("datasets", 0)),
        "backfills": int(rows.get("backfills", 0)),
        "api_requests": int(sum(summary.requests.values())),
    }


# what `dagster dev -m cja_sync.orchestration.dagster_defs` loads: the orgs of the configuration
# in Dagster's working directory (`.dlt/*.toml`, environment)
defs = build_definitions()
