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


def item(condition: str, row: dict[str, Any]) -> dict[str, Any]:
    """The item of a spell row of `health_alerts` (or of a sync_stale item from freshness.py):
    `subject` is exactly what `health --new --json` lists under `condition`."""
    if condition == "sync_stale":
        return dict(row)
    out: dict[str, Any] = {column: row.get(column) for column in ITEM_COLUMNS}
    opened = utc(row.get("opened_at"))
    out["since"] = opened.isoformat() if opened else None
    closed = utc(row.get("closed_at"))
    if closed is not None:
        out["resolved_at"] = closed.isoformat()
    return out


def by_condition(pairs: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """{condition: items sorted by subject} with every condition present (empty lists too)."""
    out: dict[str, list[dict[str, Any]]] = {c: [] for c in CONDITIONS}
    for condition, row in pairs:
        if condition in out:
            out[condition].append(item(condition, row))
    for items in out.values():
        items.sort(key=lambda i: str(i.get("subject")))
    return out


def after(value: Any, mark: datetime | None) -> bool:
    """Whether the timestamp `value` is later than `mark` (None: nothing was told yet)."""
    at = utc(value)
    return at is not None and (mark is None or at > mark)
