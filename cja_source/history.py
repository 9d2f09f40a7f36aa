"""`connections_history`: one row per version of a connection's configuration, kept by dlt's `scd2`
merge strategy (`valid_from` / `valid_to`).

Only configuration goes into a version: name, description, owner, sandbox, retention, the other
connection settings, and every dataset with its settings. What moves without anyone changing the
connection (modifiedDate, backfill summaries, lastIngestedTime, numDailyEvents, validation errors,
last_seen_at, ...) is left out of the version, so a sync that saw no configuration change adds no
row. Pure functions: no I/O; the resource itself is declared in `cja_source/__init__.py`.

The datasets of a version are kept as one text column, `data_set_settings`: one line per dataset
setting, `<dataSetId> TAB <setting> TAB <value>`, sorted, where the setting `''` (empty) carries the
dataset's name and marks that the dataset belongs to the connection. The `connection_changes` view
splits these lines to report dataset-level changes with plain SQL that DuckDB and Postgres share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from .configuration import CJASourceConfiguration
from .records import with_prefix

TABLE = "connections_history"
VALID_FROM, VALID_TO = "valid_from", "valid_to"
VERSION_COLUMN = "version_hash"
DATASETS_COLUMN = "data_set_settings"

# stored column -> path in the API's connection object: the versioned connection settings
CONNECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "description": ("description",),
    "owner_id": ("owner", "ownerId"),
    "owner_type": ("owner", "type"),
    "owner_name": ("owner", "name"),
    "sandbox_id": ("sandboxId",),
    "sandbox_name": ("sandboxName",),
    "data_retention_months": ("dataRetentionMonths",),
    "is_disabled": ("isDisabled",),
    "case_sensitive": ("caseSensitive",),
    "backfill_enabled": ("backfillEnabled",),
    "float_precision": ("floatPrecision",),
    "primary_id_type": ("primaryIdType",),
}
INT_FIELDS = frozenset({"data_retention_months", "float_precision"})
BOOL_FIELDS = frozenset({"is_disabled", "case_sensitive", "backfill_enabled"})
# setting name in data_set_settings -> path in the API's dataset object: the versioned dataset
# settings. backfillSummary, backfills, lastIngestedTime, streamingEnabledAt and schemaInfo (asked
# only now and then, from another endpoint) are state, not settings.
DATASET_SETTINGS: dict[str, tuple[str, ...]] = {
    "type": ("type",),
    "domain": ("domain",),
    "streaming": ("streaming",),
    "data_source_type": ("dataSourceType", "id"),
    "timestamp_id": ("timestampId",),
    "visitor_id": ("visitorId",),
    "identity_namespace": ("identityNamespace",),
    "identity_namespace_col": ("identityNamespaceCol",),
    "use_primary_id_namespace": ("usePrimaryIdNamespace",),
    "identity_map": ("identityMap",),
    "lookup_key_field": ("lookupKeyField",),
    "lookup_parent_fields": ("lookupParentFields",),
    "lookup_parent_data_set_id": ("lookupParentDataSetId",),
    "lookup_parent_data_set_type": ("lookupParentDataSetType",),
    "container_fields": ("containerFields",),
}
# attribution: stored with a version as first seen, never part of it
ATTRIBUTION = {
    "source_modified_at": ("modifiedDate",),
    "source_modified_by": ("modifiedBy",),
    "source_modified_by_name": ("modifiedByFullName",),
}


def column_hints() -> dict[str, dict[str, Any]]:
    """Typed columns, so the table and the view have every column even while a field is always null."""
    types: dict[str, str] = {"connection_id": "text", "org_id": "text"}
    for name in CONNECTION_FIELDS:
        types[name] = "bigint" if name in INT_FIELDS else "bool" if name in BOOL_FIELDS else "text"
    types.update(
        configured_containers="text",
        data_set_count="bigint",
        source_modified_at="timestamp",
        source_modified_by="text",
        source_modified_by_name="text",
    )
    types[DATASETS_COLUMN] = "text"
    types[VERSION_COLUMN] = "text"
    hints = {name: {"data_type": t, "nullable": True} for name, t in types.items()}
    hints["connection_id"]["nullable"] = False
    return hints


def listing_is_complete(cfg: CJASourceConfiguration) -> bool:
    """True when the listing returns every connection of the org: then a connection missing from it
    was deleted, and its open version is closed (`valid_to` set)."""
    return (
        not cfg.connection_ids
        and not cfg.sandbox_names
        and bool(cfg.include_disabled)
        and bool(cfg.include_system_owned)
    )


# Hints of the `connections_history` resource: scd2 closes the open version of every record absent
# from a load. A filtered listing adds `merge_key = connection_id` (see cja_source()).
RESOURCE_HINTS: dict[str, Any] = {
    "write_disposition": {
        "disposition": "merge",
        "strategy": "scd2",
        "validity_column_names": [VALID_FROM, VALID_TO],
        "row_version_column_name": VERSION_COLUMN,
    },
    "columns": column_hints(),
}


def history_rows(items: Iterable[dict[str, Any]], org_id: str) -> list[dict[str, Any]]:
    """One candidate version per listed connection; dlt keeps it only if its hash is new."""
    return [history_row(item, org_id) for item in items]


def history_row(item: dict[str, Any], org_id: str) -> dict[str, Any]:
    row: dict[str, Any] = {"connection_id": with_prefix(str(item["id"])), "org_id": org_id}
    for column, path in CONNECTION_FIELDS.items():
        value = _get(item, path)
        if column == "owner_id" and value is None:
            value = _get(item, ("owner", "imsUserId"))
        row[column] = _typed(column, value)
    row["configured_containers"] = _containers(item.get("configuredContainers"))
    datasets = [d for d in item.get("dataSets") or () if isinstance(d, dict) and d.get("dataSetId")]
    row["data_set_count"] = len({d["dataSetId"] for d in datasets})
    row[DATASETS_COLUMN] = dataset_settings_text(datasets)
    row[VERSION_COLUMN] = version_hash(row)
    for column, path in ATTRIBUTION.items():
        row[column] = _get(item, path)
    return row


def version_hash(row: dict[str, Any]) -> str:
    """The identity of a version: the connection and its configuration, nothing else."""
    versioned = {k: row.get(k) for k in ("connection_id", "org_id", *CONNECTION_FIELDS)}
    versioned["configured_containers"] = row.get("configured_containers")
    versioned[DATASETS_COLUMN] = row.get(DATASETS_COLUMN)
    return hashlib.sha256(orjson.dumps(versioned, option=orjson.OPT_SORT_KEYS)).hexdigest()


def dataset_settings_text(datasets: Iterable[dict[str, Any]]) -> str:
    """`<dataSetId> TAB <setting> TAB <value>` lines, sorted; the setting '' holds the name."""
    lines: set[str] = set()
    for d in datasets:
        dsid = _escape(str(d["dataSetId"]))
        lines.add(f"{dsid}\t\t{_text(d.get('name')) or ''}")
        for setting, path in DATASET_SETTINGS.items():
            value = _text(_get(d, path))
            if value is not None:
                lines.add(f"{dsid}\t{setting}\t{value}")
    return "\n".join(sorted(lines))


def parse_dataset_settings(text: str | None) -> dict[str, dict[str, str]]:
    """{dataSetId: {setting: value}} from `data_set_settings` (the name under '')."""
    out: dict[str, dict[str, str]] = {}
    for line in (text or "").split("\n"):
        if line:
            dsid, setting, value = line.split("\t", 2)
            out.setdefault(dsid, {})[setting] = value
    return out


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _typed(column: str, value: Any) -> Any:
    """Coerce to the column's type, so that a value the API sends as "13" one day and 13 the next
    is one version, not two."""
    if value is None:
        return None
    if column in INT_FIELDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if column in BOOL_FIELDS:
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)
    return value if isinstance(value, str) else _text(value)


def _containers(containers: Any) -> str | None:
    names = sorted(
        {str(c["container"]) for c in containers or () if isinstance(c, dict) and c.get("container")}
    )
    return ",".join(names) if names else None


def _text(value: Any) -> str | None:
    """One line of text per value: booleans as true/false, lists and objects as sorted JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        value = sorted(value, key=lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS))
    return _escape(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
