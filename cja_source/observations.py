"""What each sync observes that Adobe keeps no history of: a connection's daily event count and the
status changes of backfills. Pure functions over rows; the resources are in cja_source/__init__.py.

Both tables are appended to by every sync and keyed by the sync's time (`observed_at`, the run's
`started_at`), so replaying a load package after a kill merges onto the same rows instead of adding
copies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .arrow_rows import UTC_US
from .records import WIDE_KEY, WarehouseSnapshot, is_wide, with_prefix

VOLUME_TABLE = "connection_volume_history"
CHANGES_TABLE = "backfill_status_changes"
TERMINAL = frozenset({"COMPLETED", "FAILED"})

VOLUME_HINTS: dict[str, Any] = {
    "primary_key": ("org_id", "connection_id", "observed_at"),
    "write_disposition": "merge",
    "columns": {
        "org_id": {"data_type": "text", "nullable": False},
        "connection_id": {"data_type": "text", "nullable": False},
        "observed_at": {"data_type": "timestamp", "nullable": False},
        "num_daily_events": {"data_type": "bigint", "nullable": True},
    },
}
CHANGES_HINTS: dict[str, Any] = {
    "primary_key": ("backfill_id", "observed_at"),
    "write_disposition": "merge",
    "columns": {
        "backfill_id": {"data_type": "text", "nullable": False},
        "observed_at": {"data_type": "timestamp", "nullable": False},
        "org_id": {"data_type": "text", "nullable": True},
        "connection_id": {"data_type": "text", "nullable": True},
        "data_set_id": {"data_type": "text", "nullable": True},
        "from_status": {"data_type": "text", "nullable": True},
        "to_status": {"data_type": "text", "nullable": True},
        "previous_observed_at": {"data_type": "timestamp", "nullable": True},
    },
}


def volume_rows(items: list[dict[str, Any]], org_id: str, now: datetime) -> list[dict[str, Any]]:
    """One point per listed connection. A missing or non-numeric count is stored as NULL: it is
    no point of the series, and never reads as a drop to 0. A count outside int64 is stored as a
    double in num_daily_events__v_double (see records.WIDE_KEY; the connections row warns of it),
    NULL in num_daily_events: no point of the series either."""
    rows = []
    for c in items:
        value = c.get("numDailyEvents")
        number: Any = None
        if is_wide(value):
            number = {WIDE_KEY: float(value)}
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = int(value)
        rows.append(
            {
                "org_id": org_id,
                "connection_id": with_prefix(str(c["id"])),
                "observed_at": now,
                "num_daily_events": number,
            }
        )
    return rows


def status_changes(
    batch: pa.Table | list[dict[str, Any]], snapshot: WarehouseSnapshot, org_id: str, now: datetime
) -> pa.Table | list[dict[str, Any]]:
    """Rows of `backfill_status_changes` for one batch of backfill rows about to be loaded.

    The stored status is what the previous sync saw: a pair's backfills are fetched again only when
    its backfillSummary moved, and every status change moves it. A backfill never stored gets a row
    with from_status NULL, except on a sync with an empty warehouse, where finished backfills are
    history from before the first sync and only the open ones are worth following."""
    previous = snapshot.last_success_at.get(org_id)
    first_sync = snapshot.empty
    if first_sync and isinstance(batch, pa.Table):
        return first_seen_open(batch, org_id, now, previous)
    ids, cids, dsids, statuses = _columns(batch)
    stored: dict[tuple[Any, Any], tuple[Mapping[str, datetime], Mapping[str, str]]] = {}
    out = []
    for bid, cid, dsid, status in zip(ids, cids, dsids, statuses, strict=True):
        pair = stored.get((cid, dsid))
        if pair is None:
            pair = stored[(cid, dsid)] = snapshot.pair_backfills(cid, dsid)
        known, stored_status = pair
        if bid in known:
            before: str | None = stored_status.get(bid, "COMPLETED")
            if before == status:
                continue
        elif first_sync and status in TERMINAL:
            continue
        else:
            before = None
        out.append(
            {
                "backfill_id": bid,
                "observed_at": now,
                "org_id": org_id,
                "connection_id": cid,
                "data_set_id": dsid,
                "from_status": before,
                "to_status": status,
                "previous_observed_at": previous,
            }
        )
    return out


def first_seen_open(batch: pa.Table, org_id: str, now: datetime, previous: datetime | None) -> pa.Table:
    """The first sync's rows in Arrow, without a Python loop: a large org's first sync sees ~500k
    backfills, and this runs inside its extract step (bench P4)."""
    status = batch.column("status")
    opened = batch.filter(
        pc.invert(pc.fill_null(pc.is_in(status, value_set=pa.array(sorted(TERMINAL))), False))
    )
    n = opened.num_rows
    return pa.table(
        {
            "backfill_id": opened.column("id"),
            "observed_at": pa.array([now] * n, UTC_US),
            "org_id": pa.array([org_id] * n, pa.string()),
            "connection_id": opened.column("connection_id"),
            "data_set_id": opened.column("data_set_id"),
            "from_status": pa.nulls(n, pa.string()),
            "to_status": opened.column("status"),
            "previous_observed_at": pa.array([previous] * n, UTC_US),
        }
    )


def _columns(batch: pa.Table | list[dict[str, Any]]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    if isinstance(batch, pa.Table):
        return tuple(
            batch.column(name).to_pylist() for name in ("id", "connection_id", "data_set_id", "status")
        )
    return (
        [r.get("id") for r in batch],
        [r.get("connection_id") for r in batch],
        [r.get("data_set_id") for r in batch],
        [r.get("status") for r in batch],
    )
