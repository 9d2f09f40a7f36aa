"""Alert items: what `health --new --json` names a subject, as an object that later releases may
add fields to. Built in one place (`item`), for every condition and every sink."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..warehouse.freshness import utc
from ..warehouse.health_alerts import CONDITIONS as SYNC_CONDITIONS
from ..warehouse.health_alerts import ITEM_COLUMNS

# worst first: no sync at all hides everything else; then what loses data, then what degrades it
CONDITIONS = ("sync_stale", "failed", "stuck", "validation", "drop", "stale")
assert set(CONDITIONS) == {*SYNC_CONDITIONS, "sync_stale"}
TITLES = {
    "sync_stale": "no successful sync",
    "failed": "failed backfills",
    "stuck": "stuck backfills",
    "validation": "validation errors",
    "drop": "ingestion drops",
    "stale": "stale datasets",
}


# {connection_id: [{"id", "name"}]}: the live data views each connection feeds (connection_impact)
FedDataViews = dict[str, list[dict[str, Any]]]


def fed_data_views(sql: Any, org_id: str) -> FedDataViews:
    """The org's live data views by the connection they read, from the `connection_impact` view
    (Adobe's guardrail is ~2,000 data views per org: read whole)."""
    rows = sql.execute_sql(
        "SELECT connection_id, data_view_id, data_view_name FROM "
        f"{sql.make_qualified_table_name('connection_impact')} WHERE org_id = %s "
        "ORDER BY connection_id, data_view_name, data_view_id",
        org_id,
    )
    out: FedDataViews = {}
    for cid, dvid, name in rows or ():
        out.setdefault(str(cid), []).append({"id": dvid, "name": name})
    return out


def item(condition: str, row: dict[str, Any], fed: FedDataViews | None = None) -> dict[str, Any]:
    """The item of a spell row of `health_alerts` (or of a sync_stale item from freshness.py):
    `subject` is exactly what `health --new --json` lists under `condition`. With `fed` (data
    views synced), `data_views` lists those the item's connection feeds: who is hit."""
    if condition == "sync_stale":
        return dict(row)
    out: dict[str, Any] = {column: row.get(column) for column in ITEM_COLUMNS}
    if fed is not None:
        out["data_views"] = fed.get(str(row.get("connection_id")), [])
    opened = utc(row.get("opened_at"))
    out["since"] = opened.isoformat() if opened else None
    closed = utc(row.get("closed_at"))
    if closed is not None:
        out["resolved_at"] = closed.isoformat()
    return out


def by_condition(
    pairs: list[tuple[str, dict[str, Any]]], fed: FedDataViews | None = None
) -> dict[str, list[dict[str, Any]]]:
    """{condition: items sorted by subject} with every condition present (empty lists too)."""
    out: dict[str, list[dict[str, Any]]] = {c: [] for c in CONDITIONS}
    for condition, row in pairs:
        if condition in out:
            out[condition].append(item(condition, row, fed))
    for items in out.values():
        items.sort(key=lambda i: str(i.get("subject")))
    return out


def after(value: Any, mark: datetime | None) -> bool:
    """Whether the timestamp `value` is later than `mark` (None: nothing was told yet)."""
    at = utc(value)
    return at is not None and (mark is None or at > mark)
