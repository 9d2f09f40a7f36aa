"""Every stored backfill of an org (id, first-seen time, status) kept as Arrow columns grouped by
(connection, dataset) pair, for the few pairs a re-sync asks again.

A maximal org stores ~500k backfills. Read as Python tuples into a dict by id they took ~4.8 s and
~150 MB of an idle re-sync that asks for none of them (bench P8); as Arrow, read natively from
DuckDB, they take a fraction of both, and a pair's dicts are made only when its list is asked.
No I/O here: snapshot.py fills it."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

COMPLETED = "COMPLETED"
UTC_US = pa.timestamp("us", tz="UTC")


class StoredBackfills:
    """Rows (connection_id, data_set_id, id, first_seen_at, status) ordered by pair."""

    def __init__(self, table: pa.Table) -> None:
        n = table.num_rows
        cids = table.column(0).combine_chunks() if n else pa.array([], pa.string())
        dsids = table.column(1).combine_chunks() if n else pa.array([], pa.string())
        starts: list[int] = []
        if n:
            moved = pc.or_(
                pc.not_equal(cids.slice(1), cids.slice(0, n - 1)),
                pc.not_equal(dsids.slice(1), dsids.slice(0, n - 1)),
            )
            starts = [0, *(i + 1 for i in pc.indices_nonzero(pc.fill_null(moved, True)).to_pylist())]
        ends = [*starts[1:], n] if starts else []
        at = pa.array(starts, pa.int64())
        keys = zip(cids.take(at).to_pylist(), dsids.take(at).to_pylist(), strict=True)
        self.spans: dict[tuple[str, str], tuple[int, int]] = {
            (str(c), str(d)): (s, e) for (c, d), s, e in zip(keys, starts, ends, strict=True)
        }
        self.rows = table.select([2, 3, 4])
        self.count = n

    def of_pair(self, connection_id: str, data_set_id: str) -> tuple[dict[str, datetime], dict[str, str]]:
        """(first seen by id, status by id of those not COMPLETED) of one pair's stored backfills."""
        span = self.spans.get((connection_id, data_set_id))
        if span is None:
            return {}, {}
        part = self.rows.slice(span[0], span[1] - span[0])
        ids = part.column(0).to_pylist()
        first_seen = dict(zip(ids, part.column(1).to_pylist(), strict=True))
        status = {bid: s for bid, s in zip(ids, part.column(2).to_pylist(), strict=True) if s != COMPLETED}
        return first_seen, status


def table_of(chunks: list[pa.Table] | list[pa.RecordBatch]) -> pa.Table:
    """One table of the chunks a query gave, its timestamps in UTC and its statuses dictionary-encoded."""
    if not chunks:
        return pa.table(
            {
                "connection_id": pa.array([], pa.string()),
                "data_set_id": pa.array([], pa.string()),
                "id": pa.array([], pa.string()),
                "first_seen_at": pa.array([], UTC_US),
                "status": pa.array([], pa.string()),
            }
        )
    tables = [c if isinstance(c, pa.Table) else pa.Table.from_batches([c]) for c in chunks]
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.set_column(4, "status", pc.dictionary_encode(table.column(4)))


def rows_table(rows: list[tuple[object, ...]]) -> pa.Table:
    """A chunk of fetched tuples as Arrow (a driver without Arrow results: Postgres)."""
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return pa.table(
        {
            "connection_id": pa.array(cols[0], pa.string()),
            "data_set_id": pa.array(cols[1], pa.string()),
            "id": pa.array(cols[2], pa.string()),
            "first_seen_at": pa.array(cols[3], UTC_US),
            "status": pa.array(cols[4], pa.string()),
        }
    )
