"""Turn API objects into warehouse rows. Pure functions: no I/O, no dlt."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pendulum

# Lists inside a connection that get tables of their own instead of dlt's nested tables.
CONNECTION_LISTS = ("dataSets", "connectionValidationErrors", "configuredContainers")
DATASET_LISTS = ("backfills", "containerFields")

SummaryKey = tuple[int, int, int, int]


@dataclass
class PairState:
    """What the warehouse holds for one (connection, dataset) pair."""

    first_seen_at: datetime | None = None
    summary: SummaryKey | None = None
    schema_info: dict[str, Any] | None = None


@dataclass
class WarehouseSnapshot:
    """The part of the warehouse a run needs to decide what to ask for (read before the run)."""

    connections_first_seen: dict[str, datetime] = field(default_factory=dict)
    connections_modified: dict[str, Any] = field(default_factory=dict)
    pairs: dict[tuple[str, str], PairState] = field(default_factory=dict)
    backfills_first_seen: dict[str, datetime] = field(default_factory=dict)
    data_source_types_seen: dict[str, datetime] = field(default_factory=dict)  # locale -> last fetch
    # stored status of every backfill not COMPLETED (most are): a backfill in backfills_first_seen
    # and absent here is COMPLETED, which keeps this small for the ~500k backfills of a large org
    backfills_status: dict[str, str] = field(default_factory=dict)
    last_success_at: dict[str, datetime] = field(default_factory=dict)  # org -> started_at

    @property
    def empty(self) -> bool:
        return not self.connections_first_seen


def with_prefix(connection_id: str) -> str:
    """Connection ids are stored with their `dg_` prefix, whichever form the API used."""
    return connection_id if connection_id.startswith("dg_") else f"dg_{connection_id}"


def same_instant(stored: Any, listed: Any) -> bool:
    """A stored timestamp (datetime from the warehouse) and the API's ISO string, compared as instants."""
    if stored is None or listed is None:
        return False
    a, b = _instant(stored), _instant(listed)
    return a is not None and b is not None and abs((a - b).total_seconds()) < 0.001


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        parsed = pendulum.parse(str(value))
    except (ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, datetime) else None  # a date or a time alone is no instant


def summary_key(summary: Any) -> SummaryKey | None:
    """(total, failed, inProgress, completed); IN_QUEUE is what the other three leave of total."""
    if not isinstance(summary, dict):
        return None
    try:
        return (
            int(summary.get("total") or 0),
            int(summary.get("failed") or 0),
            int(summary.get("inProgress") or 0),
            int(summary.get("completed") or 0),
        )
    except (TypeError, ValueError):
        return None


def connection_row(
    item: dict[str, Any], org_id: str, now: datetime, first_seen: datetime | None
) -> dict[str, Any]:
    row = {k: v for k, v in item.items() if k not in CONNECTION_LISTS}
    row["id"] = with_prefix(str(item["id"]))
    row["org_id"] = org_id
    row["first_seen_at"] = first_seen or now
    row["last_seen_at"] = now
    row["deleted_in_source_at"] = None
    return row


def pair_first_seen(state: PairState | None, now: datetime) -> datetime:
    """When a (connection, dataset) pair was first seen: as stored, else `now`."""
    return (state.first_seen_at if state else None) or now


def dataset_row(
    connection_id: str,
    item: dict[str, Any],
    org_id: str,
    now: datetime,
    state: PairState | None,
    schema_info: dict[str, Any] | None,
) -> dict[str, Any]:
    row = {k: v for k, v in item.items() if k not in DATASET_LISTS}
    row["connection_id"] = connection_id
    row["org_id"] = org_id
    if schema_info is not None:
        row["schemaInfo"] = schema_info
    row["first_seen_at"] = pair_first_seen(state, now)
    row["last_seen_at"] = now
    row["deleted_in_source_at"] = None
    return row


def backfill_rows(
    connection_id: str,
    data_set_id: str,
    items: Iterable[dict[str, Any]],
    org_id: str,
    now: datetime,
    first_seen: dict[str, datetime],
) -> list[dict[str, Any]]:
    rows = []
    seen: set[str] = set()
    for item in items:
        backfill_id = item.get("id")
        if not backfill_id or backfill_id in seen:  # a page that drifted repeats an item
            continue
        seen.add(backfill_id)
        row = dict(item)
        row["connection_id"] = connection_id
        row["data_set_id"] = item.get("dataSetId") or data_set_id
        row.pop("dataSetId", None)
        row["org_id"] = org_id
        row["first_seen_at"] = first_seen.get(backfill_id) or now
        row["last_seen_at"] = now
        rows.append(row)
    return rows


def validation_error_rows(
    connection_id: str, errors: Any, org_id: str, now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for error in errors or ():
        if not isinstance(error, dict):
            continue
        row = dict(error)
        row["connection_id"] = connection_id
        row["error_key"] = _fingerprint(
            error.get("errorCode"),
            error.get("dataSetId"),
            error.get("disallowedField"),
            error.get("missingField"),
        )
        row["org_id"] = org_id
        row["last_seen_at"] = now
        rows.append(row)
    return _unique(rows, ("connection_id", "error_key"))


def container_rows(connection_id: str, containers: Any, org_id: str, now: datetime) -> list[dict[str, Any]]:
    rows = [
        {
            "connection_id": connection_id,
            "container": c.get("container"),
            "org_id": org_id,
            "last_seen_at": now,
        }
        for c in containers or ()
        if isinstance(c, dict) and c.get("container")
    ]
    return _unique(rows, ("connection_id", "container"))


def container_field_rows(
    connection_id: str, data_set_id: str, fields: Any, org_id: str, now: datetime
) -> list[dict[str, Any]]:
    rows = [
        {
            "connection_id": connection_id,
            "data_set_id": data_set_id,
            "container": f.get("container"),
            "system_field_value": f.get("systemFieldValue"),
            "org_id": org_id,
            "last_seen_at": now,
        }
        for f in fields or ()
        if isinstance(f, dict) and f.get("container")
    ]
    return _unique(rows, ("connection_id", "data_set_id", "container"))


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:16]


def _unique(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        out[tuple(row[k] for k in key)] = row
    return list(out.values())
