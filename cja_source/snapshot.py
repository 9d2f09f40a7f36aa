"""What the warehouse already holds, read at the start of a run: the source asks only for what moved
since then. Read through the running dlt pipeline, so it works in any pipeline that loads the source."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import dlt

from .data_view_rows import read_states
from .records import WarehouseSnapshot
from .stored_backfills import StoredBackfills, rows_table, table_of
from .stored_pairs import StoredPairs

logger = logging.getLogger("cja_source")

HASH_COLUMN = "content_hash"

# stored column -> path inside the API's schemaInfo object
SCHEMA_INFO_COLUMNS = {
    "schema_info__schema_id": ("schemaId",),
    "schema_info__schema_name": ("schemaName",),
    "schema_info__schema_ref__id": ("schemaRef", "id"),
    "schema_info__schema_ref__content_type": ("schemaRef", "contentType"),
}


def table_columns(pipeline: dlt.Pipeline, table: str) -> set[str]:
    schema = pipeline.default_schema if pipeline.default_schema_name else None
    if schema is None or table not in schema.tables:
        return set()
    return set(schema.tables[table].get("columns", {}))


def read_snapshot(pipeline: dlt.Pipeline, org_id: str | None = None) -> WarehouseSnapshot:
    """Read what the warehouse holds of org `org_id` (every org when None: a dataset of one org).
    Anything unreadable counts as absent: a deleted or replaced warehouse means a full reload, never
    a silent gap. Several orgs share one dataset in a fleet: reading another org's rows would make
    its connections look stored and its pairs look unchanged."""
    snap = WarehouseSnapshot()
    if not table_columns(pipeline, "connections"):
        return snap
    try:
        with pipeline.sql_client() as sql:
            q = sql.make_qualified_table_name
            present = existing_tables(sql)
            where, args = ("WHERE org_id = %s", [org_id]) if org_id is not None else ("", [])
            if not {"connections", "datasets"} <= present:
                return snap
            c_hash = _hash_column(pipeline, "connections")
            for cid, first_seen, modified, live, digest in rows_of(
                sql,
                "SELECT id, first_seen_at, modified_date, deleted_in_source_at IS NULL, "
                f"{c_hash} FROM {q('connections')} {where}",
                *args,
            ):
                snap.connections_first_seen[cid] = first_seen
                snap.connections_modified[cid] = modified
                if live:
                    snap.connections_hash[cid] = digest
            info_cols = [c for c in SCHEMA_INFO_COLUMNS if c in table_columns(pipeline, "datasets")]
            extra = "".join(f", {c}" for c in info_cols)
            d_hash = _hash_column(pipeline, "datasets")
            statement = (
                "SELECT connection_id, data_set_id, first_seen_at, backfill_summary__total, "
                "backfill_summary__failed, backfill_summary__in_progress, backfill_summary__completed, "
                f"deleted_in_source_at IS NULL, {d_hash}{extra} FROM {q('datasets')} {where}"
            )
            snap.pairs = _stored_pairs(sql, statement, args, info_cols, _is_duckdb(pipeline))
            # a pair whose stored backfills do not add up to its stored summary (a load cut short,
            # rows removed by hand) is asked again, whatever the summary says
            for key in _short_pairs(sql, q, "backfills" in present, where, args):
                snap.pairs.forget_summary(key)
            if "backfills" in present:
                select = (
                    f"SELECT connection_id, data_set_id, id, first_seen_at, status FROM {q('backfills')} "
                    f"{where} ORDER BY connection_id, data_set_id"
                )
                snap.backfills_reader = partial(_reread_backfills, pipeline, select, args)
            if "data_views" in present:
                columns = table_columns(pipeline, "data_views")
                snap.data_views = read_states(sql, q("data_views"), columns, where, args)
            if "sync_runs" in present:
                for org, started in rows_of(
                    sql,
                    f"SELECT org_id, MAX(started_at) FROM {q('sync_runs')} "
                    "WHERE status = 'succeeded' GROUP BY org_id",
                ):
                    if org and started:
                        snap.last_success_at[org] = started
            if "data_source_types" in present and "last_seen_at" in table_columns(
                pipeline, "data_source_types"
            ):
                for locale, seen in rows_of(
                    sql, f"SELECT locale, MIN(last_seen_at) FROM {q('data_source_types')} GROUP BY locale"
                ):
                    if locale and seen:
                        snap.data_source_types_seen[locale] = seen
    except Exception as exc:  # noqa: BLE001 - a warehouse we cannot read is a warehouse to reload
        logger.warning("could not read the warehouse (%s); doing a full sync", type(exc).__name__)
        return WarehouseSnapshot()
    return snap


def _stored_pairs(
    sql: Any, statement: str, args: list[Any], info_cols: list[str], duckdb: bool
) -> StoredPairs:
    """The datasets query's rows as StoredPairs columns. DuckDB hands them over as Arrow, and the
    first-seen times stay Arrow until a pair is asked for (a datetime per pair was most of the
    cost); other drivers give tuples, a chunk at a time."""
    columns: list[list[Any]] = [[] for _ in range(9 + len(info_cols))]
    shared: dict[str, str] = {}  # a connection's id once, not once per dataset

    def add(chunk_columns: Sequence[Sequence[Any]]) -> None:
        for i, (column, values) in enumerate(zip(columns, chunk_columns, strict=True)):
            column.extend((shared.setdefault(c, c) for c in values) if i == 0 else values)

    if duckdb:
        import pyarrow as pa

        times: list[Any] = []
        for batch in _arrow_batches(sql, statement, args):  # no second copy of every row
            times.append(batch.column(2))
            add([() if i == 2 else batch.column(i).to_pylist() for i in range(batch.num_columns)])
        # copied out: a column DuckDB exported keeps its whole batch alive (~20 MB of ids and
        # digests on the maximal org, after the snapshot is released)
        first_seen_column = pa.concat_arrays(times) if times else None
        del times

        def first_seen(i: int) -> Any:
            return first_seen_column[i].as_py() if first_seen_column is not None else None

    else:
        for chunk in _chunks(sql, statement, args):
            if chunk:
                add(list(zip(*chunk, strict=True)))

        stored_times = columns[2]  # not `columns`, which would keep every column alive

        def first_seen(i: int) -> Any:
            return stored_times[i]

    cids, dsids, totals, failed, in_progress, completed, live, digests = (
        columns[0],
        columns[1],
        *columns[3:9],
    )
    summaries = [
        None if t is None else (int(t), int(f or 0), int(p or 0), int(c or 0))
        for t, f, p, c in zip(totals, failed, in_progress, completed, strict=True)
    ]
    infos: dict[int, dict[str, Any]] = {}
    for col, values in zip(info_cols, columns[9:], strict=True):
        *parents, leaf = SCHEMA_INFO_COLUMNS[col]
        for i, value in enumerate(values):
            if value is not None:
                node = infos.setdefault(i, {})
                for parent in parents:
                    node = node.setdefault(parent, {})
                node[leaf] = value
    live_flags = [bool(v) for v in live]
    return StoredPairs(
        list(zip(cids, dsids, strict=True)),
        first_seen,
        summaries,
        [d if v else None for d, v in zip(digests, live_flags, strict=True)],
        live_flags,
        infos,
    )


def _short_pairs(sql: Any, q: Any, has_backfills: bool, where: str, args: list[Any]) -> list[tuple[str, str]]:
    """Pairs with a stored summary whose total is not the count of their stored backfills."""
    d_where = where.replace("org_id", "d.org_id")
    if not has_backfills:
        statement = (
            f"SELECT d.connection_id, d.data_set_id FROM {q('datasets')} d {d_where}"
            f"{' AND' if d_where else ' WHERE'} COALESCE(d.backfill_summary__total, 0) <> 0"
        )
        return [(r[0], r[1]) for r in rows_of(sql, statement, *args)]
    statement = (
        f"SELECT d.connection_id, d.data_set_id FROM {q('datasets')} d LEFT JOIN ("
        f"SELECT connection_id, data_set_id, COUNT(*) AS n FROM {q('backfills')} {where} "
        "GROUP BY connection_id, data_set_id) b "
        "ON b.connection_id = d.connection_id AND b.data_set_id = d.data_set_id "
        f"{d_where}{' AND' if d_where else ' WHERE'} d.backfill_summary__total IS NOT NULL "
        "AND d.backfill_summary__total <> COALESCE(b.n, 0)"
    )
    return [(r[0], r[1]) for r in rows_of(sql, statement, *args, *args)]


def _chunks(sql: Any, statement: str, args: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a query, SNAPSHOT_CHUNK_ROWS at a time (not one list of every row)."""
    with sql.execute_query(statement, *args) as cursor:
        yield from cursor.iter_fetch(SNAPSHOT_CHUNK_ROWS)


