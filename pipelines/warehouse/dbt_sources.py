"""The dbt package's `sources.yml` (dbt_cja_sync/models/sources.yml), rendered from the data
dictionary and the warehouse contract's keys.

Descriptions come from `sql/dictionary.toml`, the file that also writes the warehouse's comments
and docs/dictionary.md, so dbt docs cannot drift from them. The tests are the contract's promises
(docs/tables.md, docs/warehouse.md, docs/health.md): a natural key per table and view, the joins on
them, and the values a status column may take, each checked on a synced warehouse before being
declared here.

Regenerate with `python scripts/render_dbt_sources.py`; tests/dbt/test_dbt_package.py fails while
the committed file differs."""

from __future__ import annotations

import json

from .dictionary import Dictionary, Entry, load_dictionary

SOURCES_PATH = "dbt_cja_sync/models/sources.yml"
RENDER_COMMAND = "python scripts/render_dbt_sources.py"
SOURCE_NAME = "cja"
# the package's own generic tests (dbt_cja_sync/tests/generic), namespaced so that a project with a
# test of the same name (dbt_utils') never picks up ours or the reverse
OWN = "cja_sync."

# The natural key of each table and view: unique (or unique_combination) and not_null.
KEYS: dict[str, tuple[str, ...]] = {
    "connections": ("id",),
    "datasets": ("connection_id", "data_set_id"),
    "backfills": ("id",),
    "data_source_types": ("id",),
    "connection_validation_errors": ("connection_id", "error_key"),
    "configured_containers": ("connection_id", "container"),
    "dataset_container_fields": ("connection_id", "data_set_id", "container"),
    # scd2: a configuration that comes back (A, B, A) is a new row with an old version_hash, so the
    # hash alone is not a key; upkeep.repair_history keeps (id, hash, valid_from) unique and one
    # open version per connection (OPEN_VERSION below)
    "connections_history": ("connection_id", "version_hash", "valid_from"),
    # dlt merges on (org_id, connection_id, observed_at); a connection id belongs to one org, so the
    # stricter key holds too, and it is the one a join uses
    "connection_volume_history": ("connection_id", "observed_at"),
    "backfill_status_changes": ("backfill_id", "observed_at"),
    "sync_runs": ("run_id",),
    "health_settings": ("org_id",),
    "alert_deliveries": ("org_id", "sink"),
    "health_reference": ("org_id",),
    "backfill_ages": ("backfill_id",),
    "backfill_health": ("connection_id", "data_set_id"),
    "stuck_backfills": ("backfill_id",),
    "failed_backfills": ("backfill_id",),
    "stale_datasets": ("connection_id", "data_set_id"),
    "connection_health": ("connection_id",),
    "org_health_summary": ("org_id",),
    "ingestion_drops": ("connection_id",),
    "backfill_durations": ("backfill_id",),
    "data_views": ("id",),
    "data_view_components": ("data_view_id", "id"),
    "data_view_component_datasets": ("data_view_id", "component_id", "data_set_id"),
    "connection_impact": ("connection_id", "data_view_id"),
    "orphan_connections": ("connection_id",),
    "orphan_data_views": ("data_view_id",),
    "dataset_impact": ("data_view_id", "data_set_id"),
}
# rows of these are required but have no key of their own
NOT_NULL: dict[str, tuple[str, ...]] = {
    "health_alerts": ("org_id", "condition", "subject", "opened_run_id", "opened_at"),
    "connection_changes": ("connection_id", "field", "change", "changed_at"),
}
OPEN_VERSION = ("connections_history", "connection_id", "valid_to is null")

