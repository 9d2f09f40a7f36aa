"""The data dictionary: one description per table, view and column, kept once in
`sql/dictionary.toml` (package data of `cja_sync.sql`), applied to the warehouse as `COMMENT ON`
after each sync and rendered into `docs/dictionary.md`.

BI tools, dbt docs and database browsers show the comments; writing them from the same file that
makes the docs means the two cannot drift apart. Only comments that differ from what the catalog
holds are written, so a sync that recreated nothing writes nothing.

Regenerate the docs with `python scripts/render_dictionary.py`."""

from __future__ import annotations

import functools
import logging
import time
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import dlt

logger = logging.getLogger("cja_sync")

DICTIONARY_FILE = "dictionary.toml"
DOCS_PATH = "docs/dictionary.md"
RENDER_COMMAND = "python scripts/render_dictionary.py"
# dlt names the column that takes values of another type `<column>__v_<type>`
VARIANT_MARK = "__v_"
KINDS = ("table", "view")
# catalog kind -> the COMMENT ON object word (Postgres refuses COMMENT ON TABLE for a view)
_OBJECT_WORD = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}


@dataclass(frozen=True)
class Family:
    """Columns named `<prefix><member>`, one per member (an endpoint, a table), described by one
    template in which `{member}` is the member's text (or the bare suffix for a member added later,
    which the docs show as `<placeholder>`)."""

    prefix: str
    placeholder: str
    description: str
    members: dict[str, str]

    def describe(self, column: str) -> str | None:
        if not column.startswith(self.prefix) or column == self.prefix:
            return None
        suffix = column[len(self.prefix) :]
        return self.description.replace("{member}", self.members.get(suffix, f"`{suffix}`"))


@dataclass(frozen=True)
class Entry:
    """One table or view: its description and its columns' descriptions."""

    name: str
    kind: str
    description: str
    columns: dict[str, str]
    # columns dlt creates only once the API sends a value for them (absent from most warehouses)
    optional_columns: dict[str, str] = field(default_factory=dict)
    families: tuple[Family, ...] = ()

    def named_columns(self) -> dict[str, str]:
        """Every column the dictionary names explicitly, family members included."""
        out = dict(self.columns)
        for family in self.families:
            for member in family.members:
                out[family.prefix + member] = family.describe(family.prefix + member) or ""
        return out


@dataclass(frozen=True)
class Dictionary:
    entries: dict[str, Entry]
    dlt_columns: dict[str, str]
    variant: str

    def column(self, table: str, column: str) -> str | None:
        """The description of `table.column` as applied to the warehouse, or None."""
        entry = self.entries.get(table)
        if entry is None:
            return None
        text = entry.columns.get(column) or entry.optional_columns.get(column)
        if text:
            return text
        for family in entry.families:
            described = family.describe(column)
            if described:
                return described
        if column in self.dlt_columns:
            return self.dlt_columns[column]
        base, mark, kind = column.rpartition(VARIANT_MARK)
        if mark and base and kind and self.column(table, base):
            return self.variant.replace("{column}", base).replace("{type}", kind)
        return None


@functools.cache
def load_dictionary() -> Dictionary:
    # package data (`sql/` in the repository, `cja_sync/sql` once installed): works from a wheel too
    text = resources.files("cja_sync.sql").joinpath(DICTIONARY_FILE).read_text(encoding="utf-8")
    return parse_dictionary(tomllib.loads(text))


def parse_dictionary(data: dict[str, Any]) -> Dictionary:
    """Check the plain data and turn it into a Dictionary; ValueError names what is wrong."""
    dlt_part = data.get("dlt") or {}
    entries = {}
    for name, raw in (data.get("tables") or {}).items():
        kind = raw.get("kind")
        if kind not in KINDS:
            raise ValueError(f"dictionary: {name}: kind must be one of {KINDS}, not {kind!r}")
        families = tuple(
            Family(
                prefix=_text(f"{name}.families.prefix", fam.get("prefix")),
                placeholder=_text(f"{name}.families.placeholder", fam.get("placeholder")),
                description=_text(f"{name}.families.{fam.get('prefix')}", fam.get("description")),
                members=_members(f"{name}.families.{fam.get('prefix')}", fam.get("members")),
            )
            for fam in raw.get("families") or ()
        )
        entries[name] = Entry(
            name=name,
            kind=kind,
            description=_text(name, raw.get("description")),
            columns=_texts(f"{name}.columns", raw.get("columns")),
            optional_columns=_texts(f"{name}.optional_columns", raw.get("optional_columns"), empty=True),
            families=families,
        )
    return Dictionary(
        entries=entries,
        dlt_columns=_texts("dlt.columns", dlt_part.get("columns"), empty=True),
        variant=_text("dlt.variant", dlt_part.get("variant")),
    )


