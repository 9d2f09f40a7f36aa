"""One round of `cja-sync alert`: per org and per sink, what is new and resolved since the sink was
last told, posted, and what it was told written back; the failed-sync message; the heartbeat.

One message per org and sink, never a fleet digest: each message has one org's subjects and state,
a sink that fails for one org does not hold back the others, and nothing is sent for an org where
nothing changed (docs/alerts.md argues the choice).

The warehouse is held (its writer lock) only to read and then to write the delivery state, never
while posting: a sync that starts meanwhile is not kept waiting by a slow sink. On DuckDB the state
goes where the syncs write (the working file, published by the next sync), or into the file itself
when no `cja-sync run` ever published it (the plain dlt source's)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt

from cja_source.errors import ConfigurationError
from cja_source.fleet_config import configured_org_ids
from cja_source.snapshot import existing_tables

from ..errors import NoSuccessfulSync
from ..options import RunOptions
from ..run.identity import target_of
from ..run.locks import warehouse_lock
from ..settings import AlertsConfiguration, alert_settings, runner_settings
from ..text import cut
from ..warehouse.duckdb_file import RECORD_SUFFIX, prepare_working, working_path
from ..warehouse.freshness import last_successes, stale_after_hours, stale_syncs
from ..warehouse.health_alerts import TABLE as SPELLS_TABLE
from ..warehouse.health_alerts import ensure_table, latest_recorded, open_counts, spells
from ..warehouse.pipeline import make_pipeline
from ..warehouse.reading import health_settings, no_warehouse
from . import deliveries
from .items import CONDITIONS, FedDataViews, after, by_condition, fed_data_views
from .messages import PAYLOADS, AlertMessage
from .post import ping, post_json

NO_SINK = (
    "no alert sink configured: set webhook_url, slack_webhook_url or teams_webhook_url in "
    "[cja_sync.alerts] (.dlt/secrets.toml) or CJA_SYNC__ALERTS__SLACK_WEBHOOK_URL, ..."
)


@dataclass
class Outcome:
    """One post: to `sink`, about `org_id`; `reason` says why it failed (None: delivered)."""

    org_id: str
    org: str | None
    sink: str
    new: int
    resolved: int
    reminded: int = 0
    reason: str | None = None

    @property
    def label(self) -> str:
        return self.org or self.org_id


@dataclass
class AlertRound:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.reason is not None]


@dataclass
class _Plan:
    outcome: Outcome
    message: AlertMessage
    old: dict[str, Any] | None
    through: tuple[str, Any] | None
    stale_since: datetime | None
    told_everything: bool


def alert_round(
    opts: RunOptions, org_ids: list[str] | None = None, now: datetime | None = None
) -> AlertRound:
    """Send each configured sink what is new and resolved for each synced org (or those of
    `org_ids`). Raises ConfigurationError without a sink, NoSuccessfulSync without a synced org."""
    settings = alert_settings()
    sinks = settings.sinks()
    if not sinks:
        raise ConfigurationError(NO_SINK)
    now = now or datetime.now(UTC)
    pipeline, in_place = _pipeline(opts)
    target = target_of(opts)
    with warehouse_lock(target, pipeline, opts.wait):
        _prepare(opts, in_place)
        plans = _plans(pipeline, settings, sinks, org_ids, now)
    round_ = AlertRound()
    states = []
    for plan in plans:
        send = PAYLOADS[plan.outcome.sink]
        reason = post_json(
            sinks[plan.outcome.sink],
            send(plan.message),
            float(settings.timeout_seconds),
            int(settings.max_attempts),
            float(settings.backoff_seconds),
        )
        plan.outcome.reason = reason
        round_.outcomes.append(plan.outcome)
        o = plan.outcome
        if reason is None:
            states.append(
                deliveries.delivered(
                    plan.old, o.org_id, o.sink, plan.through, now, plan.stale_since, plan.told_everything
                )
            )
        else:
            states.append(deliveries.failed(plan.old, o.org_id, o.sink, now, reason))
    if states:
        with warehouse_lock(target, pipeline, opts.wait):
            _prepare(opts, in_place)
            with pipeline.sql_client() as sql, sql.begin_transaction():
                deliveries.ensure_table(sql)
                for state in states:
                    deliveries.write_state(sql, state)
    return round_


def failed_sync_round(org_id: str, org: str | None, error: str, at: str | None) -> AlertRound:
    """A failed sync's message (`status` failed, its one-line reason) to every configured sink.
    Nothing is kept: the next successful sync's alert is computed from the spells as always."""
    settings = alert_settings()
    sinks = settings.sinks()
    empty: dict[str, list[dict[str, Any]]] = {c: [] for c in CONDITIONS}
    message = AlertMessage(
        org_id, org, at, status="failed", new=empty, resolved=dict(empty), counts={}, error=error
    )
    round_ = AlertRound()
    for sink, url in sinks.items():
        reason = post_json(
            url,
            PAYLOADS[sink](message),
            float(settings.timeout_seconds),
            int(settings.max_attempts),
            float(settings.backoff_seconds),
        )
        round_.outcomes.append(Outcome(org_id, org, sink, 0, 0, reason=reason))
    return round_


def heartbeat(succeeded: bool, settings: AlertsConfiguration | None = None) -> str | None:
    """Ping `heartbeat_url` after a successful run, `heartbeat_url/fail` after a failed one (one
    try, bounded); the reason when the ping failed, None when it went through or none is set."""
    settings = settings or alert_settings()
    if not settings.heartbeat_url:
        return None
    url = str(settings.heartbeat_url)
    if not succeeded:
        url = url.rstrip("/") + "/fail"
    return ping(url, min(float(settings.timeout_seconds), 10.0))


