"""Turn API objects into warehouse rows. Pure functions: no I/O, no dlt."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard, cast

import pendulum

from .stored_backfills import StoredBackfills
from .stored_pairs import PairState, StoredPairs, SummaryKey

# Lists inside a connection that get tables of their own instead of dlt's nested tables.
CONNECTION_LISTS = ("dataSets", "connectionValidationErrors", "configuredContainers")
DATASET_LISTS = ("backfills", "containerFields")

logger = logging.getLogger("cja_source")

# A number outside int64 fits no BIGINT column: dlt's normalizer turns a whole double back into an
# int for a BIGINT column and the load fails (OverflowError on DuckDB, "bigint out of range" on
# Postgres), for the whole org. Such a number is stored as a double in the column dlt itself gives
# a double that does not fit (`<column>__v_double`): a row value {"v_double": x} is flattened there,
# whatever type the column has, on both warehouses. The column keeps NULL for that row.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
WIDE_KEY = "v_double"


@dataclass
class WarehouseSnapshot:
    """The part of the warehouse a run needs to decide what to ask for (read before the run)."""

    connections_first_seen: dict[str, datetime] = field(default_factory=dict)
    connections_modified: dict[str, Any] = field(default_factory=dict)
    # connections not marked deleted -> digest of the item their row was written from (or None)
    connections_hash: dict[str, str | None] = field(default_factory=dict)
    # by pair (stored_pairs.py); a dict of PairStates given here is turned into one
    pairs: StoredPairs = field(default_factory=lambda: StoredPairs.of_states({}))
    backfills_first_seen: dict[str, datetime] = field(default_factory=dict)
    data_source_types_seen: dict[str, datetime] = field(default_factory=dict)  # locale -> last fetch
    # stored status of every backfill not COMPLETED (most are): a backfill in backfills_first_seen
    # and absent here is COMPLETED, which keeps this small for the ~500k backfills of a large org
    backfills_status: dict[str, str] = field(default_factory=dict)
    last_success_at: dict[str, datetime] = field(default_factory=dict)  # org -> started_at
    data_views: dict[str, Any] = field(default_factory=dict)  # id -> data_view_rows.DataViewState
    # the same as the two dicts above, by pair, as Arrow (snapshot.py reads this, not the dicts)
    stored_backfills: StoredBackfills | None = None
    # reads stored_backfills when a pair first needs them: an idle re-sync asks no pair, and reading
    # the maximal org's ~500k stored backfills up front cost it ~230 MB of peak RSS (bench P8)
    backfills_reader: Callable[[], StoredBackfills] | None = None
    _reader_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.pairs, StoredPairs):
            self.pairs = StoredPairs.of_states(self.pairs)

    @property
    def empty(self) -> bool:
        return not self.connections_first_seen

    def pair_backfills(
        self, connection_id: str, data_set_id: str
    ) -> tuple[Mapping[str, datetime], Mapping[str, str]]:
        """(first seen by id, stored status by id of those not COMPLETED) of one pair's backfills."""
        stored = self._stored_backfills()
        if stored is not None:
            return stored.of_pair(connection_id, data_set_id)
        return self.backfills_first_seen, self.backfills_status

    def release(self) -> None:
        """Drop what was read (the run is past its extract): dlt keeps the source, and through it
        this snapshot, alive until the pipeline goes, and the maximal org's ~100 MB of pairs and
        digests would otherwise stay through normalize, load and the views (bench P8)."""
        for value in vars(self).values():
            if isinstance(value, dict | StoredPairs):
                value.clear()
        self.stored_backfills = None
        self.backfills_reader = None

    def _stored_backfills(self) -> StoredBackfills | None:
        if self.stored_backfills is None and self.backfills_reader is not None:
            with self._reader_lock:  # backfill lists are fetched by several threads
                if self.stored_backfills is None and self.backfills_reader is not None:
                    self.stored_backfills = self.backfills_reader()
                    self.backfills_reader = None
        return self.stored_backfills


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


def is_wide(value: Any) -> TypeGuard[int | float]:
    """A number outside int64 (orjson reads integers beyond 2**64 as floats)."""
    kind = type(value)
    return (kind is int or kind is float) and not INT64_MIN <= value <= INT64_MAX


def fit_wide_numbers(row: dict[str, Any], where: str) -> dict[str, Any]:
    """`row` with every number outside int64, in nested objects and lists too, stored the way of
    WIDE_KEY, and one warning per field naming `where` (the connection) and the field. The row
    itself when it holds none (the common case: nothing is copied)."""
    found: list[tuple[str, Any]] = []
    fitted = _fit(row, "", found)
    for name, value in found:
        logger.warning(
            "%s: %s = %.17g does not fit a 64-bit integer; stored as a double in its __%s column",
            where,
            name,
            float(value),
            WIDE_KEY,
        )
    return cast(dict[str, Any], fitted)


def _fit(value: Any, path: str, found: list[tuple[str, Any]]) -> Any:
    kind = type(value)
    if kind is dict:
        out = None
        for key, item in value.items():
            new = _fit(item, f"{path}.{key}" if path else str(key), found)
            if new is not item:
                out = out if out is not None else dict(value)
                out[key] = new
        return value if out is None else out
    if kind is list:
        items = [_fit(v, f"{path}[]", found) for v in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        # dlt stores a list of scalars as rows of one `value` column: a wide one goes to
        # value__v_double of those rows
        return [{"value": new} if is_wide(old) else new for new, old in zip(items, value, strict=True)]
    if is_wide(value):
        if path not in {f for f, _ in found}:
            found.append((path, value))
        return {WIDE_KEY: float(value)}
    return value


def connection_row(
    item: dict[str, Any],
    org_id: str,
    now: datetime,
    first_seen: datetime | None,
    content_hash: str | None = None,
) -> dict[str, Any]:
    row = {k: v for k, v in item.items() if k not in CONNECTION_LISTS}
    row["id"] = with_prefix(str(item["id"]))
    row = fit_wide_numbers(row, f"connection {row['id']}")
    row["org_id"] = org_id
    row["first_seen_at"] = first_seen or now
    row["last_seen_at"] = now
    row["deleted_in_source_at"] = None
    row["content_hash"] = content_hash
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
    content_hash: str | None = None,
) -> dict[str, Any]:
    row = fit_wide_numbers(
        {k: v for k, v in item.items() if k not in DATASET_LISTS},
        f"connection {connection_id}, dataset {item.get('dataSetId')}",
    )
    row["connection_id"] = connection_id
    row["org_id"] = org_id
    if schema_info is not None:
        row["schemaInfo"] = schema_info
    row["first_seen_at"] = pair_first_seen(state, now)
    row["last_seen_at"] = now
    row["deleted_in_source_at"] = None
    row["content_hash"] = content_hash
    return row


def backfill_rows(
    connection_id: str,
    data_set_id: str,
    items: Iterable[dict[str, Any]],
    org_id: str,
    now: datetime,
    first_seen: Mapping[str, datetime],
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
        row = dict(fit_wide_numbers(error, f"connection {connection_id}, validation error"))
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