# (table, its columns) -> (parent, the parent's key): the joins the natural keys promise
RELATIONSHIPS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = (
    ("datasets", ("connection_id",), "connections", ("id",)),
    ("backfills", ("connection_id",), "connections", ("id",)),
    ("backfills", ("connection_id", "data_set_id"), "datasets", ("connection_id", "data_set_id")),
    ("connection_validation_errors", ("connection_id",), "connections", ("id",)),
    ("configured_containers", ("connection_id",), "connections", ("id",)),
    (
        "dataset_container_fields",
        ("connection_id", "data_set_id"),
        "datasets",
        ("connection_id", "data_set_id"),
    ),
    ("connections_history", ("connection_id",), "connections", ("id",)),
    ("connection_volume_history", ("connection_id",), "connections", ("id",)),
    ("backfill_status_changes", ("backfill_id",), "backfills", ("id",)),
    # data_views.connection_id has no such test: a data view may read a connection never listed
    ("data_view_components", ("data_view_id",), "data_views", ("id",)),
    (
        "data_view_component_datasets",
        ("data_view_id", "component_id"),
        "data_view_components",
        ("data_view_id", "id"),
    ),
)

BACKFILL_STATUSES = ("COMPLETED", "FAILED", "IN_PROGRESS", "IN_QUEUE")
# NULL passes accepted_values (a first-seen backfill has no from_status)
ACCEPTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("backfills", "status"): BACKFILL_STATUSES,
    ("data_view_components", "kind"): ("dimension", "metric"),
    ("orphan_data_views", "reason"): ("MISSING", "DELETED"),
    ("backfill_status_changes", "from_status"): BACKFILL_STATUSES,
    ("backfill_status_changes", "to_status"): BACKFILL_STATUSES,
    ("sync_runs", "status"): ("running", "succeeded", "failed"),
    ("health_alerts", "condition"): ("failed", "stuck", "stale", "validation", "drop", "_recorded"),
    ("alert_deliveries", "sink"): ("webhook", "slack", "teams"),
    ("backfill_ages", "status"): BACKFILL_STATUSES,
    ("backfill_durations", "status"): BACKFILL_STATUSES,
    ("stuck_backfills", "status"): ("IN_PROGRESS", "IN_QUEUE"),
    ("backfill_health", "health_status"): ("STUCK", "FAILED", "IN_PROGRESS", "HEALTHY", "NO_BACKFILLS"),
    # sql/connection_health.sql: the name of its severity
    ("connection_health", "worst_status"): (
        "STUCK",
        "FAILED",
        "STALE",
        "VALIDATION_ERRORS",
        "IN_PROGRESS",
        "HEALTHY",
        "NO_BACKFILLS",
    ),
    ("connection_changes", "change"): ("added", "removed", "changed"),
}
# the table whose newest succeeded run the freshness test reads
FRESHNESS_TABLE = "sync_runs"
FRESHNESS_TEST = "sync_runs_freshness"
# runner tables written without dlt's bookkeeping columns (every other table has them)
NO_DLT_COLUMNS = ("health_settings", "health_alerts", "alert_deliveries")

SOURCE_DESCRIPTION = (
    "The tables and views cja-sync writes (cja-sync run, or the plain dlt source with finish_sync): "
    "Adobe CJA connections, datasets and backfills, their history, the runs, and the health views. "
    "Schema: var source_dataset_name (--dataset-name, default cja)."
)


def render_sources(book: Dictionary | None = None) -> str:
    """sources.yml of the dbt package: every table and view of the dictionary, with its
    description, every column it names and the contract's tests."""
    book = book or load_dictionary()
    # a test on a column the dictionary does not list would silently not be rendered
    tested = [(t, c) for t, cols in (*KEYS.items(), *NOT_NULL.items()) for c in cols]
    tested += [*ACCEPTED, (OPEN_VERSION[0], OPEN_VERSION[1])]
    tested += [(t, c) for t, cols, _, _ in RELATIONSHIPS for c in cols]
    tested += [(p, c) for _, _, p, cols in RELATIONSHIPS for c in cols]
    unknown = sorted(f"{t}.{c}" for t, c in set(tested) if c not in _columns(book, t))
    if unknown:
        raise ValueError(f"dbt tests name columns the dictionary does not describe: {', '.join(unknown)}")
    lines = [
        f"# generated from sql/dictionary.toml by `{RENDER_COMMAND}`: edit the dictionary (descriptions)",
        "# or pipelines/warehouse/dbt_sources.py (tests), not this file",
        "version: 2",
        "",
        "sources:",
        f"  - name: {SOURCE_NAME}",
        f"    description: {_text(SOURCE_DESCRIPTION)}",
        # a DuckDB project of yours that ATTACHes the published file names its catalog here
        "    database: \"{{ var('cja_database', target.database) }}\"",
        "    schema: \"{{ var('source_dataset_name', 'cja') }}\"",
        "    tables:",
    ]
    for name in [n for n, e in book.entries.items() if e.kind == "table"] + [
        n for n, e in book.entries.items() if e.kind == "view"
    ]:
        lines += _table(book, book.entries[name])
    return "\n".join(lines) + "\n"