def _reread_backfills(pipeline: dlt.Pipeline, statement: str, args: list[Any]) -> StoredBackfills:
    """The stored backfills, read when a pair first needs them (WarehouseSnapshot.backfills_reader).
    Runs during the extract: only this org's runs write its rows, and they hold the org's lock."""
    with pipeline.sql_client() as sql:
        return _read_backfills(sql, statement, args, duckdb=_is_duckdb(pipeline))


# rows of the backfills table fetched at a time (a driver without Arrow results)
SNAPSHOT_CHUNK_ROWS = 50_000


def _read_backfills(sql: Any, statement: str, args: list[Any], duckdb: bool) -> StoredBackfills:
    """Every stored backfill of the org as Arrow, by pair (stored_backfills.py): DuckDB hands its
    result over as Arrow batches, other drivers a chunk of tuples at a time."""
    if duckdb:
        return StoredBackfills(table_of(list(_arrow_batches(sql, statement, args))))
    return StoredBackfills(table_of([rows_table(chunk) for chunk in _chunks(sql, statement, args)]))


def _arrow_batches(sql: Any, statement: str, args: list[Any]) -> Any:
    """A DuckDB query's result as Arrow record batches of SNAPSHOT_CHUNK_ROWS rows. A relation's
    reader: Arrow output of a DB-API result warns (on stderr, which a cron job's one line must not
    carry) that it copies the rows once more."""
    relation = sql.native_connection.sql(statement.replace("%s", "?"), params=list(args))
    read = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    return read(SNAPSHOT_CHUNK_ROWS)


def _is_duckdb(pipeline: dlt.Pipeline) -> bool:
    return pipeline.destination.destination_name in ("duckdb", "motherduck")


def _hash_column(pipeline: dlt.Pipeline, table: str) -> str:
    """The stored digest (changes.py), or NULL in a warehouse written before digests existed."""
    return HASH_COLUMN if HASH_COLUMN in table_columns(pipeline, table) else "NULL"


def rows_of(sql: Any, statement: str, *args: Any) -> Sequence[Sequence[Any]]:
    """The rows of a query (dlt's execute_sql answers None for a statement without a result)."""
    return sql.execute_sql(statement, *args) or ()


def existing_tables(sql: Any) -> set[str]:
    """Tables that exist in the destination (dlt's schema also knows tables that never got a row)."""
    rows = rows_of(
        sql, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", sql.dataset_name
    )
    return {r[0] for r in rows or ()}