def _pipeline(opts: RunOptions) -> tuple[dlt.Pipeline, bool]:
    """The pipeline that reads and writes the alert state, and whether it writes a DuckDB file in
    place (no working file beside it and none ever published)."""
    opts = replace(opts, pipeline_name=opts.pipeline_name or "cja_alert")
    if opts.destination != "duckdb":
        return make_pipeline(opts), False
    path = Path(opts.duckdb_path)
    published = path.resolve()
    if not published.is_file():
        raise no_warehouse(path)
    record = published.with_name(published.name + RECORD_SUFFIX)
    in_place = not working_path(published).exists() and not record.exists()
    return make_pipeline(opts, in_place=in_place), in_place


def _prepare(opts: RunOptions, in_place: bool) -> None:
    if opts.destination == "duckdb" and not in_place:
        prepare_working(Path(opts.duckdb_path).resolve(), runner_settings().duckdb_storage_version)


def _plans(
    pipeline: dlt.Pipeline,
    settings: AlertsConfiguration,
    sinks: dict[str, str],
    org_ids: list[str] | None,
    now: datetime,
) -> list[_Plan]:
    labels = configured_org_ids()
    plans: list[_Plan] = []
    with pipeline.sql_client() as sql:
        present = existing_tables(sql)
        last = last_successes(sql) if "sync_runs" in present else {}
        if org_ids is not None:
            last = {org: at for org, at in last.items() if org in org_ids}
        if not last:
            which = f"of org {cut(', '.join(org_ids), 200)} " if org_ids else ""
            raise NoSuccessfulSync(f"no successful sync {which}in this warehouse; run cja-sync run first")
        states = deliveries.read_states(sql) if deliveries.TABLE in present else {}
        if SPELLS_TABLE in present:  # a table of 0.2.0/0.3.0 that no sync migrated yet
            with sql.begin_transaction():
                ensure_table(sql)
        hours = stale_after_hours(sorted(last), float(health_settings().sync_stale_after_hours))
        stale = stale_syncs(last, hours, now)
        has_spells = SPELLS_TABLE in present
        for org in sorted(last):
            own = {sink: states.get((org, sink)) for sink in sinks}
            marks = [s["through_at"] for s in own.values() if s and s.get("delivered_at") and s["through_at"]]
            # every sink told and none due a reminder: only what changed since the oldest mark
            changed_only = len(marks) == len(sinks) and not any(_due(s, settings, now) for s in own.values())
            since = min(marks) if marks else None
            rows = spells(sql, org, since, changed_only) if has_spells else []
            through = latest_recorded(sql, org) if has_spells else None
            counts = open_counts(sql, org) if has_spells else {}
            fed = fed_data_views(sql, org) if "connection_impact" in present else None
            for sink in sinks:
                name = labels.get(org)
                plan = _plan(
                    org, name, sink, own[sink], rows, through, stale.get(org), settings, now, counts, fed
                )
                plan.message.as_of = last[org].isoformat()
                if not plan.message.empty():
                    plans.append(plan)
    return plans


def _plan(
    org: str,
    name: str | None,
    sink: str,
    state: dict[str, Any] | None,
    rows: list[dict[str, Any]],
    through: tuple[str, Any] | None,
    stale: dict[str, Any] | None,
    settings: AlertsConfiguration,
    now: datetime,
    holding: dict[str, int],
    fed: FedDataViews | None = None,
) -> _Plan:
    """What `sink` is to be told about `org`: spells opened after its mark (all open ones when it
    was never told), those closed after it that it was told open, sync_stale's change, and with
    `remind_after_hours` the rest of what holds when its last reminder is that old."""
    told = state is not None and state.get("delivered_at") is not None
    mark = state.get("through_at") if told and state else None
    open_rows = [r for r in rows if r["closed_run_id"] is None]
    new = [(r["condition"], r) for r in open_rows if not told or after(r["opened_at"], mark)]
    resolved = []
    if told:
        closed = [r for r in rows if r["closed_run_id"] is not None and after(r["closed_at"], mark)]
        resolved = [(r["condition"], r) for r in closed if not after(r["opened_at"], mark)]
    stale_told = state.get("sync_stale_since") if told and state else None
    if stale and not stale_told:
        new.append(("sync_stale", stale))
    elif not stale and stale_told:
        resolved.append(("sync_stale", {"subject": org, "since": stale_told.isoformat()}))
    still: list[tuple[str, dict[str, Any]]] = []
    due = _due(state, settings, now)
    if due:
        still = [(r["condition"], r) for r in open_rows if not after(r["opened_at"], mark)]
        if stale and stale_told:
            still.append(("sync_stale", stale))
    counts = {c: int(holding.get(c, 0)) for c in CONDITIONS}
    counts["sync_stale"] = 1 if stale else 0
    message = AlertMessage(
        org,
        name,
        None,
        new=by_condition(new, fed),
        resolved=by_condition(resolved, fed),
        still=by_condition(still, fed) if still else {},
        counts=counts,
    )
    outcome = Outcome(org, name, sink, len(new), len(resolved), reminded=len(still))
    stale_since = (stale_told or now) if stale else None
    return _Plan(outcome, message, state, through, stale_since, told_everything=not told or due)


def _due(state: dict[str, Any] | None, settings: AlertsConfiguration, now: datetime) -> bool:
    """Whether a told sink's last complete message is `remind_after_hours` old."""
    remind = float(settings.remind_after_hours)
    if not state or state.get("delivered_at") is None or remind <= 0:
        return False
    last_full = state.get("reminded_at") or state["delivered_at"]
    return bool((now - last_full).total_seconds() >= remind * 3600)
