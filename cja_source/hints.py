"""Column hints every resource shares: the bookkeeping columns and typed, nullable columns that
exist before any row carries a value."""

from __future__ import annotations

from typing import Any, cast

from dlt.common.schema.typing import TTableSchemaColumns

SEEN = {"first_seen_at": "timestamp", "last_seen_at": "timestamp", "org_id": "text"}
DELETABLE = {**SEEN, "deleted_in_source_at": "timestamp"}


def column_hints(*text_keys: str, **types: str) -> TTableSchemaColumns:
    """Column hints. Hinted columns exist even while every value is null, which views and merges
    rely on; typed keys let a table with no row yet be created."""
    hints: dict[str, dict[str, Any]] = {name: {"data_type": "text", "nullable": False} for name in text_keys}
    hints.update({name: {"data_type": t, "nullable": True} for name, t in types.items()})
    return cast(TTableSchemaColumns, hints)
