"""`cja-sync health`: the health views as a table worst first, or JSON; `--fail-on` for cron alerting."""

from __future__ import annotations

import argparse
import heapq
import json
import sys
from collections.abc import Iterator
from typing import Any

from ..errors import NoSuccessfulSync
from ..options import EXIT_FAILED, EXIT_HEALTH, EXIT_OK, EXIT_USAGE, options_from_args
from ..text import cut, json_default, pad, ts, visible, width
from ..warehouse.freshness import stale_after_hours, stale_syncs
from ..warehouse.health_alerts import new_conditions
from ..warehouse.reading import Warehouse, health_settings, open_for_reading
from . import impact as dv_impact
from .output import reader_may_leave

CONDITIONS = ("failed", "stuck", "stale", "validation", "drop", "sync_stale")
ROW_COLUMNS = (
    "connection_id",
    "connection_name",
    "data_set_id",
    "data_set_name",
    "health_status",
    "severity_rank",
    "is_stale",
    "completed_count",
    "failed_count",
    "in_progress_count",
    "in_queue_count",
    "stuck_count",
    "oldest_open_age_hours",
    "last_failed_at",
    "last_ingested_time",
)
TABLE_HEADER = ("STATUS", "STALE", "CONNECTION", "DATASET", "C/F/P/Q", "OLDEST OPEN", "LAST FAILED")

DEFAULT_LIMIT = 25
LEGEND = (
    "C/F/P/Q: the dataset's backfills completed/failed/in progress/queued; OLDEST OPEN: age of its "
    "oldest open backfill at the last sync; LAST FAILED: creation time of its latest failed backfill"
)


