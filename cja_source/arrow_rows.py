"""Backfill and dataset rows as Arrow tables: dlt loads Arrow without its row-by-row normalizer,
which was most of a large first sync's time (bench/README.md, P4 profile).

Only the documented shape takes this path. A value that does not fit its documented type, or a
field Adobe adds tomorrow, sends the whole batch to dlt as plain rows instead, where dlt's own
normalizer makes a variant or a new column of it exactly as it does for every other table. Both
kinds load into the same table, under the same column names and types."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .records import fit_wide_numbers, is_wide

UTC_US = pa.timestamp("us", tz="UTC")
# OverflowError: an integer beyond int64 (orjson reads up to 2**64 - 1)
UNFIT = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    TypeError,
    ValueError,
    OverflowError,
)


def _text(values: list[Any]) -> pa.Array:
    return pa.array(values, pa.string())  # refuses numbers, booleans and objects


def _integer(values: list[Any]) -> pa.Array:
    # pa.array would truncate 2.5 to 2 where dlt's normalizer keeps it (as a variant column)
    if any(v is not None and type(v) is not int for v in values):
        raise ValueError("not an integer")
    return pa.array(values, pa.int64())


def _boolean(values: list[Any]) -> pa.Array:
    return pa.array(values, pa.bool_())  # refuses 0 and 1


def _api_time(values: list[Any]) -> pa.Array:
    # Arrow wants a zone offset; a time without one goes the rows' way, as do nanoseconds
    return pc.cast(pa.array(values, pa.string()), UTC_US)


def _json(values: list[Any]) -> pa.Array:
    # the text dlt itself writes for a json-hinted column (compact orjson)
    return pa.array([None if v is None else orjson.dumps(v).decode() for v in values], pa.string())


def _utc(values: list[Any]) -> pa.Array:
    return pa.array(values, UTC_US)  # datetimes of our own (first and last seen)


Column = tuple[str, Callable[[list[Any]], pa.Array]]

# API field (or a field the row adds) -> (column, builder) for the fields every backfill has;
# anything else Adobe adds is inferred
BACKFILL_FIELDS: dict[str, Column] = {
    "id": ("id", _text),
    "connection_id": ("connection_id", _text),
    "data_set_id": ("data_set_id", _text),
    "status": ("status", _text),
    "startDate": ("start_date", _api_time),
    "endDate": ("end_date", _api_time),
    "createdDate": ("created_date", _api_time),
    "allData": ("all_data", _boolean),
    "org_id": ("org_id", _text),
    "first_seen_at": ("first_seen_at", _utc),
    "last_seen_at": ("last_seen_at", _utc),
}


def backfills_table(rows: list[dict[str, Any]]) -> pa.Table | list[dict[str, Any]]:
    """One Arrow table for many backfill rows; the rows when a value does not fit its documented
    type (dlt then gives it a variant column instead of failing the run), with any number outside
    int64 made a double of its own column (see records.fit_wide_numbers)."""
    if not rows:
        return rows
    try:
        columns = {
            column: build([r.get(field) for r in rows]) for field, (column, build) in BACKFILL_FIELDS.items()
        }
        known = BACKFILL_FIELDS.keys() | columns.keys()
        for name in sorted({k for r in rows for k in r} - known):
            values = [r.get(name) for r in rows]
            # Arrow would type a wide number double, which a BIGINT column of that name refuses
            if any(_holds_wide(v) for v in values):
                raise ValueError(f"{name}: a number outside int64")
            columns[name] = pa.array(values)
        return pa.table(columns)
    except UNFIT:
        return [
            fit_wide_numbers(r, f"connection {r.get('connection_id')}, backfill {r.get('id')}") for r in rows
        ]


def _holds_wide(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_wide(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_wide(v) for v in value)
    return is_wide(value)


# DataSetMetadata (the API reference) as dlt's normalizer names and types it: nested objects
# become `parent__child` columns; lookupParentFields is json-hinted by the datasets resource
DATASET_FIELDS: dict[str, Column] = {
    "dataSetId": ("data_set_id", _text),
    "domain": ("domain", _text),
    "type": ("type", _text),
    "timestampId": ("timestamp_id", _text),
    "visitorId": ("visitor_id", _text),
    "identityNamespace": ("identity_namespace", _text),
    "usePrimaryIdNamespace": ("use_primary_id_namespace", _boolean),
    "identityMap": ("identity_map", _boolean),
    "identityNamespaceCol": ("identity_namespace_col", _text),
    "name": ("name", _text),
    "streaming": ("streaming", _boolean),
    "streamingEnabledAt": ("streaming_enabled_at", _api_time),
    "lastIngestedTime": ("last_ingested_time", _api_time),
    "lookupKeyField": ("lookup_key_field", _text),
    "lookupParentFields": ("lookup_parent_fields", _json),
    "lookupParentDataSetId": ("lookup_parent_data_set_id", _text),
    "lookupParentDataSetType": ("lookup_parent_data_set_type", _text),
}
DATASET_OBJECTS: dict[str, dict[str, Column]] = {
    "backfillSummary": {
        "total": ("backfill_summary__total", _integer),
        "failed": ("backfill_summary__failed", _integer),
        "inProgress": ("backfill_summary__in_progress", _integer),
        "completed": ("backfill_summary__completed", _integer),
        "invalid": ("backfill_summary__invalid", _boolean),
    },
    "dataSourceType": {
        "id": ("data_source_type__id", _text),
        "type": ("data_source_type__type", _text),
        "description": ("data_source_type__description", _text),
    },
}


def datasets_table(
    items: Sequence[dict[str, Any]],
    connection_ids: Sequence[str],
    first_seen: Sequence[datetime],
    org_id: str,
    now: datetime,
    skipped: Sequence[str],
    content_hashes: Sequence[str] | None = None,
) -> pa.Table | None:
    """The `datasets` rows of listed dataset items (each with its connection id and first-seen
    time) as one Arrow table; None when an item has a field or a value outside DataSetMetadata's
    documented shape. Fields in `skipped` have tables of their own."""
    known = DATASET_FIELDS.keys() | DATASET_OBJECTS.keys() | set(skipped)
    for item in items:
        if not item.keys() <= known:
            return None
        for name, fields in DATASET_OBJECTS.items():
            value = item.get(name)
            if value is not None and not (isinstance(value, dict) and value.keys() <= fields.keys()):
                return None
    n = len(items)
    try:
        columns: dict[str, pa.Array] = {}
        for api_name, (column, build) in DATASET_FIELDS.items():
            columns[column] = build([item.get(api_name) for item in items])
        for api_name, fields in DATASET_OBJECTS.items():
            objects = [item.get(api_name) or {} for item in items]
            for key, (column, build) in fields.items():
                columns[column] = build([o.get(key) for o in objects])
        columns["connection_id"] = pa.array(connection_ids, pa.string())
        columns["org_id"] = pa.array([org_id] * n, pa.string())
        columns["first_seen_at"] = _utc(list(first_seen))
        columns["last_seen_at"] = _utc([now] * n)
        columns["deleted_in_source_at"] = pa.nulls(n, UTC_US)
        hashes: list[str | None] = list(content_hashes) if content_hashes is not None else [None] * n
        columns["content_hash"] = pa.array(hashes, pa.string())
        return pa.table(columns)
    except UNFIT:
        return None
