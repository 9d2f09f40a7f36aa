"""Data views and their components: API item -> warehouse row, the checks where they enter, which
data views need their components asked, and what the warehouse holds of them. No HTTP, no dlt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .changes import digest
from .errors import InvalidItemError
from .records import same_instant


@dataclass
class DataViewState:
    """What the warehouse holds of one data view (read at the start of a run)."""

    first_seen_at: Any = None
    deleted_in_source_at: Any = None
    # when its components were last asked for, and the data view's modifiedDate then
    components_synced_at: Any = None
    components_modified_date: Any = None
    # digest of the listed item the row was written from (changes.digest): an unchanged data view
    # is not written again, as for connections and datasets
    content_hash: Any = None


STATE_COLUMNS = (
    "first_seen_at",
    "deleted_in_source_at",
    "components_synced_at",
    "components_modified_date",
    "content_hash",
)


def read_states(
    sql: Any, table: str, columns: set[str], where: str, args: Sequence[Any]
) -> dict[str, DataViewState]:
    """{data view id: state} of the org (`where`/`args` scope the read to it: a fleet's orgs share a
    dataset). A column dlt has not created yet reads as NULL."""
    select = ", ".join(c if c in columns else "NULL" for c in STATE_COLUMNS)
    rows = sql.execute_sql(f"SELECT id, {select} FROM {table} {where}", *args) or ()
    return {str(r[0]): DataViewState(*r[1:]) for r in rows}


def _invalid(where: str, what: str) -> InvalidItemError:
    return InvalidItemError(f"CJA API sent an item that cannot be stored at {where}: {what}")


def data_view_item(item: Any, where: str) -> dict[str, Any]:
    """A listed data view: an object with a string id (the merge key)."""
    if not isinstance(item, dict):
        raise _invalid(where, f"a data view is {type(item).__name__}, not an object")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise _invalid(where, f"a data view's id is {item.get('id')!r:.60}, not a non-empty string")
    return item


def component_item(item: Any, where: str) -> dict[str, Any]:
    """A dimension or metric: an object with a string id, and dataSetIds a list of strings if any."""
    if not isinstance(item, dict):
        raise _invalid(where, f"a component is {type(item).__name__}, not an object")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise _invalid(where, f"a component's id is {item.get('id')!r:.60}, not a non-empty string")
    ids = item.get("dataSetIds")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(d, str) and d for d in ids)):
        raise _invalid(where, f"component {item['id']!r:.80} has dataSetIds that are not a list of ids")
    return item


def connection_of(item: dict[str, Any]) -> str | None:
    """The data view's connection as `connections.id` holds it (`dg_…`)."""
    parent = item.get("parentDataGroupId")
    if not isinstance(parent, str) or not parent:
        return None
    return parent if parent.startswith("dg_") else f"dg_{parent}"


def needs_components(item: dict[str, Any], state: DataViewState | None, full: bool) -> bool:
    """A live data view whose components were never asked, or whose modifiedDate moved since."""
    if item.get("isDeleted") is True:
        return False
    if full or state is None or state.components_synced_at is None:
        return True
    return not _same(state.components_modified_date, item.get("modifiedDate"))


def _same(stored: Any, listed: Any) -> bool:
    if stored is None and listed is None:
        return True
    return same_instant(stored, listed)


def unchanged(item: dict[str, Any], state: DataViewState | None, fetched: bool, full: bool) -> bool:
    """The stored row says all this listed item says: same digest, same deletion, components not
    asked again in this run."""
    if full or fetched or state is None or state.content_hash is None:
        return False
    deleted = item.get("isDeleted") is True
    return state.content_hash == digest(item) and (state.deleted_in_source_at is not None) == deleted


def data_view_row(
    item: dict[str, Any], org_id: str, now: datetime, state: DataViewState | None, fetched: bool
) -> dict[str, Any]:
    """One row per data view; `fetched`: its components are asked for in this run."""
    state = state or DataViewState()
    row = {k: v for k, v in item.items() if k != "parentDataGroupId"}
    deleted = item.get("isDeleted") is True
    row.update(
        connection_id=connection_of(item),
        org_id=org_id,
        first_seen_at=state.first_seen_at or now,
        last_seen_at=now,
        deleted_in_source_at=(state.deleted_in_source_at or now) if deleted else None,
        components_synced_at=now if fetched else state.components_synced_at,
        components_modified_date=item.get("modifiedDate") if fetched else state.components_modified_date,
        content_hash=digest(item),
    )
    return row


def component_row(
    item: dict[str, Any], data_view_id: str, kind: str, org_id: str, now: datetime
) -> dict[str, Any]:
    row = {k: v for k, v in item.items() if k != "dataSetIds"}
    row.update(
        data_view_id=data_view_id, kind=kind, org_id=org_id, last_seen_at=now, deleted_in_source_at=None
    )
    return row


def component_dataset_rows(
    item: dict[str, Any], data_view_id: str, org_id: str, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "data_view_id": data_view_id,
            "component_id": item["id"],
            "data_set_id": dsid,
            "org_id": org_id,
            "last_seen_at": now,
        }
        for dsid in dict.fromkeys(item.get("dataSetIds") or ())
    ]
