"""`sync_stale`, the dead man's switch: no successful sync of an org within `[sources.cja.health]
sync_stale_after_hours` by the wall clock. Every other age is measured against the latest sync, so
when the scheduler dies the views stay green forever; this one condition looks at the clock of
whoever reads (`health`, `report`, `alert`), with that reader's thresholds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cja_source.configuration import load_settings
from cja_source.fleet_config import configured_org_names


def stale_after_hours(org_ids: list[str], default: float) -> dict[str, float]:
    """{org_id: hours}: an org's own `[sources.cja.orgs.<name>.health]` when this machine
    configures one with that org id, else `default` (`[sources.cja.health]`)."""
    own: dict[str, float] = {}
    for name in configured_org_names():
        cfg = load_settings(need_credentials=False, sections=("sources", "cja", "orgs", name))
        org_id = getattr(cfg.credentials, "org_id", None)
        if org_id:
            own[str(org_id)] = float(cfg.health.sync_stale_after_hours)
    return {org: own.get(org, float(default)) for org in org_ids}


def utc(value: Any) -> datetime | None:
    """A timestamp from either destination as an aware UTC datetime (DuckDB may give naive ones)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stale_syncs(
    last_success: dict[str, Any], hours: dict[str, float], now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """{org_id: the sync_stale item} of the orgs whose latest successful sync (its finish time in
    `last_success`) is older than their `hours`."""
    now = now or datetime.now(UTC)
    out: dict[str, dict[str, Any]] = {}
    for org, finished in last_success.items():
        at = utc(finished)
        if at is None or org not in hours:
            continue
        since = (now - at).total_seconds() / 3600
        if since > hours[org]:
            out[org] = {
                "subject": org,
                "last_success_at": at.isoformat(),
                "hours_since": round(since, 1),
                "after_hours": hours[org],
            }
    return out


def last_successes(sql: Any) -> dict[str, datetime]:
    """{org_id: finish time of its latest successful sync} from `sync_runs`."""
    rows = sql.execute_sql(
        f"SELECT org_id, MAX(finished_at) FROM {sql.make_qualified_table_name('sync_runs')} "
        "WHERE status = 'succeeded' AND finished_at IS NOT NULL AND org_id IS NOT NULL GROUP BY org_id"
    )
    out = {}
    for org, finished in rows or ():
        at = utc(finished)
        if at is not None:
            out[str(org)] = at
    return out
