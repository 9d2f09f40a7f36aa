"""Compare a warehouse with the simulator's ground truth, table by table, by natural key."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pendulum

from .helpers import query, table_exists


def ts(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return pendulum.instance(value).in_tz("UTC")
    return pendulum.parse(value).in_tz("UTC")


def truth_from_json(doc: dict[str, Any]) -> SimpleNamespace:
    """The truth as a simulator in another process serves it (`GET /__admin/truth`)."""
    return SimpleNamespace(
        **{**doc, "datasets": {tuple(k.split("/", 1)): v for k, v in doc["datasets"].items()}}
    )


def expected(truth: Any) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """Per table: natural key -> sampled values, computed from the simulator alone."""
    conns = {
        (cid,): (
            c.get("name"),
            c.get("sandboxName"),
            c.get("dataRetentionMonths"),
            ts(c.get("modifiedDate")),
            (c.get("owner") or {}).get("type"),
            (c.get("backfillSummary") or {}).get("total"),
        )
        for cid, c in truth.connections.items()
    }
    dsets = {
        key: (
            d.get("name"),
            d.get("type"),
            d.get("streaming"),
            ts(d.get("lastIngestedTime")),
            (d.get("backfillSummary") or {}).get("total"),
        )
        for key, d in truth.datasets.items()
    }
    bfs = {
        (bid,): (b["connectionId"], b["dataSetId"], b["status"], ts(b["createdDate"]), b.get("allData"))
        for bid, b in truth.backfills.items()
    }
    errors = {
        (
            e["connectionId"],
            e["errorCode"],
            e.get("dataSetId"),
            e.get("missingField"),
            e.get("disallowedField"),
        ): ()
        for e in truth.validation_errors
    }
    containers = {(c["connectionId"], c["container"]): () for c in truth.configured_containers}
    fields = {
        (f["connectionId"], f["dataSetId"], f["container"]): (f.get("systemFieldValue"),)
        for f in truth.container_fields
    }
    types = {(t["id"],): (t.get("type"),) for t in truth.data_source_types}
    return {
        "connections": conns,
        "datasets": dsets,
        "backfills": bfs,
        "connection_validation_errors": errors,
        "configured_containers": containers,
        "dataset_container_fields": fields,
        "data_source_types": types,
    }


QUERIES = {
    "connections": "SELECT id, name, sandbox_name, data_retention_months, modified_date, owner__type, "
    "backfill_summary__total FROM {t}connections WHERE deleted_in_source_at IS NULL",
    "datasets": "SELECT connection_id, data_set_id, name, type, streaming, last_ingested_time, "
    "backfill_summary__total FROM {t}datasets WHERE deleted_in_source_at IS NULL",
    "backfills": "SELECT b.id, b.connection_id, b.data_set_id, b.status, b.created_date, b.all_data "
    "FROM {t}backfills b JOIN {t}datasets d ON d.connection_id = b.connection_id "
    "AND d.data_set_id = b.data_set_id WHERE d.deleted_in_source_at IS NULL",
    "connection_validation_errors": "SELECT e.connection_id, e.error_code, e.data_set_id, e.missing_field, "
    "e.disallowed_field FROM {t}connection_validation_errors e "
    "JOIN {t}connections c ON c.id = e.connection_id WHERE c.deleted_in_source_at IS NULL",
    "configured_containers": "SELECT k.connection_id, k.container FROM {t}configured_containers k "
    "JOIN {t}connections c ON c.id = k.connection_id WHERE c.deleted_in_source_at IS NULL",
    "dataset_container_fields": "SELECT f.connection_id, f.data_set_id, f.container, f.system_field_value "
    "FROM {t}dataset_container_fields f JOIN {t}datasets d ON d.connection_id = f.connection_id "
    "AND d.data_set_id = f.data_set_id WHERE d.deleted_in_source_at IS NULL",
    "data_source_types": "SELECT id, type FROM {t}data_source_types",
}
KEY_WIDTH = {
    "connections": 1,
    "datasets": 2,
    "backfills": 1,
    "connection_validation_errors": 5,
    "configured_containers": 2,
    "dataset_container_fields": 3,
    "data_source_types": 1,
}


# the row alias of each query, to keep one org of a fleet; data source types are one global catalogue
ORG_ALIAS = {
    "connections": "",
    "datasets": "",
    "backfills": "b.",
    "connection_validation_errors": "e.",
    "configured_containers": "k.",
    "dataset_container_fields": "f.",
}


def actual(opts: Any, org_id: str | None = None) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    out: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    for table, sql in QUERIES.items():
        if org_id is not None and table in ORG_ALIAS:
            sql += f" AND {ORG_ALIAS[table]}org_id = '{org_id}'"
        # dlt creates a table with its first row: an org without validation errors has no such table
        rows = query(opts, sql) if table_exists(opts, table) else []
        width = KEY_WIDTH[table]
        keyed: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for row in rows:
            key = tuple(row[:width])
            assert key not in keyed, f"duplicate key {key} in {table}"
            keyed[key] = tuple(ts(v) if isinstance(v, datetime) else v for v in row[width:])
        out[table] = keyed
    return out


def assert_matches_truth(opts: Any, truth: Any, org_id: str | None = None) -> dict[str, int]:
    """Every table (the rows of `org_id` when given) equals the truth by key and sampled values;
    returns row counts."""
    want, got = expected(truth), actual(opts, org_id)
    for table, rows in want.items():
        missing = set(rows) - set(got[table])
        extra = set(got[table]) - set(rows)
        assert not missing and not extra, f"{table}: {len(missing)} missing, {len(extra)} unexpected"
        wrong = [k for k in rows if rows[k] != got[table][k]]
        first = wrong[:1]
        assert not wrong, f"{table}: values differ for {wrong[:3]}: {[rows[k] for k in first]} != " + str(
            [got[table][k] for k in first]
        )
    return {t: len(r) for t, r in want.items()}
