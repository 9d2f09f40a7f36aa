"""Values that do not fit are data, not failures (issue 27): a number outside int64 anywhere in an
item is stored as a double in dlt's `<column>__v_double` column, on DuckDB and Postgres alike, and
warned about naming the connection and the field; the rest of the org lands."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from cja_sync.run.sync import run_sync

from ..helpers import fast_settings, query
from ..truth_compare import assert_matches_truth

WIDE = 2**64 + 7  # the issue's value: beyond what orjson reads as an integer, so a float
BIG = float(WIDE)


def _columns(opts, table: str) -> set[str]:
    rows = query(
        opts,
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = '{opts.dataset_name}' AND table_name = '{table}'",
    )
    return {c for (c,) in rows}


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_num_daily_events_beyond_int64_on_one_connection(make_sim, duckdb_opts, pg_opts, warehouse, caplog):
    """numDailyEvents, already a BIGINT column from the first sync, arrives as 2**64 + 7 on one
    connection: the sync succeeds, the other changes land, the value is kept as a double."""
    sim = make_sim(connections=8, max_datasets_per_connection=3)
    cfg = fast_settings(sim)
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    run_sync(cfg, opts)
    odd, other = sim.connection_ids()[7], sim.connection_ids()[2]
    sim.set_daily_events(odd, WIDE)
    sim.set_daily_events(other, 1234)
    new = sim.add_connection(name="arrived with the odd one")
    sim.modify_connection(other, name="renamed with the odd one")
    with caplog.at_level(logging.WARNING, logger="cja_source"):
        summary = run_sync(cfg, opts)
    assert summary.status == "succeeded"
    assert_matches_truth(opts, sim.truth())  # the other changes landed
    stored = query(opts, "SELECT id, num_daily_events, num_daily_events__v_double FROM {t}connections")
    by_id = {cid: (n, wide) for cid, n, wide in stored}
    assert by_id[odd] == (None, BIG)
    assert by_id[other] == (1234, None)
    assert by_id[new][1] is None and isinstance(by_id[new][0], int)
    volume = query(
        opts,
        "SELECT num_daily_events, num_daily_events__v_double FROM {t}connection_volume_history "
        f"WHERE connection_id = '{odd}' ORDER BY observed_at",
    )
    assert volume[-1] == (None, BIG) and isinstance(volume[0][0], int)
    warned = [r.getMessage() for r in caplog.records if "does not fit a 64-bit integer" in r.getMessage()]
    assert warned == [
        f"connection {odd}: numDailyEvents = 1.8446744073709552e+19 does not fit a 64-bit integer; "
        "stored as a double in its __v_double column"
    ]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    sim.set_daily_events(odd, 42)  # back in range: the column is written again
    run_sync(cfg, opts)
    assert query(
        opts, f"SELECT num_daily_events, num_daily_events__v_double FROM {{t}}connections WHERE id = '{odd}'"
    ) == [(42, None)]


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_wide_numbers_anywhere_in_connections_datasets_and_backfills(
    make_sim, duckdb_opts, pg_opts, warehouse
):
    """A field Adobe adds is a BIGINT column after one sync; then it, an object inside it and a
    list arrive with numbers beyond int64, in every connection, dataset and backfill (Arrow paths
    included, which fall back to rows), and a backfillSummary total too."""
    sim = make_sim(connections=5, max_datasets_per_connection=3, inline_backfills=False)
    cfg = fast_settings(sim, backfills="endpoint")
    opts = duckdb_opts() if warehouse == "duckdb" else pg_opts()
    sim.faults.extra_fields = {"counter": 5}
    run_sync(cfg, opts)
    sim.faults.extra_fields = {"counter": WIDE, "sizes": {"big": -(2**70), "small": 3}, "parts": [1, 2**65]}
    sim.faults.type_changes = {
        "backfillSummary": {"total": 2**63, "failed": 0, "inProgress": 0, "completed": 0}
    }
    run_sync(cfg, replace(opts, full=True))
    for table in ("connections", "datasets", "backfills"):
        assert query(opts, f"SELECT DISTINCT counter, counter__v_double FROM {{t}}{table}") == [(None, BIG)]
        assert query(opts, f"SELECT DISTINCT sizes__big__v_double, sizes__small FROM {{t}}{table}") == [
            (-(2.0**70), 3)
        ]
        child = sorted(query(opts, f"SELECT value, value__v_double FROM {{t}}{table}__parts"), key=repr)
        assert (1, None) in child and (None, 2.0**65) in child, child
        assert {"counter", "counter__v_double"} <= _columns(opts, table)
    assert query(opts, "SELECT DISTINCT backfill_summary__total__v_double FROM {t}datasets") == [(2.0**63,)]

    sim.faults.reset()
    run_sync(cfg, replace(opts, full=True))
    assert_matches_truth(opts, sim.truth())


def test_fit_wide_numbers_rule(caplog) -> None:
    """The rule itself: only numbers outside int64 move (its bounds stay), in objects and lists;
    a row without any is returned as it is; one warning per field."""
    from cja_source.records import fit_wide_numbers

    plain = {"a": 2**63 - 1, "b": -(2**63), "c": -(2.0**63), "d": 1.5, "e": True, "f": [1, {"g": "x"}]}
    assert fit_wide_numbers(plain, "connection c") is plain
    row = {"n": 2**63, "o": {"p": -(2**64)}, "q": [2.0**70, {"r": 2**64 + 7}], "s": [1e300, 1e300]}
    with caplog.at_level(logging.WARNING, logger="cja_source"):
        fitted = fit_wide_numbers(row, "connection c")
    assert fitted == {
        "n": {"v_double": 2.0**63},
        "o": {"p": {"v_double": -(2.0**64)}},
        "q": [{"value": {"v_double": 2.0**70}}, {"r": {"v_double": float(2**64 + 7)}}],
        "s": [{"value": {"v_double": 1e300}}, {"value": {"v_double": 1e300}}],
    }
    assert row["n"] == 2**63  # the item itself is left alone
    fields = [r.getMessage().split(" = ")[0] for r in caplog.records]
    assert fields == [
        "connection c: n",
        "connection c: o.p",
        "connection c: q[]",
        "connection c: q[].r",
        "connection c: s[]",
    ]