def _text(where: str, value: Any) -> str:
    # a NUL cannot be stored by Postgres; surrounding blanks would never compare equal after a trip
    if not isinstance(value, str) or not value.strip() or "\x00" in value or value != value.strip():
        raise ValueError(f"dictionary: {where}: a description must be non-empty trimmed text without NUL")
    return value


def _texts(where: str, value: Any, empty: bool = False) -> dict[str, str]:
    if empty and value is None:
        return {}
    if not isinstance(value, dict) or not (value or empty):
        raise ValueError(f"dictionary: {where} must be a table of column = description")
    return {str(k): _text(f"{where}.{k}", v) for k, v in value.items()}


def _members(where: str, value: Any) -> dict[str, str]:
    if isinstance(value, list):  # members whose own name is all the template needs
        return {str(m): f"`{m}`" for m in value}
    return _texts(where, value)


# ----------------------------------------------------------------------------------- warehouse


def apply_comments(pipeline: dlt.Pipeline, dictionary: Dictionary | None = None) -> int:
    """Set COMMENT ON for every described table, view and column present in the pipeline's dataset,
    in one transaction; returns how many statements it issued (0 when every comment is current).

    Call it after the views are (re)created: `CREATE OR REPLACE VIEW` drops a DuckDB view's comments.
    Objects and columns the dictionary does not describe keep whatever comment they have."""
    book = dictionary or load_dictionary()
    dialect = _dialect(pipeline)
    if dialect is None:
        name = pipeline.destination.destination_name
        logger.info("no comments written: destination %s is neither DuckDB nor Postgres", name)
        return 0
    started = time.perf_counter()
    with pipeline.sql_client() as sql:
        objects, columns = _catalog(sql, dialect)
        statements = plan_comments(book, objects, columns, sql, dialect)
        if statements:
            with sql.begin_transaction():
                for statement in statements:
                    sql.execute_sql(statement)
    logger.debug("comments: %d statements in %.0f ms", len(statements), (time.perf_counter() - started) * 1e3)
    return len(statements)


def plan_comments(
    book: Dictionary,
    objects: dict[str, tuple[str, str | None]],
    columns: dict[str, dict[str, str | None]],
    sql: Any,
    dialect: str,
) -> list[str]:
    """The COMMENT ON statements that make the catalog (`objects`: {name: (object word, comment)},
    `columns`: {table: {column: comment}}) carry the dictionary's text."""
    out = []
    for name, (word, current) in sorted(objects.items()):
        entry = book.entries.get(name)
        if entry is None:
            continue
        table = sql.make_qualified_table_name(name, casefold=False)
        if current != entry.description:
            out.append(f"COMMENT ON {word} {table} IS {quote_literal(entry.description, dialect)}")
        for column, now in sorted(columns.get(name, {}).items()):
            text = book.column(name, column)
            if text is not None and now != text:
                target = f"{table}.{sql.escape_column_name(column, casefold=False)}"
                out.append(f"COMMENT ON COLUMN {target} IS {quote_literal(text, dialect)}")
    return out


def quote_literal(text: str, dialect: str) -> str:
    """A SQL string literal holding `text` exactly. Postgres gets an escape string (E'...'), which
    means the same whatever `standard_conforming_strings` says; DuckDB has no backslash escapes."""
    doubled = text.replace("'", "''")
    if dialect == "postgres":
        return "E'" + doubled.replace("\\", "\\\\") + "'"
    return "'" + doubled + "'"