def run_health(args: argparse.Namespace) -> int:
    fail_on = [c.strip() for c in (args.fail_on or "").split(",") if c.strip()]
    unknown = [c for c in fail_on if c not in CONDITIONS]
    if unknown:
        print(
            f"cja-sync: unknown --fail-on condition {visible(unknown[0])!r}; use {','.join(CONDITIONS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.limit is not None and args.limit < 1:
        print("cja-sync: --limit must be at least 1 (or use --all)", file=sys.stderr)
        return EXIT_USAGE
    warehouse = open_for_reading(options_from_args(args, pipeline_name="cja"))
    org_id = org_id_of(args.org) if getattr(args, "org", None) else None
    shown = None if args.json or args.all or getattr(args, "new", False) else (args.limit or DEFAULT_LIMIT)
    report = read_report(warehouse, shown, org_id)
    if org_id is not None:
        report = only_org(report, org_id)
        if not report["orgs"]:
            print(f"cja-sync: no successful sync of org {visible(args.org)} in this dataset", file=sys.stderr)
            return EXIT_FAILED
    only_new = bool(getattr(args, "new", False))
    if only_new:
        # sync_stale is the wall clock's, not a sync's: while it holds, no sync knew it already
        new = new_conditions(warehouse.pipeline, org_id)
        report["new"] = {**new, "sync_stale": [item["subject"] for item in report["sync_stale"]]}
    holding = report["new"] if only_new else report["conditions"]
    met = [c for c in fail_on if holding[c]]
    code = EXIT_HEALTH if met else EXIT_OK  # decided before printing: no output error may lower it
    with reader_may_leave():
        if args.json:
            print(
                json.dumps(
                    {**_without(report, "datasets_total"), "fail_on": fail_on, "failing": met},
                    default=json_default,
                    sort_keys=True,
                )
            )
        else:
            limit = None if args.all else (args.limit or DEFAULT_LIMIT)
            if only_new:
                print_new(report["new"], limit)
            else:
                print_report(report, limit=limit, more="--limit N or --all")
            if met:
                print(f"health conditions met{' (new)' if only_new else ''}: {', '.join(met)}")
    return code


def print_health_for_demo(args: argparse.Namespace) -> None:
    """The short version the demo ends with: org summary and the worst ten datasets."""
    try:
        report = read_report(open_for_reading(options_from_args(args, pipeline_name="cja_demo")), 10)
    except NoSuccessfulSync as exc:
        print(f"cja-sync: {exc.message}", file=sys.stderr)
        return
    print()
    print_report(report, limit=10, more=f"cja-sync health --duckdb-path {visible(args.duckdb_path)} --all")


def read_report(warehouse: Warehouse, limit: int | None = None, org_id: str | None = None) -> dict[str, Any]:
    """Everything `health` prints, from the views only. With `limit`, only the worst `limit`
    problem datasets are kept (`datasets_total` counts them all): a maximal org has tens of
    thousands, streamed past a heap. `org_id`: that org's datasets only."""
    with warehouse.reader() as reader:
        q, rows = reader.q, reader.rows
        orgs = rows(f"SELECT * FROM {q('org_health_summary')} ORDER BY org_id")
        whose = "" if org_id is None else " AND org_id = '" + org_id.replace("'", "''") + "'"
        found = reader.stream(
            f"SELECT org_id, {', '.join(ROW_COLUMNS)} FROM {q('backfill_health')} "
            f"WHERE (health_status IN ('STUCK', 'FAILED', 'IN_PROGRESS') OR is_stale){whose}"
        )
        counted = _Counted(found)
        problems = list(counted) if limit is None else heapq.nsmallest(limit, counted, key=_worst_first)
        validation = rows(
            "SELECT org_id, connection_id, connection_name, validation_errors "
            f"FROM {q('connection_health')} WHERE validation_errors > 0 ORDER BY connection_name"
        )
        drops = rows(f"SELECT * FROM {q('ingestion_drops')} ORDER BY drop_pct DESC, connection_id")
        impact = dv_impact.read_impact(reader)
    problems.sort(key=_worst_first)
    stale = stale_orgs(orgs)
    return {
        "orgs": orgs,
        "datasets": problems,
        "datasets_total": counted.n,
        "validation": validation,
        "drops": drops,
        "sync_stale": stale,
        "conditions": _conditions(orgs, drops, stale),
        "impact": impact,
    }


def stale_orgs(orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sync_stale items of `orgs` (org_health_summary rows), by the wall clock now."""
    ids = [o["org_id"] for o in orgs]
    hours = stale_after_hours(ids, float(health_settings().sync_stale_after_hours))
    stale = stale_syncs({o["org_id"]: o["as_of"] for o in orgs}, hours)
    return [stale[o] for o in ids if o in stale]


def _without(report: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != key}


class _Counted:
    """Passes rows on and counts them."""

    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            self.n += 1
            yield row


def org_id_of(org: str) -> str:
    """An IMS org id as given, or the org id of a configured `[sources.cja.orgs.<name>]` block."""
    if org.endswith("@AdobeOrg"):
        return org
    from cja_source.configuration import load_settings

    cfg = load_settings(need_credentials=False, sections=("sources", "cja", "orgs", org))
    return str(getattr(cfg.credentials, "org_id", None) or org)


def only_org(report: dict[str, Any], org_id: str) -> dict[str, Any]:
    """The report of one org of a fleet: its summary row, its datasets, its conditions."""
    orgs = [o for o in report["orgs"] if o["org_id"] == org_id]
    drops = [d for d in report["drops"] if d["org_id"] == org_id]
    stale = [s for s in report["sync_stale"] if s["subject"] == org_id]
    return {
        "orgs": orgs,
        "datasets": [r for r in report["datasets"] if r["org_id"] == org_id],
        "datasets_total": report["datasets_total"],
        "validation": [r for r in report["validation"] if r["org_id"] == org_id],
        "drops": drops,
        "sync_stale": stale,
        "conditions": _conditions(orgs, drops, stale),
        "impact": dv_impact.only_org(report["impact"], org_id),
    }


def _conditions(
    orgs: list[dict[str, Any]], drops: list[dict[str, Any]], stale: list[dict[str, Any]]
) -> dict[str, bool]:
    return {
        "failed": any(o["datasets_failed"] for o in orgs),
        "stuck": any(o["backfills_stuck"] for o in orgs),
        "stale": any(o["datasets_stale"] for o in orgs),
        "validation": any(o["validation_errors"] for o in orgs),
        "drop": bool(drops),
        "sync_stale": bool(stale),
    }


def print_new(new: dict[str, list[str]], limit: int | None) -> None:
    """What holds now and did not at the previous successful sync (subjects: connection/dataset,
    connection/error key, or connection for a volume drop)."""
    if not any(new.values()):
        print("nothing new since the previous successful sync")
        return
    print("new since the previous successful sync:")
    for condition, subjects in new.items():
        shown = subjects if limit is None else subjects[:limit]
        for subject in shown:
            print(f"  {condition:<10} {cut(subject, 120)}")
        if len(shown) < len(subjects):
            print(f"  {condition:<10} ... {len(subjects) - len(shown)} more")


def _worst_first(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        -row["severity_rank"],
        -(row["oldest_open_age_hours"] or 0),
        row["connection_name"] or "",
        row["data_set_name"] or "",
    )


def print_report(report: dict[str, Any], limit: int | None = None, more: str = "--all") -> None:
    """The org summary, then the problem datasets worst first; `limit` rows at most (None: all).
    With more than one org, every row says whose it is: the org's configured name, or its IMS id."""
    labels = org_labels(report["orgs"])
    stale = {s["subject"]: s for s in report.get("sync_stale") or []}
    for org in report["orgs"]:
        _print_org(org, labels)
        if org["org_id"] in stale:
            s = stale[org["org_id"]]
            print(
                f"  sync_stale: no successful sync for {s['hours_since']:g} h (more than "
                f"{s['after_hours']:g} h): is the scheduled cja-sync run still running?"
            )
    many = len(report["orgs"]) > 1

    def whose(row: dict[str, Any]) -> str:
        return f"{labels.get(row['org_id'], '')}: " if many else ""

    rows = report["datasets"]
    shown = rows if limit is None else rows[:limit]
    if not shown:
        print("no stuck, failed, stale or running backfills")
    else:
        _print_table(shown, labels if many else None)
        print(LEGEND)
        total = max(len(rows), int(report.get("datasets_total") or 0))
        if len(shown) < total:
            print(f"{len(shown)} of {total} datasets shown, worst first; for more: {more}")
    drops = report.get("drops") or []
    if drops:
        print(f"connections whose daily events dropped ({len(drops)}):")
        for d in drops if limit is None else drops[:limit]:
            print(
                f"  {whose(d)}{_named(d['connection_name'], d['connection_id'])}: "
                f"{d['latest_num_daily_events']} "
                f"vs median {d['baseline_median']:g} (-{d['drop_pct']:g} %)"
            )
    validation = report["validation"]
    if validation:
        listed = validation if limit is None else validation[:limit]
        print(f"connections with validation errors ({len(listed)} of {len(validation)}):")
        for v in listed:
            print(
                f"  {whose(v)}{cut(v['connection_name'], 60)} ({cut(v['connection_id'], 60)}): "
                f"{v['validation_errors']}"
            )
    dv_impact.print_impact(report.get("impact"), shown, limit)


def org_labels(orgs: list[dict[str, Any]]) -> dict[str, str]:
    """{IMS org id: what to call it}: the `[sources.cja.orgs.<name>]` name this machine's
    configuration gives it (a fleet speaks in its own names), else the id itself."""
    if not orgs:
        return {}
    from cja_source.fleet_config import configured_org_ids

    names = configured_org_ids()
    return {o["org_id"]: visible(names.get(o["org_id"], o["org_id"])) for o in orgs}


def _print_org(org: dict[str, Any], labels: dict[str, str]) -> None:
    org_id = cut(org["org_id"], 80)
    label = labels.get(org["org_id"], org_id)
    print(
        f"Health of {org_id if label == org_id else f'{label} ({org_id})'} as of {ts(org['as_of'])} "
        f"(stuck after {org['stuck_after_hours']:g} h, stale after {org['stale_after_hours']:g} h)"
    )
    print(
        f"  connections {org['connections']}: {org['connections_unhealthy']} need attention, "
        f"{org['connections_with_validation_errors']} with validation errors "
        f"({org['validation_errors']} errors)"
    )
    print(
        f"  datasets {org['datasets']}: stuck {org['datasets_stuck']}, failed {org['datasets_failed']}, "
        f"in progress {org['datasets_in_progress']}, healthy {org['datasets_healthy']}, "
        f"no backfills {org['datasets_no_backfills']}; stale {org['datasets_stale']} "
        f"of {org['streaming_datasets']} streaming"
    )
    print(
        f"  backfills {org['backfills_total']}: completed {org['backfills_completed']}, "
        f"failed {org['backfills_failed']}, in progress {org['backfills_in_progress']}, "
        f"queued {org['backfills_in_queue']}, stuck {org['backfills_stuck']}"
    )


def _print_table(rows: list[dict[str, Any]], labels: dict[str, str] | None = None) -> None:
    """The datasets, one a line; `labels`: an ORG column first, named by them."""
    header: tuple[str, ...] = TABLE_HEADER
    body: list[tuple[str, ...]] = [
        (
            visible(r["health_status"]),
            "stale" if r["is_stale"] else "",
            _named(r["connection_name"], r["connection_id"]),
            _named(r["data_set_name"], r["data_set_id"]),
            f"{r['completed_count']}/{r['failed_count']}/{r['in_progress_count']}/{r['in_queue_count']}",
            "" if r["oldest_open_age_hours"] is None else f"{r['oldest_open_age_hours']:.0f} h",
            ts(r["last_failed_at"]),
        )
        for r in rows
    ]
    if labels is not None:
        header = ("ORG", *header)
        body = [
            (cut(labels.get(r["org_id"], r["org_id"]), 40), *line) for r, line in zip(rows, body, strict=True)
        ]
    widths = [max(width(line[i]) for line in (header, *body)) for i in range(len(header))]
    for line in (header, *body):
        print("  ".join(pad(cell, w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _named(name: Any, ident: Any) -> str:
    """A name cut to fit, with the end of the id: equal names stay told apart."""
    suffix = visible(ident)[-6:]
    return f"{cut(name or ident, 30)} ~{suffix}" if name else cut(ident, 37)
