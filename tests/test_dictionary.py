"""The data dictionary (sql/dictionary.toml): every contract table and view, and their columns,
carry its descriptions as comments on DuckDB and on Postgres; the docs are rendered from it; a
second apply writes nothing; hostile text round-trips; and it names no column the warehouse lacks.

One fully featured sync per warehouse for the whole module: schema info fetched, backfill lists
asked one by one (the `requests_backfills` column), B2B containers and validation errors present."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest

from cja_source.simulator import SimConfig, Simulator
from cja_sync.run.sync import DATA_TABLES, RunOptions, make_pipeline, run_sync
from cja_sync.warehouse.dictionary import (
    DOCS_PATH,
    RENDER_COMMAND,
    apply_comments,
    load_dictionary,
    parse_dictionary,
    render_markdown,
)
from cja_sync.warehouse.views import ALL_VIEWS, SETTINGS_TABLE
from tests.helpers import PG_URL, fast_settings

REPO = Path(__file__).resolve().parents[1]
RUNNER_TABLES = ("sync_runs", SETTINGS_TABLE, "health_alerts", "alert_deliveries")
CONTRACT = {**dict.fromkeys((*DATA_TABLES, *RUNNER_TABLES), "table"), **dict.fromkeys(ALL_VIEWS, "view")}
HOSTILE = (
    "it's O'Brien''s; '); DROP TABLE connections; -- \\' \\\\ E'x' $$ $q$ %s %(x)s {member} "
    '*/ /* " "" ` é – ✓ 😀 \u202e\nsecond line\ttab'
)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(seed=1, connections=40, rate_limit=None)) as simulator:
        yield simulator


def _sync(sim: Simulator, opts: RunOptions) -> dlt.Pipeline:
    # endpoint mode: every backfill list by its own request, so requests_backfills exists too; data
    # view components on, so their tables have every column and requests_dimensions exists
    run_sync(
        fast_settings(sim, fetch_schema_info=True, backfills="endpoint", data_view_components=True), opts
    )
    return make_pipeline(opts)


@pytest.fixture(scope="module")
def duckdb_pipeline(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> dlt.Pipeline:
    tmp = tmp_path_factory.mktemp("dictionary")
    opts = RunOptions(
        destination="duckdb",
        duckdb_path=str(tmp / "w.duckdb"),
        dataset_name="cja",
        pipelines_dir=str(tmp / "pipes"),
    )
    return _sync(sim, opts)


@pytest.fixture(scope="module")
def postgres_pipeline(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dlt.Pipeline]:
    """A fresh schema on the real server; in CI a missing server fails instead of skipping."""
    import psycopg2

    try:
        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except psycopg2.Error as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (CI=true: Postgres tests must run): {exc}")
        pytest.skip("PostgreSQL is not reachable")
    schema = f"cja_t_{uuid.uuid4().hex[:10]}"
    opts = RunOptions(
        destination="postgres",
        dataset_name=schema,
        pipelines_dir=str(tmp_path_factory.mktemp("dictionary_pg")),
    )
    try:
        # set here too: a test that names this fixture gets it before the autouse one below runs
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("DESTINATION__POSTGRES__CREDENTIALS", PG_URL)
            synced = _sync(sim, opts)
        yield synced
    finally:
        conn = psycopg2.connect(PG_URL)
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in (schema, f"{schema}_staging"):
                cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        conn.close()


@pytest.fixture(autouse=True)
def postgres_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # per test: conftest's restore_environ takes back whatever a test leaves in os.environ, and
    # dlt reads the credentials again at each connection
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", PG_URL)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def pipeline(request: pytest.FixtureRequest) -> dlt.Pipeline:
    name = "duckdb_pipeline" if request.param == "duckdb" else "postgres_pipeline"
    return request.getfixturevalue(name)


def comments(pipeline: dlt.Pipeline) -> tuple[dict[str, str | None], dict[str, dict[str, str | None]]]:
    """({object: comment}, {object: {column: comment}}) of the dataset, read the way a BI tool reads
    them (information_schema plus each database's comment functions), not through the module."""
    with pipeline.sql_client() as sql:
        schema = sql.dataset_name
        if pipeline.destination.destination_name == "postgres":
            objects = sql.execute_sql(
                "SELECT table_name, obj_description(format('%%I.%%I', table_schema, table_name)::regclass) "
                "FROM information_schema.tables WHERE table_schema = %s",
                schema,
            )
            columns = sql.execute_sql(
                "SELECT table_name, column_name, col_description(format('%%I.%%I', table_schema, "
                "table_name)::regclass, ordinal_position) FROM information_schema.columns "
                "WHERE table_schema = %s",
                schema,
            )
        else:
            objects = sql.execute_sql(
                "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = %s "
                "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE schema_name = %s",
                schema,
                schema,
            )
            columns = sql.execute_sql(
                "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = %s",
                schema,
            )
    out: dict[str, dict[str, str | None]] = {}
    for table, column, comment in columns or ():
        out.setdefault(table, {})[column] = comment
    return dict(objects or ()), out


def test_every_contract_table_and_view_has_an_entry() -> None:
    book = load_dictionary()
    assert {name: book.entries[name].kind for name in CONTRACT if name in book.entries} == CONTRACT
    assert set(book.entries) == set(CONTRACT), "described objects that are not part of the warehouse"


def test_docs_are_rendered_from_the_dictionary() -> None:
    docs = REPO / DOCS_PATH
    assert docs.exists() and docs.read_text(encoding="utf-8") == render_markdown(), (
        f"{DOCS_PATH} is not the rendering of sql/dictionary.toml; regenerate it: .venv/bin/{RENDER_COMMAND}"
    )


def test_objects_and_columns_carry_their_descriptions(pipeline: dlt.Pipeline) -> None:
    apply_comments(pipeline)
    book = load_dictionary()
    objects, columns = comments(pipeline)
    for name, entry in book.entries.items():
        assert objects.get(name) == entry.description, name
    described = total = 0
    missing = []
    for name in CONTRACT:
        for column, comment in columns[name].items():
            if column.startswith("_dlt"):
                continue
            total += 1
            if comment:
                assert comment == book.column(name, column), f"{name}.{column}"
                described += 1
            else:
                missing.append(f"{name}.{column}")
    assert described / total >= 0.9, f"{described}/{total} columns described; missing: {missing}"
    # the rules apply per column: each family member and dlt's own columns get their own text
    assert columns["sync_runs"]["requests_backfills"] == book.column("sync_runs", "requests_backfills")
    assert "backfill list" in (columns["sync_runs"]["requests_backfills"] or "")
    assert columns["connections"]["_dlt_load_id"] == book.dlt_columns["_dlt_load_id"]


def test_a_second_apply_writes_nothing(pipeline: dlt.Pipeline) -> None:
    apply_comments(pipeline)
    assert apply_comments(pipeline) == 0


def test_the_dictionary_names_no_column_the_warehouse_lacks(pipeline: dlt.Pipeline) -> None:
    """A renamed or dropped column (or object) leaves an entry nothing carries: caught here."""
    _, columns = comments(pipeline)
    stale = [
        f"{name}.{column}"
        for name, entry in load_dictionary().entries.items()
        for column in entry.named_columns()
        if column not in columns.get(name, {})
    ]
    assert stale == []
    # optional columns are those dlt creates only once the API sends a value: never a regular one
    for name, entry in load_dictionary().entries.items():
        assert not set(entry.optional_columns) & set(columns.get(name, {})), name


def test_hostile_text_round_trips(pipeline: dlt.Pipeline) -> None:
    real = load_dictionary()
    hostile = parse_dictionary(
        {
            "dlt": {"variant": HOSTILE},
            "tables": {
                "connections": {"kind": "table", "description": HOSTILE, "columns": {"name": HOSTILE + "1"}},
                "connection_health": {"kind": "view", "description": HOSTILE, "columns": {"as_of": HOSTILE}},
            },
        }
    )
    try:
        assert apply_comments(pipeline, hostile) == 4
        objects, columns = comments(pipeline)
        assert objects["connections"] == objects["connection_health"] == HOSTILE
        assert columns["connections"]["name"] == HOSTILE + "1"
        assert columns["connection_health"]["as_of"] == HOSTILE
        assert apply_comments(pipeline, hostile) == 0
    finally:
        assert apply_comments(pipeline, real) == 4
    objects, _ = comments(pipeline)
    assert objects["connections"] == real.entries["connections"].description


@pytest.mark.postgres
def test_postgres_views_keep_their_comments_when_replaced(
    postgres_pipeline: dlt.Pipeline, sim: Simulator
) -> None:
    """CREATE OR REPLACE VIEW keeps a Postgres view's comments, so an idle sync writes none there;
    DuckDB drops them with the view, and the next apply restores them."""
    from cja_sync.warehouse.views import create_views

    apply_comments(postgres_pipeline)
    cfg = fast_settings(sim)
    create_views(postgres_pipeline, cfg.health, str(cfg.credentials.org_id))
    assert apply_comments(postgres_pipeline) == 0


def test_duckdb_views_get_their_comments_back_after_a_replace(
    duckdb_pipeline: dlt.Pipeline, sim: Simulator
) -> None:
    from cja_sync.warehouse.views import create_views

    apply_comments(duckdb_pipeline)
    cfg = fast_settings(sim)
    create_views(duckdb_pipeline, cfg.health, str(cfg.credentials.org_id))
    assert apply_comments(duckdb_pipeline) > 0
    objects, _ = comments(duckdb_pipeline)
    assert all(objects[v] == load_dictionary().entries[v].description for v in ALL_VIEWS)


def test_rules_for_families_and_variant_columns() -> None:
    book = load_dictionary()
    later = book.column("sync_runs", "requests_some_new_endpoint")
    assert later and "`some_new_endpoint`" in later
    variant = book.column("connections", "num_daily_events__v_text")
    assert variant and "`num_daily_events`" in variant and "(text)" in variant
    assert book.column("connections", "unknown__v_text") is None
    assert book.column("not_ours", "id") is None


@pytest.mark.parametrize(
    "bad",
    [
        {"tables": {"t": {"kind": "tabel", "description": "x", "columns": {"a": "y"}}}},
        {"tables": {"t": {"kind": "table", "description": "", "columns": {"a": "y"}}}},
        {"tables": {"t": {"kind": "table", "description": "x", "columns": {"a": "nul\x00"}}}},
        {"tables": {"t": {"kind": "table", "description": " padded", "columns": {"a": "y"}}}},
        {"tables": {"t": {"kind": "table", "description": "x", "columns": {}}}},
    ],
)
def test_a_malformed_dictionary_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="dictionary"):
        parse_dictionary({"dlt": {"variant": "v"}, **bad})