def _columns(book: Dictionary, name: str) -> dict[str, str]:
    """The columns sources.yml lists for `name`, with their descriptions ({} for no such entry)."""
    entry = book.entries.get(name)
    if entry is None:
        return {}
    columns = {**entry.named_columns(), **entry.optional_columns}
    if entry.kind == "table" and name not in NO_DLT_COLUMNS:
        columns.update(book.dlt_columns)
    return columns


def _table(book: Dictionary, entry: Entry) -> list[str]:
    name = entry.name
    key = KEYS.get(name, ())
    lines = [
        f"      - name: {name}",
        f"        description: {_text(entry.description)}",
        "        meta:",
        f"          kind: {entry.kind}",
    ]
    if key:
        lines.append(f"          natural_key: [{', '.join(key)}]")
    table_tests = _table_tests(name, key)
    if table_tests:
        lines.append("        data_tests:")
        lines += [f"          {line}" for line in table_tests]
    lines.append("        columns:")
    for column, text in _columns(book, name).items():
        lines += [f"          - name: {column}", f"            description: {_text(text)}"]
        tests = _column_tests(name, column, key)
        if tests:
            lines.append("            data_tests:")
            lines += [f"              {line}" for line in tests]
    return lines


def _table_tests(name: str, key: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    if len(key) > 1:
        out += [f"- {OWN}unique_combination:", "    arguments:", f"      columns: [{', '.join(key)}]"]
    for child, columns, parent, parent_columns in RELATIONSHIPS:
        if child == name and len(columns) > 1:
            out += [
                f"- {OWN}relationships_combination:",
                "    arguments:",
                f"      columns: [{', '.join(columns)}]",
                f"      to: source('{SOURCE_NAME}', '{parent}')",
                f"      to_columns: [{', '.join(parent_columns)}]",
            ]
    if name == FRESHNESS_TABLE:
        # the threshold is var cja_fresh_sync_hours (26 h: an hourly or a daily sync, with slack)
        # named: dbt's own name for a test without arguments ends in `_` (..._cja_sync_runs_)
        out += [f"- {OWN}sync_freshness:", f"    name: {FRESHNESS_TEST}"]
    return out


def _column_tests(name: str, column: str, key: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    if key == (column,):
        out.append("- unique")
    if column in key or column in NOT_NULL.get(name, ()):
        out.append("- not_null")
    if (name, column) == OPEN_VERSION[:2]:
        out += [
            "- unique:",
            "    name: connections_history_one_open_version",
            "    config:",
            f"      where: {_text(OPEN_VERSION[2])}",
        ]
    for child, columns, parent, parent_columns in RELATIONSHIPS:
        if child == name and columns == (column,):
            out += [
                "- relationships:",
                "    arguments:",
                f"      to: source('{SOURCE_NAME}', '{parent}')",
                f"      field: {parent_columns[0]}",
            ]
    accepted = ACCEPTED.get((name, column))
    if accepted:
        out += [
            "- accepted_values:",
            "    arguments:",
            f"      values: [{', '.join(_text(v) for v in accepted)}]",
        ]
    return out


def _text(text: str) -> str:
    """A YAML scalar holding `text` exactly: a JSON string is a YAML double-quoted one. dbt renders
    descriptions as Jinja, so text that Jinja would read is fenced off."""
    if any(mark in text for mark in ("{{", "{%", "{#")):
        text = "{% raw %}" + text + "{% endraw %}"
    return json.dumps(text, ensure_ascii=False)