def _dialect(pipeline: dlt.Pipeline) -> str | None:
    name = pipeline.destination.destination_name
    if name in ("duckdb", "motherduck"):
        return "duckdb"
    return "postgres" if name == "postgres" else None


def _catalog(
    sql: Any, dialect: str
) -> tuple[dict[str, tuple[str, str | None]], dict[str, dict[str, str | None]]]:
    """What exists in the dataset and the comment each object and column carries now."""
    schema = sql.dataset_name
    if dialect == "postgres":
        rels = sql.execute_sql(
            "SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class') FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'f', 'v', 'm')",
            schema,
        )
        cols = sql.execute_sql(
            "SELECT c.relname, a.attname, col_description(c.oid, a.attnum) FROM pg_attribute AS a "
            "JOIN pg_class AS c ON c.oid = a.attrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'f', 'v', 'm') "
            "AND a.attnum > 0 AND NOT a.attisdropped",
            schema,
        )
        objects = {str(n): (_OBJECT_WORD[str(k)], c) for n, k, c in rels or ()}
    else:
        rels = sql.execute_sql(
            "SELECT table_name, 'TABLE', comment FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = %s "
            "UNION ALL SELECT view_name, 'VIEW', comment FROM duckdb_views() "
            "WHERE database_name = current_database() AND schema_name = %s AND NOT internal",
            schema,
            schema,
        )
        cols = sql.execute_sql(
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = %s",
            schema,
        )
        objects = {str(n): (str(w), c) for n, w, c in rels or ()}
    columns: dict[str, dict[str, str | None]] = {}
    for table, column, comment in cols or ():
        columns.setdefault(str(table), {})[str(column)] = comment
    return objects, columns


# ---------------------------------------------------------------------------------------- docs


def render_markdown(book: Dictionary | None = None) -> str:
    """docs/dictionary.md: every table and view with its columns, from the dictionary alone."""
    book = book or load_dictionary()
    lines = [
        "# Data dictionary",
        "",
        f"<!-- generated from sql/{DICTIONARY_FILE} by `{RENDER_COMMAND}`; edit that file, not this one -->",
        "",
        "What every table, view and column of the warehouse means. The same text is written into the",
        "warehouse as `COMMENT ON` after each sync, so BI tools, dbt docs and database browsers show it.",
        "Times are instants (`timestamp with time zone`); tools display them in their session's time zone.",
        "",
    ]
    for kind, title in (("table", "Tables"), ("view", "Views")):
        names = [n for n, e in book.entries.items() if e.kind == kind]
        lines += [f"## {title}", ""]
        lines += [f"- [`{n}`](#{n})" for n in names]
        lines.append("")
        for name in names:
            lines += _render_entry(book.entries[name])
    variant = book.variant.replace("{column}", "<column>").replace("{type}", "<type>")
    lines += ["## Columns dlt adds to the tables", "", "| column | description |", "|---|---|"]
    lines += [f"| `{c}` | {_cell(t)} |" for c, t in book.dlt_columns.items()]
    lines.append(f"| `<column>{VARIANT_MARK}<type>` | {_cell(variant)} |")
    return "\n".join(lines) + "\n"


def _render_entry(entry: Entry) -> list[str]:
    lines = [f"### {entry.name}", "", f"*{entry.kind}*: {_cell(entry.description)}", ""]
    lines += ["| column | description |", "|---|---|"]
    for column, text in entry.columns.items():
        lines.append(f"| `{column}` | {_cell(text)} |")
    for family in entry.families:
        for member in family.members:
            text = family.describe(family.prefix + member) or ""
            lines.append(f"| `{family.prefix}{member}` | {_cell(text)} |")
        later = family.prefix + f"<{family.placeholder}>"
        lines.append(f"| `{later}` (any other) | {_cell(family.describe(later) or '')} |")
    for column, text in entry.optional_columns.items():
        lines.append(f"| `{column}` (when the API sends it) | {_cell(text)} |")
    return [*lines, ""]


def _cell(text: str) -> str:
    # one table cell: a pipe would end it, a line break would end the row
    return " ".join(text.split()).replace("|", "\\|")
