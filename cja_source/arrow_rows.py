"""Backfill rows as Arrow tables: dlt loads Arrow without its row-by-row normalizer, which is most
of a large first sync's time (bench/README.md, P4 profile)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

UTC_US = pa.timestamp("us", tz="UTC")

# column -> Arrow type for the fields every backfill has; anything else Adobe adds is inferred
BACKFILL_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "connection_id": pa.string(),
    "data_set_id": pa.string(),
    "status": pa.string(),
    "start_date": UTC_US,
    "end_date": UTC_US,
    "created_date": UTC_US,
    "all_data": pa.bool_(),
    "org_id": pa.string(),
    "first_seen_at": UTC_US,
    "last_seen_at": UTC_US,
}
API_NAMES = {
    "startDate": "start_date",
    "endDate": "end_date",
    "createdDate": "created_date",
    "allData": "all_data",
}


def backfills_table(rows: list[dict[str, Any]]) -> pa.Table | list[dict[str, Any]]:
    """One Arrow table for many backfill rows; the rows unchanged when a value does not fit its
    documented type (dlt then gives it a variant column instead of failing the run)."""
    if not rows:
        return rows
    try:
        columns: dict[str, pa.Array] = {}
        for api_name in (
            "id",
            "connection_id",
            "data_set_id",
            "status",
            "startDate",
            "endDate",
            "createdDate",
            "allData",
            "org_id",
            "first_seen_at",
            "last_seen_at",
        ):
            name = API_NAMES.get(api_name, api_name)
            values = [r.get(api_name) for r in rows]
            wanted = BACKFILL_TYPES[name]
            if wanted == UTC_US and name not in ("first_seen_at", "last_seen_at"):
                columns[name] = pc.cast(pa.array(values, pa.string()), wanted)
            else:
                columns[name] = pa.array(values, wanted)
        known = set(API_NAMES) | set(BACKFILL_TYPES)
        extra = sorted({k for r in rows for k in r} - known)
        for name in extra:
            columns[name] = pa.array([r.get(name) for r in rows])
        return pa.table(columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return rows
