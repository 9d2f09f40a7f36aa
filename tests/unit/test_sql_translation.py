"""The health views' SQL is kept once in PostgreSQL syntax: table names are pointed at the
dataset, tables and columns dlt has not created yet get typed NULL stand-ins, and the text is
written in the destination's dialect. `with_views` makes every view a CTE of a reader's query."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from cja_sync.warehouse.inline_views import with_views
from cja_sync.warehouse.views import ALL_VIEWS, NEEDED, SETTINGS_TABLE, _translate, sql_text


def qualify(name: str) -> str:
    return f'"ds"."{name}"'


class Client:
    """What with_views uses of dlt's SQL client: its way of qualifying a table name."""

    make_qualified_table_name = staticmethod(qualify)


ALL_CONNECTIONS = {"connections": set(NEEDED["connections"])}
NULLS = (
    "CAST(NULL AS TEXT) AS name, CAST(NULL AS TEXT) AS sandbox_name, CAST(NULL AS BOOLEAN) AS is_disabled, "
    "CAST(NULL AS TIMESTAMPTZ) AS deleted_in_source_at"
)

CASES = [
    # PostgreSQL text, dialect, columns present, local -> translated text
    pytest.param(
        "SELECT c.id FROM connections AS c",
        "duckdb",
        ALL_CONNECTIONS,
        False,
        'SELECT c.id FROM "ds"."connections" AS c',
        id="a table is qualified with the dataset, its alias kept",
    ),
    pytest.param(
        "SELECT connections.id FROM connections",
        "duckdb",
        ALL_CONNECTIONS,
        False,
        'SELECT connections.id FROM "ds"."connections" AS connections',
        id="an unaliased table is aliased by its name so column references still resolve",
    ),
    pytest.param(
        "SELECT c.id FROM connections AS c",
        "duckdb",
        {"connections": {"id", "org_id"}},
        False,
        f'SELECT c.id FROM (SELECT id, org_id, {NULLS} FROM "ds"."connections") AS c',
        id="missing columns are typed NULLs over the table",
    ),
    pytest.param(
        "SELECT c.id FROM connections AS c",
        "duckdb",
        {},
        False,
        "SELECT c.id FROM (SELECT CAST(NULL AS TEXT) AS id, CAST(NULL AS TEXT) AS org_id, "
        f"{NULLS} WHERE FALSE) AS c",
        id="a missing table is no rows of typed NULLs",
    ),
    pytest.param(
        "WITH connections AS (SELECT 1 AS id) SELECT id FROM connections",
        "duckdb",
        {},
        False,
        "WITH connections AS (SELECT 1 AS id) SELECT id FROM connections",
        id="a CTE of the same name is left alone",
    ),
    pytest.param(
        "SELECT * FROM other.connections",
        "duckdb",
        {},
        False,
        "SELECT * FROM other.connections",
        id="a table in a named schema is left alone",
    ),
    pytest.param(
        "SELECT * FROM pg_class",
        "duckdb",
        {},
        False,
        "SELECT * FROM pg_class",
        id="a table not ours is left alone",
    ),
    pytest.param(
        "SELECT * FROM backfill_ages",
        "duckdb",
        {},
        False,
        'SELECT * FROM "ds"."backfill_ages" AS backfill_ages',
        id="a view of ours is qualified",
    ),
    pytest.param(
        "SELECT * FROM backfill_ages",
        "duckdb",
        {},
        True,
        "SELECT * FROM backfill_ages",
        id="local leaves our views to the CTEs",
    ),
    pytest.param(
        "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY v) AS m FROM t",
        "duckdb",
        {},
        False,
        "SELECT QUANTILE_CONT(v, 0.5 ORDER BY v) AS m FROM t",
        id="an ordered-set aggregate in DuckDB's words",
    ),
    pytest.param(
        "SELECT x::DOUBLE PRECISION AS d FROM t",
        "duckdb",
        {},
        False,
        "SELECT CAST(x AS DOUBLE) AS d FROM t",
        id="a PostgreSQL cast in DuckDB's words",
    ),
    pytest.param(
        "SELECT x::DOUBLE PRECISION AS d FROM t",
        "postgres",
        {},
        False,
        "SELECT CAST(x AS DOUBLE PRECISION) AS d FROM t",
        id="PostgreSQL keeps its own type names",
    ),
]


@pytest.mark.parametrize(("text", "dialect", "columns", "local", "translated"), CASES)
def test_translate(
    text: str, dialect: str, columns: dict[str, set[str]], local: bool, translated: str
) -> None:
    assert _translate(text, dialect, qualify, columns, local=local) == translated


def test_settings_table_is_created_in_the_dataset() -> None:
    ddl = _translate(sql_text(SETTINGS_TABLE), "duckdb", qualify, {})
    assert 'CREATE TABLE IF NOT EXISTS "ds"."health_settings" (' in ddl


def _tables(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {f"{t.db}.{t.name}" if t.db else t.name for t in tree.find_all(exp.Table) if t.name not in ctes}


@pytest.mark.parametrize("view", ALL_VIEWS)
def test_before_the_first_load_a_view_reads_only_our_own_objects(view: str) -> None:
    """With no dlt table yet, every table a view needs is a stand-in: the view exists from the
    first sync and reads only health_settings and the views before it, all in the dataset."""
    tables = _tables(_translate(sql_text(view), "duckdb", qualify, {}))
    ours = {f"ds.{name}" for name in (SETTINGS_TABLE, *ALL_VIEWS)}
    assert tables <= ours, tables - ours


SETTINGS = {"b@AdobeOrg": (1.0, 2.0, 3.0, 4.0, 5.0), "a@AdobeOrg": (6.0, 7.0, 8.0, 9.0, 10.0)}


def test_with_views_puts_the_thresholds_in_as_values_in_org_order() -> None:
    sql = with_views(Client(), "SELECT * FROM stuck_backfills", SETTINGS, {})
    assert "(VALUES ('a@AdobeOrg', 6.0, 7.0, 8.0, 9.0, 10), ('b@AdobeOrg', 1.0, 2.0, 3.0, 4.0, 5))" in sql


def test_with_views_without_thresholds_has_no_settings_rows() -> None:
    tree = sqlglot.parse_one(with_views(Client(), "SELECT 1", {}, {}), read="postgres")
    assert isinstance(tree, exp.Query)
    settings = next(cte for cte in tree.ctes if cte.alias == SETTINGS_TABLE)
    assert settings.this.args["where"].sql() == "WHERE FALSE"


def test_with_views_defines_every_view_before_the_readers_own_ctes() -> None:
    query = "WITH mine AS (SELECT * FROM stuck_backfills) SELECT * FROM mine"
    every_column = {table: set(columns) for table, columns in NEEDED.items()}
    tree = sqlglot.parse_one(with_views(Client(), query, SETTINGS, every_column), read="postgres")
    assert isinstance(tree, exp.Query)
    assert [cte.alias for cte in tree.ctes] == [SETTINGS_TABLE, *ALL_VIEWS, "mine"]
    # what is read from the dataset is dlt's tables, never the stored views or thresholds
    assert {t.name for t in tree.find_all(exp.Table) if t.db == "ds"} == set(NEEDED)


def test_with_views_refuses_what_is_not_a_query() -> None:
    with pytest.raises(ValueError, match="not a query: 'DELETE FROM connections'"):
        with_views(Client(), "DELETE FROM connections", SETTINGS, {})
